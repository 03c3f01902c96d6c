"""``rebuild_index`` speed: pieces/s (wall and CPU), where the time goes, and the index digest.

``python benchmarks/rebuild.py --db FILE [--runs 3] [--chunk 1000] [--copy-to DIR]
[--pragma "cache_size=-65536"] [--cprofile]``
``DATABASE_URL=postgres://… python benchmarks/rebuild.py --postgres [--runs 3] [--chunk 1000]``
Either with ``[--editors N]``: N editors save pieces throughout each run.

FILE is a catalogue benchmarks/search.py generated (``bench-10000.sqlite3`` in its
``--db-dir``; migrated first). With ``--copy-to`` the file is copied there once and the
copy rebuilt, so the original is never written. Each run calls
``library.search.maintenance.rebuild`` (the command's code path: reading pieces, building
documents, FTS5 inserts, commits) and prints wall and process-CPU time, the
time in the engine's ``add_bulk`` and in commits, and the load average; then the
median of the runs. The last run's index is hashed table by table (FTS5's data, content
and index tables, the head table, the word table), so two versions of the code can be
shown to build the same index byte for byte.

With ``--postgres`` the database of ``DATABASE_URL`` (a benchmark cluster's catalogue, as
``benchmarks/search.py --postgres`` made it) is rebuilt in place: its index is rebuilt
from its catalogue, nothing else is written. Each run prints the rows' phase (the chunks,
written on ``rebuild_workers`` connections at once) and each statement of the finish (one
``CREATE INDEX CONCURRENTLY`` per text index, then ``VACUUM ANALYZE``), then
``check_index``; PostgreSQL's index is not hashed (its pair words come from a random
sample, so two rebuilds differ).

With ``--editors N``, N threads (each its own connection, as N requests) save random
pieces through ``save_piece`` for as long as each run lasts, each save a title changed
back and forth; the run prints how many saves were made and failed (by error), their
p50/p95, and ``check_index`` after it, which counts a save the rebuild lost as stale. The
titles are put back at the end. The SQLite index digest is then not comparable.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from deployed import django_as_deployed
from figures import percentile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TABLES = (
    ("search_piece_fts_data", "id"),
    ("search_piece_fts_idx", "segid, term"),
    ("search_piece_fts_content", "id"),
    ("search_head_fts_data", "id"),
    ("search_word", "word"),
)


def index_digest(path: Path) -> str:
    """One line per index table: its row count and a hash of its rows in a fixed order."""
    db = sqlite3.connect(path)
    lines = []
    for table, order in TABLES:
        digest = hashlib.sha256()
        count = 0
        for row in db.execute(f"SELECT * FROM {table} ORDER BY {order}"):
            digest.update(repr(row).encode())
            count += 1
        lines.append(f"  {table}: {count} rows, sha256 {digest.hexdigest()[:16]}")
    db.close()
    return "\n".join(lines)


def django_on(db: Path, copy_to: Path | None) -> Path:
    """Django set up on the SQLite file ``db``, or on a copy of it in ``copy_to``; the file."""
    path = db
    if copy_to:
        copy_to.mkdir(parents=True, exist_ok=True)
        path = copy_to / db.name
        shutil.copyfile(db, path)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="a SQLite catalogue (or --postgres)")
    parser.add_argument(
        "--postgres", action="store_true", help="rebuild the index of DATABASE_URL's database"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1000, help="pieces per transaction")
    parser.add_argument("--copy-to", type=Path, help="rebuild a copy in this directory")
    parser.add_argument("--pragma", action="append", default=[], help="run before rebuilding")
    parser.add_argument("--cprofile", action="store_true", help="top functions of one run")
    parser.add_argument("--editors", type=int, default=0, help="threads saving during runs")
    args = parser.parse_args()
    if args.postgres:
        postgres(args.runs, args.chunk, args.editors)
        return
    if args.db is None:
        parser.error("give --db FILE, or --postgres with DATABASE_URL set")
    path = django_on(args.db, args.copy_to)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)  # a catalogue from an older checkout

    from library.search.backends import get_backend
    from library.search.maintenance import check, rebuild

    backend = get_backend()
    timed = {"write": 0.0, "commit": 0.0}
    _time_writes(backend, connection, timed)
    for pragma in args.pragma:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {pragma}")
    rates, cpu_rates = [], []
    for run in range(args.runs):
        timed.update(write=0.0, commit=0.0)
        profile = cProfile.Profile() if args.cprofile and run == 0 else None
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        with editing(args.editors):
            count = rebuild(chunk=args.chunk)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if profile:
            profile.disable()
        rates.append(count / wall)
        cpu_rates.append(count / cpu)
        print(f"run {run + 1}: {count:,} pieces in {wall:.2f} s wall ({count / wall:,.0f}/s), "
              f"{cpu:.2f} s CPU ({count / cpu:,.0f}/s); add_bulk "
              f"{timed['write']:.2f} s, commits {timed['commit']:.2f} s; "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(12)
    print(f"median of {args.runs}: {statistics.median(rates):,.0f} pieces/s wall, "
          f"{statistics.median(cpu_rates):,.0f} pieces/s of process CPU; "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    status = check()
    print(f"check_index: {len(status.missing)} missing, {len(status.extra)} extra, "
          f"{len(status.stale)} stale")  # fmt: skip
    print(f"index digest ({path}):\n{index_digest(path)}")


def postgres(runs: int, chunk: int, editors: int = 0) -> None:
    """Rebuild DATABASE_URL's index ``runs`` times, printing each phase's wall time."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("--postgres: set DATABASE_URL=postgres://… (a benchmark cluster's database)")
    django_as_deployed()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    settings.SEARCH_BACKEND = "database"
    from library.search.backends import get_backend
    from library.search.maintenance import check, rebuild

    backend = get_backend()
    finish = backend.finish_rebuild
    phases: list[tuple[str, float]] = []

    def timed_finish() -> None:
        phases.append(("emptied, then the rows written", time.perf_counter() - started))
        finish()

    def timed_statement(execute, sql, params, many, context):
        begun = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if sql.startswith(("CREATE INDEX", "VACUUM", "ANALYZE")):
                phases.append((sql.split(" USING ")[0], time.perf_counter() - begun))

    backend.finish_rebuild = timed_finish
    rates = []
    for run in range(runs):
        phases.clear()
        started = time.perf_counter()
        with connection.execute_wrapper(timed_statement), editing(editors):
            count = rebuild(chunk=chunk)
            wall = time.perf_counter() - started  # the rebuild's, before the editors' report
        rates.append(count / wall)
        print(f"run {run + 1}: {count:,} pieces in {wall:.1f} s ({count / wall:,.0f}/s) on "
              f"{backend.rebuild_workers} connections; load {os.getloadavg()[0]:.1f}")  # fmt: skip
        for name, seconds in phases:
            print(f"  {seconds:7.1f} s  {name}")
    print(f"median of {runs}: {statistics.median(rates):,.0f} pieces/s; "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    status = check()
    print(f"check_index: {len(status.missing)} missing, {len(status.extra)} extra, "
          f"{len(status.stale)} stale; problems: {backend.problems() or 'none'}")  # fmt: skip


SUFFIX = " (rev.)"


@contextmanager
def editing(editors: int):
    """``editors`` threads saving random pieces until the block ends; then their report,
    ``check_index``, and the titles put back."""
    if not editors:
        yield
        return
    from django.db import DatabaseError, connections

    from library.catalogue.models import Piece

    ids = list(Piece.objects.values_list("pk", flat=True))
    stop = threading.Event()
    timings: list[float] = []
    errors: Counter[str] = Counter()
    edited: set[int] = set()

    def edit(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                piece_id = rng.choice(ids)
                began = time.perf_counter()
                try:
                    _toggle_title(piece_id)
                except DatabaseError as exc:  # counted and reported: what the run is for
                    errors[f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"] += 1
                else:
                    timings.append((time.perf_counter() - began) * 1000)
                    edited.add(piece_id)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(editors)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:  # also when the rebuild failed: what the editors met is the point
        stop.set()
        for thread in threads:
            thread.join()
        _report(editors, timings, errors, edited)


def _report(editors: int, timings: list[float], errors: Counter[str], edited: set[int]) -> None:
    from library.catalogue.models import Piece
    from library.search.maintenance import check

    p50, p95 = (percentile(timings, 50), percentile(timings, 95)) if timings else (0.0, 0.0)
    print(f"  {editors} editors: {len(timings)} saves during the run (p50 {p50:.1f} ms, "
          f"p95 {p95:.1f} ms), {sum(errors.values())} failed")  # fmt: skip
    for error, count in errors.most_common():
        print(f"    {count} x {error}")
    status = check()
    print(f"  check_index after the run: {len(status.missing)} missing, "
          f"{len(status.extra)} extra, {len(status.stale)} stale")  # fmt: skip
    for piece_id in edited:
        if Piece.objects.get(pk=piece_id).title.endswith(SUFFIX):
            _toggle_title(piece_id)


def _toggle_title(piece_id: int) -> None:
    """Save the piece through ``save_piece`` with SUFFIX added to its title, or taken off."""
    from library.catalogue.authors import AuthorSpec
    from library.catalogue.models import Piece
    from library.catalogue.services import PieceContributors, PieceTags, save_piece

    piece = Piece.objects.get(pk=piece_id)
    title = piece.title
    piece.title = title.removesuffix(SUFFIX) if title.endswith(SUFFIX) else title + SUFFIX
    contributors = PieceContributors(
        authors=[AuthorSpec(given=a.given, family=a.family) for a in piece.authors]
    )
    tags = PieceTags(topics=list(piece.topics.all()), regions=list(piece.regions.all()))
    save_piece(piece, contributors, tags)


def _time_writes(backend, connection, timed: dict[str, float]) -> None:
    """Accumulate wall time in the engine's bulk writes and in commits."""
    write = backend.add_bulk

    def timed_write(prepared):
        started = time.perf_counter()
        try:
            return write(prepared)
        finally:
            timed["write"] += time.perf_counter() - started

    backend.add_bulk = timed_write
    commit = connection._commit

    def timed_commit():
        started = time.perf_counter()
        try:
            return commit()
        finally:
            timed["commit"] += time.perf_counter() - started

    connection._commit = timed_commit


if __name__ == "__main__":
    main()
