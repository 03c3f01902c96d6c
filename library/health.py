"""``/health/``: may a load balancer send this instance traffic?

Answers 200 with a JSON body when every check passes and 503 when one fails, so a load
balancer or an orchestrator can take a broken instance out of rotation. Checks:

- ``database``: a round trip (``SELECT 1``) on the default connection.
- ``search``: the configured engine's own ``problems()`` (a missing or unreadable index,
  a text index an interrupted rebuild left out), through ``library.search.maintenance``.
  It returns the engine's name and how many problems it found; the problems themselves
  go to the log.

Failures are logged with their traceback; the response names only the exception's class,
so nothing about the deployment leaks to whoever can reach the endpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from library.search.maintenance import health as search_health

logger = logging.getLogger(__name__)


def check_database() -> dict[str, Any]:
    """One round trip on the connection requests use; raises if the database is unreachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise RuntimeError("SELECT 1 did not return 1")
    return {"vendor": connection.vendor}


def _run(name: str, check: Callable[[], Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        details = check() or {}
        ok = bool(details.get("ok", True)) if isinstance(details, dict) else True
    except Exception as exc:
        logger.exception("Health check %r failed", name)
        details, ok = {"error": type(exc).__name__}, False
    else:
        if not ok:
            logger.error("Health check %r reported a failure: %r", name, details)
    result = {**(details if isinstance(details, dict) else {"detail": details}), "ok": ok}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def run_checks() -> dict[str, dict[str, Any]]:
    """Every check's result, keyed by name."""
    checks: dict[str, Callable[[], Any]] = {"database": check_database, "search": search_health}
    return {name: _run(name, check) for name, check in checks.items()}


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, 503 otherwise; the body lists each check."""
    checks = run_checks()
    ok = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status=200 if ok else 503,
    )
