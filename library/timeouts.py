"""A time limit on the SQL of every web request, so a runaway query fails fast.

On PostgreSQL each request first sets ``statement_timeout`` (``DB_STATEMENT_TIMEOUT``
seconds, default 15; 0 turns it off) on its connection. A statement that runs longer is
cancelled by the server: the request answers 503 with a page that says so, and the log
names the path and the statement, instead of a worker and the locks it holds being tied up
until the load balancer gives up. Management commands never pass through here, so long
bulk work (``rebuild_index``, imports) keeps the server's own limit (none by default).

SQLite has no statement limit and needs none: its queries cannot wait on another
client's locks past the connection's own ``timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (query_canceled).
QUERY_CANCELED = "57014"


def is_statement_timeout(error: BaseException) -> bool:
    """Whether ``error`` is PostgreSQL cancelling a statement that ran out of time."""
    cause = error.__cause__ if isinstance(error, OperationalError) else error
    return getattr(cause, "sqlstate", None) == QUERY_CANCELED


class StatementTimeoutMiddleware:
    """Bound each request's statements on PostgreSQL; turn a cancelled one into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = settings.DB_STATEMENT_TIMEOUT
        if not seconds or connection.vendor != "postgresql":
            return self.get_response(request)
        with connection.cursor() as cursor:
            # A session setting: it stays with the connection, which only requests use.
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{seconds}s"])
        with connection.execute_wrapper(_LogCancelledStatement(request)):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_statement_timeout(exception):
            return None
        response = render(
            request,
            "503.html",
            {"seconds": settings.DB_STATEMENT_TIMEOUT},
            status=503,
        )
        response["Retry-After"] = "30"
        return response


class _LogCancelledStatement:
    """An execute wrapper that logs which statement of which request ran out of time."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context):
        try:
            return execute(sql, params, many, context)
        except OperationalError as error:
            if is_statement_timeout(error):
                logger.error(
                    "statement cancelled after DB_STATEMENT_TIMEOUT=%ss on %s %s: %s",
                    settings.DB_STATEMENT_TIMEOUT,
                    self.request.method,
                    self.request.get_full_path()[:500],
                    " ".join(sql.split())[:2000],
                )
            raise
