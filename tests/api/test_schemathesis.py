"""Schemathesis against the live server with the demo catalogue: no 5xx, nothing off-schema.

Every operation of the OpenAPI document gets its documented examples and a fixed, small
number of generated requests, derandomized (the same ones on every run), sent over real HTTP
with an editor's token so the write operations are exercised too; operations that take
input also get a few requests that break the document's rules, which must be refused with a
4xx, never a server error. The test is transactional: what the writes
change is flushed afterwards and never reaches another test.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from library.api.tokens import issue_token
from library.catalogue.demo import load_demo
from library.catalogue.vocabulary import load_vocabulary

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def run(
    strategy,
    base_url: str,
    headers: dict[str, str],
    seen: set[tuple[str, int]],
    *,
    checks=CHECKS,
    examples: int = EXAMPLES_PER_OPERATION,
) -> None:
    @hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case) -> None:
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=checks)
        seen.add((f"{case.method} {case.path}", response.status_code))

    check()


def test_every_operation_answers_within_its_schema(live_server, editor, settings):
    settings.DOSSIER_API_RATE_AUTH = 100_000
    load_vocabulary()
    load_demo()
    headers = {"Authorization": f"Bearer {issue_token(editor, 'schemathesis')[1]}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")
    started = time.monotonic()
    operations = 0
    seen: set[tuple[str, int]] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        # The document's own examples first (real keys and slugs of the demo catalogue),
        # then generated requests.
        strategies = [*operation.get_strategies_from_examples(), operation.as_strategy()]
        for strategy in strategies:
            run(strategy, live_server.url, headers, seen)
        # Then requests that break the document's rules: refused, never a server error.
        if operation.path_parameters or operation.query or operation.body:
            invalid = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
            run(invalid, live_server.url, headers, seen, checks=[not_a_server_error], examples=5)
    assert operations == 20
    # The examples reached real rows: a piece was read, created, changed and deleted.
    for expected in [
        ("GET /api/pieces/{key}/", 200),
        ("POST /api/pieces/", 201),
        ("PATCH /api/pieces/{key}/", 200),
        ("DELETE /api/pieces/{key}/", 204),
        ("GET /api/topics/{slug}/", 200),
        ("GET /api/search/", 200),
        ("GET /api/styles/", 200),
    ]:
        assert expected in seen
    assert time.monotonic() - started < 120
