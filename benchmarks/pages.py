"""Catalogue page latency: home, ``/pieces/``, a filtered browse, piece pages, author pages.

``python benchmarks/pages.py [--pieces 10000] [--runs 30] [--repeats 3] [--db-dir DIR]
[--profile] [--saves 30]``
``bash scripts/pg-cluster.sh run -- .venv/bin/python benchmarks/pages.py --postgres``

Builds (or, when the scratch file already exists, reuses) the deterministic synthetic
catalogue of ``benchmarks/search.py`` (same seed and generator) plus one or two regions per
piece, builds the search index once (piece pages list related pieces through it), then
requests each page through Django's test client with ``DEBUG=0`` and prints, per page:

* the first request of the process (cold: nothing cached in it);
* p50 and p95 over ``--runs`` requests, each the median of ``--repeats`` repetitions,
  wall and CPU (process) time;
* "after a write": ``--after-writes`` times, ``save_piece`` edits a random piece (as the
  edit form does) and the page is requested once: p50, p95 and the largest, wall and CPU
  (process) time;
* the facet arrays' full load (a process's first count) and their update after one edit.
* "piece, stored": first views of other pieces after the worker's task
  (``catalogue/citation_jobs.py``) stored their Cite box texts, and what that task took;
  "piece page" is a first view with nothing stored (every stored text is deleted at the
  start), as before the worker has run.
* the queries of one request.

Piece and author pages are timed on ``--runs`` different, seeded pieces and authors, so
they are first views each; "piece page again" views the same pieces a second time.
``--profile`` prints cProfile's top functions for one cold request of each page.
``--saves N`` times N ``save_piece`` calls (benchmarks/search.py's single-save latency)
with the catalogue's change triggers, with them dropped (on this scratch database only),
and with them again: what recording each write for the page caches costs a save.
The load average is printed at the start, after each page and at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from deployed import django_serving_pages
from figures import load_average, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SEED = 2016


def add_regions(rng: random.Random) -> None:
    """One or two regions per piece (search.py's generator tags topics only)."""
    from library.catalogue.models import Piece, Region

    regions = list(Region.objects.values_list("pk", flat=True))
    through = Piece.regions.through
    rows = []
    for pk in Piece.objects.values_list("pk", flat=True).order_by("pk"):
        rows.extend(
            through(piece_id=pk, region_id=r) for r in rng.sample(regions, rng.randint(1, 2))
        )
        if len(rows) > 5000:
            through.objects.bulk_create(rows)
            rows = []
    through.objects.bulk_create(rows)


def build(count: int, fresh: bool) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not fresh:
        from library.catalogue.models import Piece

        if not Piece.regions.through.objects.exists():
            # A catalogue benchmarks/search.py generated (--postgres --reuse on its
            # cluster): the filtered browse needs regions. They are not indexed by this,
            # so check_index then reports those pieces stale until rebuild_index.
            add_regions(random.Random(SEED + 3))
            print("added one or two regions to every piece (the index is now stale)")
        return
    from search import build_lexicon, generate

    from library.catalogue.vocabulary import load_vocabulary
    from library.search.maintenance import rebuild

    t0 = time.perf_counter()
    rng = random.Random(SEED)
    lexicon = build_lexicon(rng)
    load_vocabulary()
    generate(count, rng, lexicon)
    add_regions(random.Random(SEED + 3))
    print(f"generated {count:,} pieces in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    rebuild()
    print(f"search index built in {time.perf_counter() - t0:.0f} s", flush=True)


def urls(runs: int, repeats: int = 1) -> dict[str, list[list[str]]]:
    """Each page's URLs per repetition: the same URL ``runs`` times, or ``runs`` seeded
    pieces or authors, different in each repetition (so every piece view is a first one)."""
    from django.db.models import Count

    from library.catalogue.models import Author, Piece, Region, Topic

    rng = random.Random(SEED + 4)
    keys = list(Piece.objects.order_by("pk").values_list("citation_key", flat=True))
    authors = list(
        Author.objects.filter(authorships__isnull=False)
        .distinct()
        .order_by("pk")
        .values_list("slug", flat=True)
    )
    views = runs * repeats  # first views of as many pieces, other pieces, and authors
    if len(authors) < views or len(keys) < 2 * views:
        sys.exit(
            f"{len(keys):,} pieces and {len(authors):,} authors: too few for --runs × --repeats "
            f"= {views} first views of each (pieces twice over); lower --runs or raise --pieces"
        )
    topic = Topic.objects.annotate(n=Count("pieces")).order_by("-n", "pk").first()
    region = Region.objects.annotate(n=Count("pieces")).order_by("-n", "pk").first()
    filtered = f"/pieces/?topic={topic.slug}&region={region.slug}&year=2016"

    def chunks(values: list[str]) -> list[list[str]]:
        return [values[i * runs : (i + 1) * runs] for i in range(repeats)]

    pieces = chunks([f"/pieces/{k}/" for k in rng.sample(keys, runs * repeats)])
    # Other pieces, whose Cite box texts the worker's task stores before they are timed.
    others = sorted(set(keys) - {url.split("/")[2] for chunk in pieces for url in chunk})
    stored = chunks(
        [f"/pieces/{k}/" for k in random.Random(SEED + 7).sample(others, runs * repeats)]
    )
    return {
        "home": [["/"] * runs] * repeats,
        "/pieces/": [["/pieces/"] * runs] * repeats,
        "filtered browse": [[filtered] * runs] * repeats,
        "piece page": pieces,
        "piece page again": pieces,  # the same pieces, viewed a second time
        STORED: stored,
        "author page": chunks([f"/authors/{s}/" for s in rng.sample(authors, runs * repeats)]),
    }


STORED = "piece, stored"


def store_cite_texts(repetitions: list[list[str]]) -> None:
    """What the worker does after a save (catalogue/citation_jobs.py), for these pieces,
    timed: their first views then read stored text. Absent before that module."""
    try:
        from library.catalogue.citation_jobs import store_cite_texts as task
    except ImportError:
        return
    from library.catalogue.models import Piece

    keys = [url.split("/")[2] for urls in repetitions for url in urls]
    ids = list(Piece.objects.filter(citation_key__in=keys).values_list("pk", flat=True))
    wall, cpu = clocked(lambda: task.call(ids))
    print(
        f"stored the Cite box texts (4 styles) of {len(ids)} pieces: {wall / len(ids):.1f} ms "
        f"a piece ({cpu / len(ids):.1f} ms CPU; {len(ids) * 1000 / wall:.1f} pieces/s); "
        f"load {load_average()}",
        flush=True,
    )


def forget_queued_cite_texts(since) -> None:
    """The edits queued worker tasks (no worker runs here): leave the database as found."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return
    queued = DBTaskResult.objects.filter(
        task_path__endswith="store_cite_texts", enqueued_at__gte=since
    )
    queued.delete()


def profile(client, url: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"/library/", 18)
    stats.sort_stats("tottime").print_stats(10)
    print(f"\n--- cProfile, {url} ---")
    for line in out.getvalue().splitlines():
        if line.strip() and not line.startswith(("   Ordered", "   List reduced")):
            print(line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", ""))


def explain(client, url: str) -> None:
    """One cold request's slowest statements, and the slowest one's plan."""
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    caches["pages"].clear()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
    total = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(f"\n--- slowest statements, cold {url} ({len(queries)} queries, {total:.0f} ms SQL) ---")
    for query in slowest:
        print(f"{float(query['time']) * 1000:8.1f} ms  {query['sql'][:300]}")
    if not slowest:
        return
    postgres = connection.vendor == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + slowest[0]["sql"])
        for row in cursor.fetchall():
            print("    " + (row[0] if postgres else f"{row[1]:>3} {row[3]}"))


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def edit(pk: int) -> None:
    """What the edit form does: ``save_piece`` with the piece's byline and tags."""
    from library.catalogue.authors import AuthorSpec
    from library.catalogue.models import Piece
    from library.catalogue.services import PieceContributors, PieceTags, save_piece

    piece = Piece.objects.get(pk=pk)
    piece.synopsis = f"{piece.synopsis} Edited."
    contributors = PieceContributors(
        authors=[AuthorSpec(given=a.given, family=a.family) for a in piece.authors]
    )
    save_piece(
        piece,
        contributors,
        PieceTags(topics=list(piece.topics.all()), regions=list(piece.regions.all())),
    )


def save_costs(ids: list[int], n: int) -> None:
    """``save_piece`` p50/p95 with the change triggers, without them, and with them again."""
    import importlib

    from django.apps import apps
    from django.db import connection
    from search import save_latency

    migration = importlib.import_module("library.catalogue.migrations.0009_page_caches")
    rng = random.Random(SEED + 6)
    for label in ("with change triggers", "triggers dropped", "with change triggers"):
        with connection.schema_editor() as editor:
            if label == "triggers dropped":
                migration.remove_triggers(apps, editor)
            elif label.startswith("with") and not _has_triggers():
                migration.install_triggers(apps, editor)
        saves, _writes = save_latency(rng, ids, n)
        print(
            f"save_piece, {label:<21}: p50 {percentile(saves, 50):.2f} ms, "
            f"p95 {percentile(saves, 95):.2f} ms ({n} saves; load {load_average()})",
            flush=True,
        )


def facet_array_costs(editable: list[int], edits: random.Random, n: int = 5) -> None:
    """What the facet arrays cost: a process's full load, and bringing them up to date
    after one edit (median of ``n``, wall and CPU). Absent before migration 0010."""
    try:
        from library.catalogue import facet_arrays
    except ImportError:
        return
    loads, refreshes = [], []
    for _ in range(n):
        facet_arrays.reset()
        loads.append(clocked(facet_arrays.arrays))
        edit(edits.choice(editable))
        refreshes.append(clocked(facet_arrays.arrays))
    for label, runs in (("full load", loads), ("up to date after one edit", refreshes)):
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"facet arrays, {label}: {wall:.1f} ms wall, {cpu:.1f} ms CPU (median of {n})")


def clocked(call) -> tuple[float, float]:
    """(wall ms, CPU ms) of ``call()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def key_read_cost(n: int = 1000) -> None:
    """What every cached page pays first: reading the catalogue's cache key."""
    from library.catalogue import generation

    times = []
    for _ in range(n):
        start = time.perf_counter()
        generation.current()
        times.append((time.perf_counter() - start) * 1e6)
    print(
        f"cache key read ({n} reads): p50 {percentile(times, 50):.0f} µs, "
        f"p95 {percentile(times, 95):.0f} µs",
        flush=True,
    )


def _has_triggers() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'catalogue%%_changed'"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'catalogue%_changed'"
            )
        return cursor.fetchone()[0] > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pieces", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3, help="median of this many runs")
    parser.add_argument("--after-writes", type=int, default=20, help="requests after a save")
    parser.add_argument("--saves", type=int, default=0, help="time save_piece (see above)")
    parser.add_argument("--db-dir", default=tempfile.mkdtemp(prefix="dossier-pages-bench-"))
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="use the PostgreSQL database in DATABASE_URL (empty, or with --reuse)",
    )
    parser.add_argument("--reuse", action="store_true", help="with --postgres: keep its pieces")
    parser.add_argument("--profile", action="store_true", help="cProfile one cold request each")
    parser.add_argument("--explain", action="store_true", help="slowest SQL of a cold request")
    parser.add_argument("--build-only", action="store_true", help="build the catalogue and stop")
    args = parser.parse_args()

    postgres_url = os.environ.get("DATABASE_URL", "") if args.postgres else ""
    if args.postgres and not postgres_url.startswith("postgres"):
        parser.error("--postgres needs DATABASE_URL=postgres://…")
    path = Path(args.db_dir) / f"pages-{args.pieces}.sqlite3"
    Path(args.db_dir).mkdir(parents=True, exist_ok=True)
    fresh = not args.reuse if args.postgres else not path.exists()
    os.environ["DATABASE_URL"] = postgres_url or f"sqlite:///{path}"
    django_serving_pages()  # DEBUG=0, unhashed static URLs: benchmarks/deployed.py
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    assert not settings.DEBUG
    build(args.pieces, fresh)
    if args.build_only:
        return
    from library.catalogue.models import FormattedCitation, Piece

    # A rerun on the same scratch database: piece pages are first views of their Cite box.
    FormattedCitation.objects.all().delete()
    total = Piece.objects.count()
    where = "PostgreSQL" if args.postgres else path
    print(f"{total:,} pieces at {where}; DEBUG={settings.DEBUG}; load {load_average()}")
    client = Client()
    # Imports the URL configuration and compiles the base templates, which the first
    # request of a process pays whatever the page; it caches nothing the pages use.
    client.get("/topics/")
    if args.profile:
        for (page_urls,) in urls(2).values():
            profile(client, page_urls[-1])
        from django.core.cache import caches

        caches["pages"].clear()  # the timed runs' first requests start cold again
    if args.explain:
        for (page_urls,) in urls(2).values():
            explain(client, page_urls[-1])
        from django.core.cache import caches

        caches["pages"].clear()
    print(
        f"{'page':<17} {'cold ms':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'after-write p50':>16} {'max':>7} {'queries':>8}  cpu p50 / p95 ms  load"
    )
    editable = list(Piece.objects.order_by("pk").values_list("pk", flat=True))
    edits = random.Random(SEED + 5)
    rows = {}
    from django.utils import timezone

    started_at = timezone.now()
    for name, repetitions in urls(args.runs, args.repeats).items():
        if name == STORED:
            store_cite_texts(repetitions)
        p50s, p95s, cpu50s, cpu95s, cold = [], [], [], [], None
        for page_urls in repetitions:
            times, cpus = [], []
            for url in page_urls:
                started = time.process_time()
                times.append(timed(client, url))
                cpus.append((time.process_time() - started) * 1000)
            cold = times[0] if cold is None else cold
            p50s.append(statistics.median(times))
            p95s.append(percentile(times, 95))
            cpu50s.append(statistics.median(cpus))
            cpu95s.append(percentile(cpus, 95))
        connection.queries_log.clear()  # a full log (9,000) would count no new query
        with CaptureQueriesContext(connection) as queries:  # a page seen, nothing written
            client.get(page_urls[0])
        rows[name] = (cold, statistics.median(p50s), statistics.median(p95s), len(queries))
        cpu = f"cpu {statistics.median(cpu50s):>5.1f} {statistics.median(cpu95s):>5.1f}"
        print(f"{name:<17} {cold:>8.1f} {rows[name][1]:>8.1f} {rows[name][2]:>8.1f} "
              f"{'':>16} {'':>7} {len(queries):>8}  {cpu}  {load_average()}",
              flush=True)  # fmt: skip
    # After every page has been timed between writes: each write invalidates every page.
    print("first request after a save_piece edit (wall p50 / p95 / largest, CPU p50 / p95, ms):")
    for name, repetitions in urls(args.runs, args.repeats).items():
        page_urls = repetitions[0]
        after, cpu = [], []
        for n in range(args.after_writes):
            edit(edits.choice(editable))
            started = time.process_time()
            after.append(timed(client, page_urls[n % len(page_urls)]))
            cpu.append((time.process_time() - started) * 1000)
        print(f"{name:<17} {statistics.median(after):>8.1f} {percentile(after, 95):>8.1f} "
              f"{max(after):>8.1f}  cpu {statistics.median(cpu):>7.1f} {percentile(cpu, 95):>7.1f}"
              f"  {load_average()}", flush=True)  # fmt: skip
    facet_array_costs(editable, edits)
    key_read_cost()
    if args.saves:
        save_costs(editable, args.saves)
    forget_queued_cite_texts(started_at)
    print(f"load average (1, 5, 15 min): {load_average()}")


if __name__ == "__main__":
    main()
