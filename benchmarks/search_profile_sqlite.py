"""Where SQLite search time goes, per query class: SQL statement kinds, facets, the rest.

``python benchmarks/search_profile_sqlite.py --db FILE [--runs 3] [--cprofile] [--minus KIND]``

FILE is a catalogue benchmarks/search.py generated and indexed (``bench-100000.sqlite3``
in its ``--db-dir``). The script runs benchmarks/search.py's 210-query mix through
``service.search`` (snippets, facets, "did you mean", the page's piece rows; result cache
off) ``--runs`` times and, per query class, prints the median over runs of each query's
wall time split into:

* each SQL statement kind the SQLite engine runs (head tiers, the ids pass, the BM25
  pass over the full table, snippets, the word table, the generation), timed around
  ``cursor.execute`` with the rows' fetch included;
* facet counting (numpy) and everything else (compiling, the service's page rows,
  "did you mean" and Python glue), as the remainder.

``--cprofile`` also prints cProfile's top functions per class (one run). ``EXPLAIN QUERY
PLAN`` says little for FTS5 (one ``VIRTUAL TABLE INDEX`` line), so its plans are printed
nowhere; ``--pragma`` runs connection settings first (e.g. ``mmap_size``), to compare.
``--minus "ids pass"`` (repeatable) also prints the p50/p95 and the queries over 25 ms with
that kind's time taken off each query: the bound on what making it cheaper could buy.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from deployed import django_as_deployed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (kind, pattern) in order: the first pattern found in a statement names its kind.
KINDS = (
    ("snippets", re.compile(r"snippet\(")),
    ("head tiers", re.compile(r"FROM search_head_fts WHERE")),
    ("bm25 pass (full table)", re.compile(r"group_concat\(rowid \|\| ','")),
    ("ids pass", re.compile(r"group_concat\(m\.id\)")),
    ("filter ids (topic, region, year)", re.compile(r"group_concat\(f\.id\)")),
    ("ranked page (filtered)", re.compile(r"bm25\(search_piece_fts")),
    ("word table", re.compile(r"FROM search_word ")),
    ("generation", re.compile(r"FROM search_state")),
    ("count (did you mean)", re.compile(r"SELECT count\(\*\) FROM search_piece_fts")),
)


def kind_of(sql: str) -> str:
    return next((name for name, pattern in KINDS if pattern.search(sql)), "other SQL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=210)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--pragma",
        action="append",
        default=[],
        help="a PRAGMA to run on the connection first, e.g. mmap_size=2147483648 (repeatable)",
    )
    parser.add_argument(
        "--minus",
        action="append",
        default=[],
        choices=[name for name, _ in KINDS] + ["facet counting"],
        help="also print the figures with this kind's time taken off each query (repeatable)",
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db.resolve()}"
    django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
    from django.conf import settings

    from library.search import service
    from library.search.backends import get_backend
    from library.search.backends.database.sqlite import backend as sqlite_backend
    from library.search.backends.database.sqlite import facets as sqlite_facets

    spec = importlib.util.spec_from_file_location("search_bench", ROOT / "benchmarks/search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    settings.SEARCH_BACKEND = "database"
    engine = get_backend()
    engine.cache.size = 0
    count = int(args.db.stem.split("-")[-1]) if args.db.stem.split("-")[-1].isdigit() else 0
    import random

    lexicon = bench.build_lexicon(random.Random(bench.SEED))
    queries = bench.query_mix(random.Random(bench.SEED + count), lexicon, args.queries)

    spent: dict[str, float] = defaultdict(float)
    original_execute = sqlite_backend._GuardedCursor.execute
    original_count = sqlite_facets.FacetData.count

    def timed_execute(self, sql, params=None):
        started = time.perf_counter()
        result = original_execute(self, sql, params)
        rows = result.fetchall()  # the fetch is part of the statement's cost
        spent[kind_of(sql)] += time.perf_counter() - started
        return _Rows(rows)

    def timed_count(self, ids):
        started = time.perf_counter()
        result = original_count(self, ids)
        spent["facet counting"] += time.perf_counter() - started
        return result

    sqlite_backend._GuardedCursor.execute = timed_execute
    sqlite_facets.FacetData.count = timed_count
    from django.db import connection

    with connection.cursor() as cursor:
        for pragma in args.pragma:
            cursor.execute(f"PRAGMA {pragma}")
    for _, text in queries[:10]:
        service.search(text)

    # per class -> per component -> list of per-query medians over runs
    per_query: dict[tuple[int, str], list[dict[str, float]]] = defaultdict(list)
    for _ in range(args.runs):
        for number, (kind, text) in enumerate(queries):
            spent.clear()
            started, cpu = time.perf_counter(), time.process_time()
            service.search(text)
            total = time.perf_counter() - started
            parts = dict(spent)
            parts["total"] = total
            parts["cpu"] = time.process_time() - cpu
            parts["rest (compile, page rows, Python)"] = total - sum(spent.values())
            per_query[(number, kind)].append(parts)

    classes: dict[str, list[dict[str, float]]] = defaultdict(list)
    for (_, kind), runs in per_query.items():
        names = {name for run in runs for name in run}
        classes[kind].append(
            {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}
        )
    load = os.getloadavg()[0]
    every = sorted(q["total"] for qs in classes.values() for q in qs)
    p95 = every[min(len(every) - 1, round(0.95 * (len(every) - 1)))] * 1000
    cpus = sorted(q["cpu"] for qs in classes.values() for q in qs)
    cpu95 = cpus[min(len(cpus) - 1, round(0.95 * (len(cpus) - 1)))] * 1000
    print(
        f"{args.db.name}: {len(every)} queries, median of {args.runs} runs each; "
        f"p95 {p95:.1f} ms, p50 {every[len(every) // 2] * 1000:.1f} ms wall; "
        f"p95 {cpu95:.1f} ms, p50 {cpus[len(cpus) // 2] * 1000:.1f} ms CPU; "
        f"1-minute load {load:.1f} on {os.cpu_count()} cores; pragmas {args.pragma or 'none'}"
    )
    if args.minus:
        print_minus(classes, args.minus)
    for kind, qs in classes.items():
        totals = sorted(q["total"] for q in qs)
        cpu_class = sorted(q["cpu"] for q in qs)
        share = defaultdict(float)
        for q in qs:
            for name, value in q.items():
                if name not in ("total", "cpu"):
                    share[name] += value
        whole = sum(totals)
        slowest = max(qs, key=lambda q: q["total"])
        print(
            f"\n{kind}: p50 {totals[len(totals) // 2] * 1000:.1f} ms, "
            f"p95 {totals[min(len(totals) - 1, round(0.95 * (len(totals) - 1)))] * 1000:.1f} ms"
            f" wall (CPU p95 {cpu_class[min(len(qs) - 1, round(0.95 * (len(qs) - 1)))] * 1000:.1f}"
            f" ms), over 25 ms: {sum(t > 0.025 for t in totals)} of {len(totals)}"
        )
        for name, value in sorted(share.items(), key=lambda item: -item[1]):
            if value / whole >= 0.01:
                print(
                    f"  {name:36} {value / whole:6.1%}  "
                    f"(slowest query: {slowest.get(name, 0.0) * 1000:6.1f} ms)"
                )

    if args.cprofile:
        sqlite_backend._GuardedCursor.execute = original_execute
        sqlite_facets.FacetData.count = original_count
        by_class: dict[str, list[str]] = defaultdict(list)
        for kind, text in queries:
            by_class[kind].append(text)
        for kind, texts in by_class.items():
            profile = cProfile.Profile()
            profile.enable()
            for text in texts:
                service.search(text)
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(8)
            print(f"\n--- cProfile, {kind} ({len(texts)} queries), by own time ---")
            print("\n".join(out.getvalue().splitlines()[6:20]))


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def print_minus(classes: dict[str, list[dict[str, float]]], kinds: list[str]) -> None:
    """The mix and each class with ``kinds``' time taken off every query (wall)."""

    def left(q: dict[str, float]) -> float:
        return q["total"] - sum(q.get(kind, 0.0) for kind in kinds)

    every = [left(q) * 1000 for qs in classes.values() for q in qs]
    print(
        f"without {' + '.join(kinds)}: p95 {_pct(every, 95):.1f} ms, p50 {_pct(every, 50):.1f} ms"
        f" wall; over 25 ms: {sum(t > 25 for t in every)} of {len(every)}"
    )
    for kind, qs in classes.items():
        times = [left(q) * 1000 for q in qs]
        print(
            f"  {kind:13} p50 {_pct(times, 50):6.1f}  p95 {_pct(times, 95):6.1f} ms, "
            f"over 25 ms: {sum(t > 25 for t in times)} of {len(times)}"
        )


class _Rows:
    """Rows already fetched, behaving as the cursor the engine reads them from."""

    def __init__(self, rows: list) -> None:
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list:
        return self.rows


if __name__ == "__main__":
    main()
