"""Experiment (not part of the product): ``benchmarks/search.py`` with each transaction's
``BEGIN IMMEDIATE`` retried every 0.2 ms instead of waiting in SQLite's busy handler.

``python benchmarks/prototypes/busy_retry.py --pieces 100000 --engines database --db-dir
DIR --save-only --saves 400`` (any search.py arguments). SQLite's default busy handler
sleeps 1, 2, 5, 10, 15, 20, 25 … ms while the write lock is held; if a save's wait for the
lock were mostly over-sleeping, its ``BEGIN IMMEDIATE`` p95 would fall here. It did not
(library/search/README.md, "Issue 18, eighth round"): the lock is held that long.
"""

from __future__ import annotations

import runpy
import sqlite3
import sys
import time
from pathlib import Path

from django.db.backends.sqlite3 import base

BENCHMARKS = Path(__file__).resolve().parents[1]
RETRY_SECONDS = 0.0002
TIMEOUT_SECONDS = 20  # the settings' "timeout"


def begin_with_retries(self) -> None:
    """``BEGIN IMMEDIATE`` with no busy handler, retried until the settings' timeout."""
    raw = self.connection
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            try:
                raw.execute(f"BEGIN {self.transaction_mode}")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(RETRY_SECONDS)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {TIMEOUT_SECONDS * 1000}")


if __name__ == "__main__":
    base.DatabaseWrapper._start_transaction_under_autocommit = begin_with_retries
    sys.path.insert(0, str(BENCHMARKS))
    sys.argv = [str(BENCHMARKS / "search.py"), *sys.argv[1:]]
    runpy.run_path(str(BENCHMARKS / "search.py"), run_name="__main__")
