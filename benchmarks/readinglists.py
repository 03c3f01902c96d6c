"""Reading lists: page cost by list size, and collaborators editing one list at once.

``python benchmarks/readinglists.py [--entries 50,200] [--threads 4] [--ops 50]``
``DATABASE_URL=postgres://… python benchmarks/readinglists.py --postgres``

Runs on a temporary SQLite file with the production settings (WAL, IMMEDIATE
transactions). Prints, per list size, the time to add each entry, the first view of the
list in each citation style with the process cache cleared (what a fresh app instance
sees), and the median times and query count of the list page, the print page and a
BibTeX export. Then T threads
each make N reorders from pages they loaded earlier (so many are stale), and T threads
add different pieces at once; it prints how many changes applied and how many were
refused, and checks that nothing was lost: every entry is still there once, positions
are dense, and the list version went up by exactly the number of applied changes.

``--postgres`` builds the lists from seeded pieces of the catalogue already in
``DATABASE_URL`` (e.g. the 100,000-piece benchmark cluster), times the same page costs,
removes its user and lists afterwards, and skips the concurrency run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from deployed import django_serving_pages

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(folder: str, postgres_url: str = "") -> None:
    os.environ["DATABASE_URL"] = postgres_url or f"sqlite:///{folder}/bench.sqlite3"
    django_serving_pages()  # DEBUG=0, unhashed static URLs: benchmarks/deployed.py
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_pieces(count: int, start: int) -> list:
    from library.catalogue.authors import parse_name
    from library.catalogue.models import Piece
    from library.catalogue.services import PieceContributors, PieceTags, save_piece

    names = ["Abdul Basit", "Nguyễn Thị Minh", "Ole Wæver", "Rohan Gunaratna", "Zoë Marks"]
    return [
        save_piece(
            Piece(
                title=f"Piece {start + i}: Mosul & the 100% question", citation_key=f"p{start + i}"
            ),
            PieceContributors(authors=[parse_name(names[i % len(names)])]),
            PieceTags(),
        )
        for i in range(count)
    ]


def timed_get(client, url: str, runs: int = 5) -> tuple[float, int, float]:
    """Median ms over ``runs``, queries of the last run, and the first (cold-cache) ms."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(queries), times[0]


def catalogue_pieces(count: int, start: int) -> list:
    """``count`` seeded pieces of an existing catalogue (``--postgres``), none made."""
    from library.catalogue.models import Piece

    ids = list(Piece.objects.order_by("pk").values_list("pk", flat=True))
    chosen = random.Random(2016 + start).sample(ids, count)
    found = Piece.objects.in_bulk(chosen)
    return [found[pk] for pk in chosen]


def page_costs(owner, sizes: list[int], pieces_of=make_pieces) -> None:
    """Per list size: adding, then the first view in each style (no warm cache), then medians.

    Before each size's first views the process cache is cleared, as in a fresh app
    instance: what a first view finds must come from the database.
    """
    from django.core.cache import cache
    from django.test import Client

    from library.citations.styles import STYLES
    from library.readinglists import services

    client = Client()
    client.force_login(owner)
    made = 0
    print(
        f"{'entries':>8} {'add ms/entry':>13} {'first view ms, per style':>40} "
        f"{'page ms':>8} {'queries':>8} {'print ms':>9} {'bibtex ms':>10}"
    )
    for size in sizes:
        rl = services.create_list(owner, f"{size} readings")
        sections = [services.add_section(rl, f"Week {i + 1}", None) for i in range(4)]
        pieces = pieces_of(size, made)
        started = time.perf_counter()
        for i, piece in enumerate(pieces):
            services.add_entry(rl, piece, sections[i % 4], annotation="Why: & % $ # _ {")
        add_ms = (time.perf_counter() - started) * 1000 / size
        made += size
        cache.clear()
        firsts = [
            timed_get(client, f"{rl.get_absolute_url()}?style={style}", runs=1)[2]
            for style in STYLES
        ]
        first = " / ".join(f"{ms:.0f}" for ms in firsts)
        page_ms, queries, _ = timed_get(client, rl.get_absolute_url())
        print_ms, _, _ = timed_get(client, f"/lists/{rl.pk}/print/")
        bib_ms, _, _ = timed_get(client, f"/lists/{rl.pk}/export/bibtex/")
        print(
            f"{size:>8} {add_ms:>13.1f} {first:>40} {page_ms:>8.0f} {queries:>8} "
            f"{print_ms:>9.0f} {bib_ms:>10.0f}"
        )
    print(f"styles: {', '.join(STYLES)}; load average {os.getloadavg()[0]:.2f}")


