"""Where a search's time goes, per query class: statements by kind, Python, and a plan.

``DATABASE_URL=postgres://… python benchmarks/search_profile_postgres.py [--pieces 100000]``

Runs the 210-query mix of ``benchmarks/search.py`` (same seed, so the same queries as a
``search.py --pieces N`` run) against a database whose index is already built (for
example one kept by ``search.py --postgres``), through ``library.search.service.search``.
A Django ``execute_wrapper`` times every statement, grouped as the ranking statement
(PostgreSQL's ``WITH m AS …``), snippets (``ts_headline``), a phrase's pairs, the facet
arrays' change log, and other SQL (the page's piece rows, vocabulary, "did you mean");
what is left of the wall time is Python. Per class it prints the medians and one
``EXPLAIN (ANALYZE, BUFFERS)`` of the ranking statement of the class's 90th-percentile
query, run in the search's own transaction and settings. PostgreSQL only (SQLite's
statements have other shapes); prints the 1-minute load average.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from deployed import django_as_deployed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.search import SEED, build_lexicon, query_mix

KINDS = ("rank", "snippets", "pairs", "facets", "other")


def kind_of(sql: str) -> str:
    if sql.startswith("WITH m AS"):
        return "rank"
    if "ts_headline" in sql:
        return "snippets"
    if sql.startswith("/* facet arrays */"):  # facet_read.SQL_MARK (needs django.setup())
        return "facets"
    if "search_pg_pair_word" in sql:
        return "pairs"
    return "other"


class Recorder:
    """An execute_wrapper: times statements by kind; EXPLAINs the next ranking statement."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.explain_next = False
        self.plan = ""

    def __call__(self, execute, sql, params, many, context):
        kind = kind_of(sql)
        if self.explain_next and kind == "rank":
            self.explain_next = False
            execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params, many, context)
            self.plan = "\n".join(row[0] for row in context["cursor"].fetchall())
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.timings[kind] = self.timings.get(kind, 0.0) + elapsed


def warmed_query_mix(parser: argparse.ArgumentParser, pieces: int) -> list[tuple[str, str]]:
    """search.py's 210-query mix for ``pieces`` (kind, text), after ten of its searches have
    loaded the vocabulary and the facet arrays, as a server would have; PostgreSQL only."""
    from django.db import connection

    from library.search import service

    if connection.vendor != "postgresql":
        parser.error("needs DATABASE_URL=postgres://… with a built index")
    lexicon = build_lexicon(random.Random(SEED))
    queries = query_mix(random.Random(SEED + pieces), lexicon, 210)
    for _, text in queries[:10]:
        service.search(text)
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pieces", type=int, default=100_000, help="the size search.py used")
    args = parser.parse_args()
    django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
    from django.db import connection

    from library.search import service

    queries = warmed_query_mix(parser, args.pieces)
    by_kind: dict[str, list[str]] = {}
    for kind, text in queries:
        by_kind.setdefault(kind, []).append(text)
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        for kind, texts in by_kind.items():
            runs = []
            for text in texts:
                recorder.timings = {}
                started = time.perf_counter()
                service.search(text)
                runs.append(((time.perf_counter() - started) * 1000, recorder.timings, text))
            runs.sort(key=lambda run: run[0])
            median = {k: statistics.median(t.get(k, 0.0) for _, t, _ in runs) for k in KINDS}
            wall = statistics.median(total for total, _, _ in runs)
            parts = " + ".join(f"{k} {median[k]:.1f}" for k in KINDS)
            print(f"\n### {kind}: median {wall:.1f} ms = {parts} + Python "
                  f"~{wall - sum(median.values()):.1f}; slowest {runs[-1][0]:.1f} ms "
                  f"{runs[-1][2]!r}")  # fmt: skip
            text = runs[int(len(runs) * 0.9)][2]
            recorder.explain_next = True
            service.search(text)
            print(f"EXPLAIN (ANALYZE, BUFFERS) of {text!r}:\n{recorder.plan}")
    print(f"\nload {os.getloadavg()[0]:.1f} (1-minute, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
