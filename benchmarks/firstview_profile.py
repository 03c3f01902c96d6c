"""Where a piece page's first view (nothing stored) spends its time, part by part.

``DATABASE_URL=postgres://… python benchmarks/firstview_profile.py [--views 60] [--gc MODE]``
``python benchmarks/firstview_profile.py --sqlite FILE [--views 60]``

Views ``--views`` seeded pieces for the first time (their stored Cite box texts deleted
first, so each formats inline, as before the worker has run) through Django's test client
with ``DEBUG=0``, and times in each request: the whole request (wall and CPU), citeproc
(``format_bibliography``), related pieces (``related_ids``), every SQL statement
(``execute_wrapper``) and every garbage collection (``gc.callbacks``: its generation,
its time, and whether it ran inside citeproc). Prints p50 / p95 / largest of each part,
the slowest requests with what they contained, and the load average. Deletes stored texts
of the pieces it views: run it on a copy of a benchmark database only. ``--stored`` runs
the worker's task for them first (``catalogue/citation_jobs.py``), as after a save or an
import: then no view formats inline.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

from deployed import django_serving_pages
from figures import load_average, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Parts:
    """Per-request accumulators, filled by the wrappers below."""

    def __init__(self) -> None:
        self.reset()
        self.depth_cite = 0

    def reset(self) -> None:
        self.sql_ms = 0.0
        self.sql_n = 0
        self.cite_ms = 0.0
        self.related_ms = 0.0
        self.gc: list[tuple[int, float, bool]] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=60)
    parser.add_argument("--sqlite", help="a SQLite catalogue file instead of DATABASE_URL")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--slowest", type=int, default=5)
    parser.add_argument("--statements", action="store_true", help="each statement's mean")
    parser.add_argument(
        "--stored",
        action="store_true",
        help="store the pieces' Cite box texts first, as the worker does after a save",
    )
    parser.add_argument(
        "--style-per-call",
        action="store_true",
        help="parse the CSL style for every entry (the code before styles.thread_style)",
    )
    parser.add_argument(
        "--walk-calls-variable",
        action="store_true",
        help="citeproc-py's own calls_variable, walked on every call (before it was remembered)",
    )
    parser.add_argument(
        "--collector-on",
        action="store_true",
        help="leave the garbage collector on inside citeproc (the code before collector.py)",
    )
    args = parser.parse_args()
    if args.sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{args.sqlite}"
    django_serving_pages()  # DEBUG=0, unhashed static URLs: benchmarks/deployed.py
    from django.db import connection
    from django.test import Client

    import library.catalogue.citation_store as citation_store
    import library.citations.styles as styles
    import library.search.templatetags.search_tags as search_tags
    from library.catalogue.models import FormattedCitation, Piece

    parts = Parts()
    clock = time.perf_counter

    real_format = citation_store.format_bibliography
    if args.style_per_call and hasattr(styles, "thread_style"):
        styles.thread_style = styles.load_style  # type: ignore[assignment]
    if args.walk_calls_variable and hasattr(styles, "_citeproc_text_calls_variable"):
        from citeproc import model

        model.Parent.calls_variable = styles._citeproc_parent_calls_variable
        model.Text.calls_variable = styles._citeproc_text_calls_variable
    if args.collector_on and hasattr(citation_store, "collector_paused"):
        citation_store.collector_paused = contextlib.nullcontext  # type: ignore[assignment]

    def format_timed(*a, **k):
        start = clock()
        parts.depth_cite += 1
        try:
            return real_format(*a, **k)
        finally:
            parts.depth_cite -= 1
            parts.cite_ms += (clock() - start) * 1000

    citation_store.format_bibliography = format_timed
    real_related = search_tags.related_ids

    def related_timed(*a, **k):
        start = clock()
        try:
            return real_related(*a, **k)
        finally:
            parts.related_ms += (clock() - start) * 1000

    search_tags.related_ids = related_timed
    gc_start = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_start[0] = clock()
        else:
            parts.gc.append(
                (info["generation"], (clock() - gc_start[0]) * 1000, parts.depth_cite > 0)
            )

    gc.callbacks.append(on_gc)

    def sql_timed(execute, sql, params, many, context):
        start = clock()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (clock() - start) * 1000
            parts.sql_ms += ms
            parts.sql_n += 1
            statements.setdefault(sql[:100], []).append(ms)

    statements: dict[str, list[float]] = {}
    rng = random.Random(args.seed)
    keys = list(Piece.objects.order_by("pk").values_list("citation_key", flat=True))
    chosen = rng.sample(keys, args.views)
    chosen_ids = Piece.objects.filter(citation_key__in=chosen).values_list("pk", flat=True)
    warm_up = rng.choice(keys)
    # The warm-up view formats too (its texts deleted), so the style's parse is not timed.
    warm_up_id = Piece.objects.get(citation_key=warm_up).pk
    # ``piece_id`` is a plain column (a deleted piece's texts may still be cited), not a key.
    FormattedCitation.objects.filter(piece_id__in=[warm_up_id, *chosen_ids]).delete()
    if args.stored:
        from library.catalogue.citation_jobs import store_cite_texts

        store_cite_texts.call(list(chosen_ids))
    client = Client()
    client.get("/topics/")
    client.get("/pieces/")  # the facet arrays' load: a process's first count, not measured
    client.get(f"/pieces/{warm_up}/")  # citeproc's style parse, templates
    pause = "on" if args.collector_on else "paused"
    style = "parsed per call" if args.style_per_call else "parsed per thread"
    style += ", calls_variable walked" if args.walk_calls_variable else ""
    print(
        f"{len(keys):,} pieces on {connection.vendor}; collector in citeproc: {pause}; "
        f"style {style}; gc thresholds {gc.get_threshold()}; "
        f"tracked objects {len(gc.get_objects()):,}; load {load_average()}",
        flush=True,
    )
    rows = []
    with connection.execute_wrapper(sql_timed):
        for key in chosen:
            parts.reset()
            wall, cpu = clock(), time.process_time()
            response = client.get(f"/pieces/{key}/")
            wall = (clock() - wall) * 1000
            cpu = (time.process_time() - cpu) * 1000
            assert response.status_code == 200, key
            rows.append(
                (
                    wall,
                    cpu,
                    parts.sql_ms,
                    parts.sql_n,
                    parts.cite_ms,
                    parts.related_ms,
                    list(parts.gc),
                )
            )
    names = ("request", "request CPU", "SQL", "statements", "citeproc", "related pieces")
    print(f"{'part':<16} {'mean':>7} {'p50':>7} {'p95':>7} {'max':>7}  (ms, {len(rows)} views)")
    for i, name in enumerate(names):
        values = [r[i] for r in rows]
        print(
            f"{name:<16} {statistics.mean(values):>7.1f} {percentile(values, 50):>7.1f} "
            f"{percentile(values, 95):>7.1f} {max(values):>7.1f}"
        )
    for gen in (0, 1, 2):
        runs = [(ms, inside) for r in rows for g, ms, inside in r[6] if g == gen]
        if runs:
            inside = sum(1 for _, i in runs if i)
            print(
                f"gc generation {gen}: {len(runs)} collections ({inside} inside citeproc), "
                f"{sum(ms for ms, _ in runs) / len(rows):.2f} ms a view, "
                f"p50 {percentile([m for m, _ in runs], 50):.2f}, largest "
                f"{max(m for m, _ in runs):.2f} ms"
            )
    print("slowest views: wall, CPU, SQL (statements), citeproc, related, collections (gen:ms)")
    for r in sorted(rows, key=lambda r: -r[0])[: args.slowest]:
        collections = " ".join(f"{g}:{ms:.1f}{'c' if i else ''}" for g, ms, i in r[6])
        print(
            f"  {r[0]:6.1f} {r[1]:6.1f} {r[2]:6.1f} ({r[3]}) {r[4]:6.1f} {r[5]:6.1f}  {collections}"
        )
    if args.statements:
        print("statements: times run, mean ms, largest ms, text")
        for sql, times in statements.items():
            print(f"  {len(times):4} {statistics.mean(times):6.2f} {max(times):6.2f}  {sql}")
    print(f"load average (1, 5, 15 min): {load_average()}")


if __name__ == "__main__":
    main()
