"""Web requests on PostgreSQL stop a statement that runs too long and answer 503.

A lock held by another session stands in for a runaway query: the page's first statement
on the locked table waits, the server cancels it at ``DB_STATEMENT_TIMEOUT``, and the
reader gets a page that says so while the log names the request and the statement.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection

from tests.browser.conftest import running_statements

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _other_session():
    """A connection of its own, as another client of the same database would have."""
    return connection.get_new_connection(connection.get_connection_params())


@pytest.fixture
def piece_table_locked():
    other = _other_session()
    other.autocommit = False
    with other.cursor() as cursor:
        cursor.execute("LOCK TABLE catalogue_piece IN ACCESS EXCLUSIVE MODE")
    yield
    other.rollback()
    other.close()


def test_a_request_whose_statement_runs_too_long_answers_503_and_logs_it(
    client, settings, caplog, vocabulary, piece_table_locked
):
    # ``vocabulary``: an earlier transactional test's flush may have removed the region,
    # and a filter on an unknown region answers without reading the piece table.
    settings.DB_STATEMENT_TIMEOUT = 1
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="library.timeouts"):
        response = client.get("/pieces/", {"year": "2016"})  # reads the locked table
    assert time.monotonic() - started < 30  # the lock is held for as long as the test runs
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "took too long" in response.content.decode()
    (record,) = [r for r in caplog.records if r.name == "library.timeouts"]
    message = record.getMessage()
    assert "DB_STATEMENT_TIMEOUT=1s on GET /pieces/?year=2016" in message
    assert "catalogue_piece" in message


def test_requests_bound_their_statements_and_other_sessions_are_left_alone(client, settings):
    settings.DB_STATEMENT_TIMEOUT = 7
    assert client.get("/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "7s"
    # A management command opens its own connection: no limit unless it sets one.
    other = _other_session()
    try:
        with other.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
    finally:
        other.close()


def test_a_zero_timeout_leaves_the_request_unbounded(client, settings):
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # whatever an earlier request left
    settings.DB_STATEMENT_TIMEOUT = 0
    assert client.get("/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_a_browser_failure_report_names_the_statements_still_running():
    other = _other_session()
    sleeper = threading.Thread(target=lambda: other.execute("SELECT pg_sleep(4)"))
    sleeper.start()
    try:
        deadline = time.monotonic() + 10
        found: list[str] = []
        while not found and time.monotonic() < deadline:
            time.sleep(0.3)
            found = [s for s in running_statements(min_seconds=1) if "pg_sleep(4)" in s]
        assert found, "the sleeping statement was never reported"
        assert "active" in found[0]
    finally:
        sleeper.join()
        other.close()
