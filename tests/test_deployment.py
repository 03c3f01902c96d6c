"""Production serving for real: gunicorn + whitenoise with DEBUG=0, JSON logs, /health/."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from library.jsonlog import JSONFormatter

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def record(name: str, message: str, args=(), **extra) -> logging.LogRecord:
    entry = logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)
    entry.__dict__.update(extra)
    return entry


def test_a_log_record_becomes_one_line_of_json():
    try:
        raise ValueError("bad {brace} & <tag>")
    except ValueError:
        exc_info = sys.exc_info()
    entry = record("library.search", "Zoë said %s\nthen left", ("“hi”",))
    entry.exc_info = exc_info
    line = JSONFormatter().format(entry)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "Zoë said “hi”\nthen left"
    assert data["level"] == "ERROR"
    assert data["logger"] == "library.search"
    assert data["time"].endswith("+00:00")
    assert "ValueError: bad {brace} & <tag>" in data["exception"]


def test_a_django_request_error_carries_the_request_and_status(rf):
    entry = record("django.request", "Internal Server Error", request=rf.get("/pieces/"))
    entry.status_code = 500
    data = json.loads(JSONFormatter().format(entry))
    assert (data["method"], data["path"], data["status"]) == ("GET", "/pieces/", 500)


def test_a_gunicorn_access_line_keeps_its_fields():
    atoms = {"m": "GET", "U": "/health/", "q": "", "s": "200", "B": 45, "M": 3, "h": "-"}
    data = json.loads(JSONFormatter().format(record("gunicorn.access", "%(U)s", atoms)))
    assert data["message"] == "/health/"
    assert {k: data[k] for k in ("method", "path", "status", "bytes", "duration_ms")} == {
        "method": "GET",
        "path": "/health/",
        "status": "200",
        "bytes": 45,
        "duration_ms": 3,
    }
    assert "query" not in data  # empty atoms are left out
    assert "remote" not in data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "LOG_FORMAT", "SEARCH_BACKEND"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="library.settings",
        DEBUG="0",
        SECRET_KEY="q8Vz-3mL_pW9rT2xN7bK4cY6hJ1dF5gS0aE8uI3oP2lZ7vX9nM4bQ6wR1tY5",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        WHOOSH_INDEX_DIR=str(tmp_path / "whoosh"),
    )
    return env


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def gunicorn_server(tmp_path):
    """One gunicorn instance with DEBUG=0 on a migrated SQLite file and collected statics."""
    env = production_env(tmp_path)
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as stream:
        server = subprocess.Popen(
            [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(f"{base}/health/")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield base, log
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn: pip install -r requirements.txt")
def test_gunicorn_serves_pages_statics_and_health_with_json_logs(gunicorn_server):
    base, log = gunicorn_server
    status, headers, body = get(f"{base}/health/")
    assert status == 200, body
    assert json.loads(body)["checks"]["database"] == {
        "vendor": "sqlite",
        "ok": True,
        "ms": json.loads(body)["checks"]["database"]["ms"],
    }

    status, headers, body = get(f"{base}/")
    assert status == 200
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    # Templates point at the hashed, compressed copy whitenoise serves for a year.
    css = next(part for part in body.decode().split('"') if "/static/css/dossier." in part)
    assert css != "/static/css/dossier.css"
    status, headers, _ = get(f"{base}{css}")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in headers["Cache-Control"]

    status, _, _ = get(f"{base}/no-such-page/")
    assert status == 404

    time.sleep(0.3)  # let the access log line reach the file
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert {(line["path"], line["status"]) for line in access} >= {
        ("/health/", "200"),
        ("/", "200"),
        ("/no-such-page/", "404"),
    }
