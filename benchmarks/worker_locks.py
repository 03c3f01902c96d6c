"""Who holds SQLite's write lock while an editor saves: the worker's transactions, timed.

``python benchmarks/worker_locks.py --db-dir DIR [--pieces 100000] [--saves 400]``

Runs ``manage.py db_worker`` with each of its write transactions timed from ``BEGIN
IMMEDIATE`` (or django-tasks' ``BEGIN EXCLUSIVE``) to ``COMMIT`` and labelled by its first
write statement, beside ``benchmarks/search.py --save-only --no-worker`` on
``DIR/bench-PIECES.sqlite3`` (a COPY of search.py's catalogue: both write to it), then
prints the saves' own line (with the wait of their ``BEGIN IMMEDIATE``) and, per kind of
worker transaction, how many there were, their total, median and longest hold. A save
that finds the lock held waits in SQLite's busy handler until it is free. Single
autocommit statements (django-tasks marking a task done) hold the lock too but are not
timed here.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_timed_worker(out: Path) -> None:
    """``db_worker`` with its write transactions timed; the holds go to ``out`` at exit."""
    sys.path.insert(0, str(ROOT))
    from deployed import django_as_deployed

    django_as_deployed()
    import django
    from django.db.backends import utils
    from django.db.backends.sqlite3 import base

    holds: list[tuple[float, str]] = []
    state: dict[str, float | str | None] = {"start": None, "label": None}
    begin, commit, rollback = (
        base.DatabaseWrapper._start_transaction_under_autocommit,
        base.DatabaseWrapper._commit,
        base.DatabaseWrapper._rollback,
    )
    execute, executemany = utils.CursorWrapper._execute, utils.CursorWrapper._executemany

    def timed_begin(self) -> None:
        begin(self)
        state["start"], state["label"] = time.perf_counter(), None

    def ending(original):
        def end(self) -> None:
            try:
                original(self)
            finally:
                if isinstance(state["start"], float):
                    held = (time.perf_counter() - state["start"]) * 1000
                    holds.append((held, str(state["label"] or "read only")))
                    state["start"] = None

        return end

    def labelled(original):
        def run(self, sql, *args):
            first = sql.lstrip()[:6].upper()
            if state["start"] is not None and state["label"] is None and first != "SELECT":
                state["label"] = " ".join(sql.split())[:72]
            return original(self, sql, *args)

        return run

    base.DatabaseWrapper._start_transaction_under_autocommit = timed_begin
    base.DatabaseWrapper._commit = ending(commit)
    base.DatabaseWrapper._rollback = ending(rollback)
    utils.CursorWrapper._execute = labelled(execute)
    utils.CursorWrapper._executemany = labelled(executemany)

    django.setup()
    from django.core.management import call_command

    try:  # db_worker stops on SIGTERM after its current task
        call_command("db_worker", startup_delay=False, reload=False, interval=1, verbosity=0)
    finally:
        out.write_text(json.dumps(holds))


def report(holds: list[list]) -> None:
    kinds: dict[str, list[float]] = collections.defaultdict(list)
    for held, label in holds:
        kinds[label].append(held)
    print("the worker's write transactions (hold of the write lock, ms):")
    print(f"  {'count':>5} {'total':>8} {'p50':>7} {'max':>7}  first write statement")
    for label, values in sorted(kinds.items(), key=lambda kind: -sum(kind[1])):
        values.sort()
        print(
            f"  {len(values):5d} {sum(values):8.1f} {values[len(values) // 2]:7.2f} "
            f"{values[-1]:7.2f}  {label}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-dir", required=True, help="holds bench-PIECES.sqlite3 (a copy)")
    parser.add_argument("--pieces", type=int, default=100_000)
    parser.add_argument("--saves", type=int, default=400)
    parser.add_argument("--worker-output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_output:
        run_timed_worker(Path(args.worker_output))
        return
    database = Path(args.db_dir).resolve() / f"bench-{args.pieces}.sqlite3"
    if not database.exists():
        parser.error(f"{database} does not exist (benchmarks/search.py --db-dir makes it)")
    # As search.py does before starting its worker (this run starts its own).
    with closing(sqlite3.connect(database)) as db, db:
        left = db.execute(
            "DELETE FROM django_tasks_database_dbtaskresult WHERE status = 'READY'"
        ).rowcount
    print(f"removed {left} tasks queued by earlier runs before starting the worker")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "holds.json"
        worker = subprocess.Popen(
            [sys.executable, __file__, "--db-dir", args.db_dir, "--worker-output", str(out)],
            cwd=ROOT,
            env=env,
        )
        time.sleep(3)  # its start-up, not the timed saves, pays for importing Django
        print(f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        subprocess.run(
            [sys.executable, "benchmarks/search.py", "--pieces", str(args.pieces),
             "--engines", "database", "--db-dir", args.db_dir, "--save-only",
             "--saves", str(args.saves), "--no-worker"],
            cwd=ROOT, check=True,
        )  # fmt: skip
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        report(json.loads(out.read_text()))
    print(f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
