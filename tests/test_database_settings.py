"""DATABASE_URL picks the engine; each engine gets only the options it understands."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from library.settings import _database_config

SQLITE_ONLY = {"transaction_mode", "init_command", "timeout"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DATABASE_URL", "DB_CONN_MAX_AGE", "DB_CONNECT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_a_postgres_url_gets_pooled_health_checked_connections(monkeypatch, scheme):
    monkeypatch.setenv("DATABASE_URL", f"{scheme}://dossier:s3cr%40t@db.internal:5433/dossier")
    config = _database_config()
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "dossier")
    assert config["PASSWORD"] == "s3cr@t"
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"] == {"connect_timeout": 10}


def test_postgres_options_in_the_url_are_kept_and_tunable(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/d?sslmode=require")
    monkeypatch.setenv("DB_CONN_MAX_AGE", "0")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "3")
    config = _database_config()
    assert config["OPTIONS"] == {"sslmode": "require", "connect_timeout": 3}
    assert config["CONN_MAX_AGE"] == 0


def test_sqlite_keeps_its_write_lock_options_and_short_connections(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    config = _database_config()
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert set(config["OPTIONS"]) == SQLITE_ONLY
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://u@h/d", "use a sqlite:/// or postgres:// URL"),
        ("DATABASE_URL", "nonsense://x", "is not understood"),
        ("DB_CONN_MAX_AGE", "forever", "DB_CONN_MAX_AGE='forever' is not a whole number"),
        ("DB_CONNECT_TIMEOUT", "0", "DB_CONNECT_TIMEOUT='0' must be at least 1"),
    ],
)
def test_a_bad_database_setting_names_itself(monkeypatch, variable, value, message):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/d")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        _database_config()
