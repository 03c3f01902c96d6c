"""``/health/``: 200 with per-check JSON when healthy, 503 naming the failed check."""

from __future__ import annotations

import types

import pytest
from django.db import connection
from django.urls import reverse

from library import health

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_search_health(monkeypatch):
    monkeypatch.setattr(health, "search_health_function", lambda: None)


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


def test_a_search_health_function_is_called_when_the_search_package_has_one(client, monkeypatch):
    fake = types.SimpleNamespace(health=lambda: {"engine": "database", "documents": 7})
    monkeypatch.setattr(health.importlib, "import_module", lambda name: fake)
    body = client.get(reverse("health")).json()
    assert body["checks"]["search"]["engine"] == "database"
    assert body["checks"]["search"]["ok"] is True


@pytest.mark.parametrize(
    "search_health",
    [lambda: {"ok": False, "missing": 3}, lambda: 1 / 0],
    ids=["reports-failure", "raises"],
)
def test_a_failing_search_engine_makes_the_instance_unavailable(client, monkeypatch, search_health):
    monkeypatch.setattr(health, "search_health_function", lambda: search_health)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["search"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_without_a_search_health_function_only_the_database_is_checked(client, monkeypatch):
    monkeypatch.setattr(health.importlib, "import_module", lambda name: types.SimpleNamespace())
    assert set(client.get(reverse("health")).json()["checks"]) == {"database"}
