"""Where one ``save_piece`` spends its CPU: Python phases, each SQL statement, the commit.

``python benchmarks/save_profile.py --db COPY.sqlite3 [--saves 200] [--cprofile N]``

Times the same saves as ``benchmarks/search.py --save-only`` (an existing piece with its
title changed, its byline and tags as the edit form sends them; the same seeded sample) on
a COPY of a benchmark catalogue whose index is built (it writes to it), or on the
PostgreSQL database in ``DATABASE_URL`` with ``--postgres``. No worker runs.

It prints, per save (mean, and the p95 of the per-save totals):

* every SQL statement, grouped by what it does, with its count, wall and CPU time
  (``connection.execute_wrapper``; the CPU is this process's, so SQLite's own work in
  its library shows there, PostgreSQL's in the server does not);
* the Python phases around them (``cProfile``-free: wall and CPU of each function
  wrapped by name), i.e. the save minus its statements;
* with ``--cprofile N``, the N functions with the most own time over all the saves.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from deployed import django_as_deployed
from figures import percentile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEED = 2016  # benchmarks/search.py's: its save sample is random.Random(SEED + 2)

# (label, pattern on the statement), first match wins.
KINDS = [
    ("FTS5 read old row", r"^SELECT digest, title, authors, tags, synopsis FROM search_piece_fts"),
    ("FTS5 head delete (old text)", r"^INSERT INTO search_head_fts\(search_head_fts, rowid"),
    ("FTS5 head update", r"^UPDATE search_head_fts"),
    ("FTS5 delete (old text)", r"^DELETE FROM search_piece_fts "),
    ("FTS5 update", r"^UPDATE search_piece_fts"),
    ("FTS5 insert (new text)", r"^INSERT INTO search_piece_fts\(rowid"),
    ("FTS5 head insert", r"^INSERT INTO search_head_fts\(rowid"),
    ("word counts", r"search_word|search_pg_word"),
    ("PostgreSQL index", r"search_pg_"),
    ("index generation", r"search_state"),
    ("document: piece row", r"^SELECT id, title, subtitle, synopsis, body"),
    ("document: byline", r"^SELECT a\.piece_id, a\.role"),
    ("document: tags", r"^SELECT t\.piece_id, v\.id, v\.name"),
    ("version (FOR UPDATE)", r'^SELECT ("catalogue_piece"\.)?"version"'),
    ("tags read (one statement)", r"UNION ALL"),
    ("piece UPDATE", r'^UPDATE "catalogue_piece" SET'),
    ("citation-key check", r'LOWER\("catalogue_piece"\."citation_key"\)'),
    ("byline read", r'FROM "catalogue_authorship"|^SELECT a\."role"'),
    ("tags read (set)", r'FROM "catalogue_piece_(topics|regions)"'),
    ("Cite box: invalidate", r"citation_text|cite_text"),
    ("task queue", r"django_tasks|task"),
    ("upkeep", r"wal|merge"),
]


def kind_of(sql: str) -> str:
    for label, pattern in KINDS:
        if re.search(pattern, sql):
            return label
    return "other: " + " ".join(sql.split())[:70]


# Python functions timed by wrapping (module path, attribute); nested ones count inside
# their callers too, so the table lists them indented under the function that calls them.
PHASES = [
    ("library.catalogue.services", "save_piece", 0),
    ("library.catalogue.concurrency", "claim_version", 1),
    ("library.catalogue.models", "Piece.full_clean", 1),
    ("django.db.models.base", "Model.validate_unique", 2),
    ("django.db.models.base", "Model.validate_constraints", 2),
    ("library.catalogue.models", "Piece.save", 1),
    ("django_tasks_db.backend", "DatabaseBackend.enqueue", 2),
    ("django.db.models.base", "Model._do_update", 2),
    ("library.catalogue.services", "set_contributors", 1),
    ("library.catalogue.services", "set_tags", 1),
    ("library.search.sync", "_write", 1),
    ("library.search.documents", "documents_for", 2),
    ("library.search.backends.database.sqlite.backend", "SQLiteFTS5Backend.add", 2),
    ("library.search.backends.database.postgres.backend", "PostgresBackend.add", 2),
    ("library.search.sync", "request_upkeep", 2),
]


def wrap_phases(totals: dict[str, list[float]]) -> None:
    import importlib

    for module_name, attr, depth in PHASES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner: object = module
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:
            continue
        label = "  " * depth + attr

        def timed(*args, __original=original, __label=label, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return __original(*args, **kwargs)
            finally:
                totals[__label][0] += time.perf_counter() - t0
                totals[__label][1] += time.process_time() - c0
                totals[__label][2] += 1

        setattr(owner, name, timed)
        if not isinstance(owner, type):  # a function: also where it was imported by name
            for other in list(sys.modules.values()):
                if other is not None and getattr(other, name, None) is original:
                    setattr(other, name, timed)
        totals.setdefault(label, [0.0, 0.0, 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="a COPY of an indexed SQLite catalogue (written to)")
    parser.add_argument("--postgres", action="store_true", help="use DATABASE_URL instead")
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (tottime, cumulative)")
    args = parser.parse_args()
    if args.postgres:
        if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
            parser.error("--postgres needs DATABASE_URL=postgres://…")
    elif not args.db:
        parser.error("--db COPY.sqlite3 or --postgres")
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
    django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from library.catalogue import services
    from library.catalogue.authors import AuthorSpec
    from library.catalogue.models import Piece
    from library.catalogue.services import PieceContributors, PieceTags

    call_command("migrate", verbosity=0)
    settings.SEARCH_BACKEND = "database"
    ids = list(Piece.objects.values_list("pk", flat=True))
    sample = random.Random(SEED + 2).sample(ids, args.saves)

    phases: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    wrap_phases(phases)
    statements: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    per_save_sql: list[float] = []
    sql_now = [0.0]
    inside = [False]  # only the statements of the timed saves, not the sample's reads

    def timer(execute, sql, params, many, context):
        if not inside[0]:
            return execute(sql, params, many, context)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            wall = time.perf_counter() - t0
            row = statements[kind_of(sql)]
            row[0] += wall
            row[1] += time.process_time() - c0
            row[2] += 1
            sql_now[0] += wall

    commit = connection._commit
    commits: list[tuple[float, float]] = []

    def timed_commit():
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return commit()
        finally:
            if inside[0]:
                commits.append((time.perf_counter() - t0, time.process_time() - c0))

    profiler = cProfile.Profile() if args.cprofile else None
    walls, cpus = [], []
    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(timer):
            for pk in sample:
                piece = Piece.objects.get(pk=pk)
                piece.title = f"{piece.title} edited"
                contributors = PieceContributors(
                    authors=[AuthorSpec(given=a.given, family=a.family) for a in piece.authors]
                )
                tags = PieceTags(topics=list(piece.topics.all()), regions=list(piece.regions.all()))
                sql_now[0] = 0.0
                inside[0] = True
                if profiler:
                    profiler.enable()
                t0, c0 = time.perf_counter(), time.process_time()
                services.save_piece(piece, contributors, tags)
                walls.append((time.perf_counter() - t0) * 1000)
                cpus.append((time.process_time() - c0) * 1000)
                if profiler:
                    profiler.disable()
                inside[0] = False
                per_save_sql.append(sql_now[0] * 1000)
    finally:
        del connection._commit
    n = len(sample)
    print(
        f"{n} saves on {connection.vendor}: wall p50 {percentile(walls, 50):.2f} / p95 "
        f"{percentile(walls, 95):.2f} ms; CPU p50 {percentile(cpus, 50):.2f} / p95 "
        f"{percentile(cpus, 95):.2f} ms; SQL wall per save p50 {percentile(per_save_sql, 50):.2f}"
        f" ms; load {os.getloadavg()[0]:.2f}"
    )
    print(f"\n{'per save (mean)':<48} {'count':>6} {'wall ms':>8} {'CPU ms':>8}")
    for label, (wall, cpu, count) in sorted(statements.items(), key=lambda kv: -kv[1][0]):
        print(f"{label:<48} {count / n:>6.2f} {wall / n * 1000:>8.3f} {cpu / n * 1000:>8.3f}")
    cw = sum(c[0] for c in commits) / n * 1000
    cc = sum(c[1] for c in commits) / n * 1000
    print(f"{'commit':<48} {len(commits) / n:>6.2f} {cw:>8.3f} {cc:>8.3f}")
    print(
        f"\n{'Python phases, per save (mean; nested)':<48} {'calls':>6} "
        f"{'wall ms':>8} {'CPU ms':>8}"
    )
    for label, (wall, cpu, count) in phases.items():
        if count:
            print(f"{label:<48} {count / n:>6.2f} {wall / n * 1000:>8.3f} {cpu / n * 1000:>8.3f}")
    if profiler:
        print()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.cprofile)


if __name__ == "__main__":
    main()
