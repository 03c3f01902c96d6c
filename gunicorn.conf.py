"""Gunicorn settings for one Dossier app instance: ``gunicorn library.wsgi``.

Gunicorn reads this file from the working directory. Every instance is stateless (the
database, uploads and search index live elsewhere), so a deployment runs as many as it
likes behind a load balancer. Environment variables:

- ``BIND``: address to listen on (default ``127.0.0.1:8000``; ``0.0.0.0:8000`` in a container).
- ``WEB_CONCURRENCY``: worker processes (default 2 × cores + 1). Each holds at most one
  database connection, so instances × workers must stay below PostgreSQL's max_connections.
- ``GUNICORN_TIMEOUT``: seconds before a stuck worker is restarted (default 60).
- ``FORWARDED_ALLOW_IPS``: proxies trusted for X-Forwarded-* headers (default 127.0.0.1).
- ``LOG_FORMAT`` / ``LOG_LEVEL``: as for the app; access and error logs use the same JSON.
- ``GUNICORN_CONTROL_SOCKET``: path of gunicorn's control socket (``gunicornc``); unset, it is
  off, since its default path is one per user and several instances on a host would share it.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name}={raw!r} must be a whole number of at least 1.")
    return int(raw)


wsgi_app = "library.wsgi:application"
bind = [os.environ.get("BIND", "127.0.0.1:8000")]
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never takes an instance down.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The control interface is off unless given a path of this instance's own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip() or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket
# Request line and headers, bounded (gunicorn answers 400 past them). Gunicorn has no body
# limit: the app refuses an oversized body from its Content-Length before reading it
# (library/uploads.py, MAX_UPLOAD_BYTES); a proxy in front may refuse it earlier still.
limit_request_line = 8190  # long faceted-filter and search URLs
limit_request_fields = 64
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

_debug = os.environ.get("DEBUG", "1").strip().lower() in {"1", "true", "yes", "on"}
if os.environ.get("LOG_FORMAT", "text" if _debug else "json").strip().lower() == "json":
    # The access line's message stays the classic format; the fields go in JSON keys.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "library.jsonlog.JSONFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "gunicorn.error": {
                "handlers": ["console"],
                "level": loglevel.upper(),
                "propagate": False,
            },
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