def concurrency(owner, threads: int, ops: int) -> None:
    from django.db import connection

    from library.readinglists import services
    from library.readinglists.models import Entry, ReadingList

    rl = services.create_list(owner, "Contended")
    section = services.add_section(rl, "Week 1", None)
    for piece in make_pieces(20, 10_000):
        services.add_entry(rl, piece, section)
    start_version = ReadingList.objects.get(pk=rl.pk).version
    counts = {"applied": 0, "stale": 0, "at_end": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def reorder(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        try:
            for _ in range(ops):
                seen = ReadingList.objects.get(pk=rl.pk).version  # "load the page"
                time.sleep(rng.random() / 500)  # the person decides
                entry = rng.choice(list(Entry.objects.filter(reading_list=rl)))
                try:
                    services.move_entry(entry, rng.choice(["up", "down"]), seen)
                    outcome = "applied"
                except services.StaleList:
                    outcome = "stale"
                except services.ListEditError:
                    outcome = "at_end"
                with lock:
                    counts[outcome] += 1
        finally:
            connection.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=reorder, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    positions = list(
        Entry.objects.filter(reading_list=rl)
        .order_by("position")
        .values_list("position", flat=True)
    )
    version = ReadingList.objects.get(pk=rl.pk).version
    total = threads * ops
    print(
        f"\nreorders: {threads} threads x {ops} = {total} in {elapsed:.1f} s; "
        f"applied {counts['applied']}, refused as stale {counts['stale']}, "
        f"refused at an end {counts['at_end']}"
    )
    print(
        f"  entries kept: {len(positions)}/20; positions dense: {positions == list(range(20))}; "
        f"version +{version - start_version} for {counts['applied']} applied"
    )
    assert positions == list(range(20))
    assert version - start_version == counts["applied"]

    extra = make_pieces(threads * 5, 20_000)
    errors: list[Exception] = []

    def add(chunk: list) -> None:
        barrier.wait()
        try:
            for piece in chunk:
                services.add_entry(ReadingList.objects.get(pk=rl.pk), piece, section)
        except Exception as exc:  # reported below, the benchmark fails loudly
            errors.append(exc)
        finally:
            connection.close()

    workers = [
        threading.Thread(target=add, args=(extra[i * 5 : (i + 1) * 5],)) for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    positions = list(
        Entry.objects.filter(reading_list=rl)
        .order_by("position")
        .values_list("position", flat=True)
    )
    print(
        f"additions: {len(extra)} at once from {threads} threads; errors {len(errors)}; "
        f"entries now {len(positions)}; positions dense: {positions == list(range(len(positions)))}"
    )
    assert not errors, errors
    assert positions == list(range(20 + len(extra)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="50,200")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--ops", type=int, default=50)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="lists of existing pieces in DATABASE_URL's catalogue (removed after); no "
        "concurrency run",
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.entries.split(",")]
    if args.postgres:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres"):
            parser.error("--postgres needs DATABASE_URL=postgres://…")
        setup_django("", url)
        from django.contrib.auth import get_user_model
        from django.db import connection

        from library.catalogue.models import Piece

        print(f"{Piece.objects.count():,} pieces on {connection.vendor}")
        owner = get_user_model().objects.create_user(username=f"bench-{os.getpid()}")
        try:
            page_costs(owner, sizes, catalogue_pieces)
        finally:
            owner.delete()  # and its lists; the stored citations stay (shared, correct)
        return
    with tempfile.TemporaryDirectory() as folder:
        setup_django(folder)
        from django.contrib.auth import get_user_model

        owner = get_user_model().objects.create_user(username="bench", password="x")
        page_costs(owner, sizes)
        concurrency(owner, args.threads, args.ops)


if __name__ == "__main__":
    main()
