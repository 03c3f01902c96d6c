"""Configuration from the environment: loud on bad values, safe in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "q8Vz-3mL_pW9rT2xN7bK4cY6hJ1dF5gS0aE8uI3oP2lZ7vX9nM4bQ6wR1tY5",
    "ALLOWED_HOSTS": "dossier.example.org",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    for name in (
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    ):
        clean.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "library.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    assert "ALLOWED_HOSTS must be set" in manage("check", **env).stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("PAGE_SIZE", "lots", "PAGE_SIZE='lots' is not a whole number"),
        ("DATABASE_URL", "mongodb://db/x", "DATABASE_URL='mongodb://db/x'"),
        ("MAX_UPLOAD_BYTES", "-5", "MAX_UPLOAD_BYTES='-5' must be at least"),
        ("CITATION_CACHE_ENTRIES", "0", "CITATION_CACHE_ENTRIES='0' must be at least 1"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_development_needs_no_configuration_at_all(tmp_path):
    result = manage("check", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
