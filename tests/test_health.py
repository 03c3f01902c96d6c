"""``/health/``: 200 with per-check JSON when healthy, 503 naming the failed check."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from library import health

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_search_health(monkeypatch):
    monkeypatch.setattr(health, "search_health", lambda: {"engine": "stub"})


def test_a_healthy_instance_answers_200_with_each_check(client, no_search_health):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["vendor"] == connection.vendor
    assert body["checks"]["database"]["ms"] >= 0


def test_anonymous_visitors_may_probe_and_head_works(client, no_search_health):
    assert client.head(reverse("health")).status_code == 200


def test_writes_are_refused(client):
    assert client.post(reverse("health")).status_code == 405


def test_an_unreachable_database_gives_503_without_leaking_details(
    client, monkeypatch, caplog, no_search_health
):
    def broken() -> dict:
        raise OSError("connection to server at 10.0.0.5 port 5432 refused; password=hunter2")

    monkeypatch.setattr(health, "check_database", broken)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {
        "error": "OSError",
        "ok": False,
        "ms": pytest.approx(0, abs=1000),
    }
    assert "hunter2" not in response.content.decode()
    assert "10.0.0.5" not in response.content.decode()
    # The operator still gets the full story in the log.
    assert "hunter2" in caplog.text


def test_the_search_check_asks_the_configured_engine_for_its_problems(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    search = response.json()["checks"]["search"]
    assert search["engine"] == "database"
    assert search["problems"] == 0
    assert search["ok"] is True


def test_a_dropped_index_table_makes_the_instance_unavailable(client, caplog):
    from library.search.backends.database.postgres.schema import DOC_TABLE
    from library.search.backends.database.sqlite.compiler import FTS_TABLE

    table = FTS_TABLE if connection.vendor == "sqlite" else DOC_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")  # undone with the test's transaction
    response = client.get(reverse("health"))
    assert response.status_code == 503
    search = response.json()["checks"]["search"]
    assert search["ok"] is False
    assert search["problems"] >= 1
    assert table not in response.content.decode()  # named in the log, not to the public
    assert table in caplog.text


def test_a_corrupt_whoosh_index_makes_the_instance_unavailable(client, settings, tmp_path):
    pytest.importorskip("whoosh")
    from library.search import state
    from library.search.backends import get_backend

    settings.SEARCH_BACKEND = "whoosh"
    settings.WHOOSH_INDEX_DIR = tmp_path / "whoosh-index"
    get_backend().clear()
    assert client.get(reverse("health")).status_code == 200
    for toc in get_backend().index_folder().glob("*.toc"):
        toc.write_bytes(b"not a table of contents")
    state.reset()  # open the index afresh, as a newly started process would
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["search"] == {
        "engine": "whoosh",
        "problems": 1,
        "pending_writes": 0,
        "ok": False,
        "ms": pytest.approx(0, abs=10_000),
    }


@pytest.mark.parametrize(
    "search_health",
    [lambda: {"ok": False, "missing": 3}, lambda: 1 / 0],
    ids=["reports-failure", "raises"],
)
def test_a_failing_search_engine_makes_the_instance_unavailable(client, monkeypatch, search_health):
    monkeypatch.setattr(health, "search_health", search_health)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["search"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True
