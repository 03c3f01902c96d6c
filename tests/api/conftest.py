"""API fixtures: tokens for an editor and a reader, a JSON-speaking client, a clean rate cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from library.api.tokens import issue_token


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def editor_token(editor) -> str:
    return issue_token(editor, "test script")[1]


@pytest.fixture
def reader_token(reader) -> str:
    return issue_token(reader, "reader script")[1]


@pytest.fixture
def bearer():
    def headers(token: str) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    return headers
