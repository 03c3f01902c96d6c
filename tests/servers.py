"""What a test needs from the servers it runs against, and what happens when it is missing."""

from __future__ import annotations

import os

import pytest


def require_postgresql(node_id: str) -> None:
    """Return when Django's database is PostgreSQL; else skip, or fail under CI.

    CI runs every test that needs PostgreSQL in its PostgreSQL pass, so a skip there would
    hide a test that silently stopped running (a lost ``DATABASE_URL``, a cluster that did
    not start).
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    message = (
        "needs PostgreSQL: run `make test-postgresql`, or bash scripts/pg-cluster.sh run -- "
        f".venv/bin/python -m pytest {node_id}"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
