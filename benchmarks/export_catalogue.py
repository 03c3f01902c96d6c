"""Catalogue export end to end: pieces/s per format out of the database, and peak memory.

``python benchmarks/export_catalogue.py [--pieces 1000 10000] [--runs 3]``

Builds a throwaway SQLite catalogue of synthetic pieces (1-3 authors, 3 topics, a synopsis)
in a temporary directory, then streams the export the web view and ``manage.py export``
use (``library.catalogue.exports.build_export``) into a counting sink. Prints the median
rate per format and the peak traced Python memory for the BibTeX export at each size:
bounded memory means the peak stays about the same as the catalogue grows.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(folder: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "library.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.conf import settings

    # DEBUG keeps every SQL statement in memory (connection.queries); production does not.
    settings.DEBUG = False
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(count: int, seed: int = 2016) -> None:
    from library.catalogue.models import Author, Authorship, Piece, Role, Topic

    rng = random.Random(seed)
    families = ["Basit", "Nguyễn", "Ḥasan", "Wæver", "Marks", "Creveld", "Ó Súilleabháin"]
    givens = ["Abdul", "Thị Minh", "ʿAbd al-Raḥmān", "Ole", "Zoë", "Martin", "Siobhán"]
    words = ["Mosul", "ASEAN", "COVID-19", "security", "terrorism", "R&D", "100%", "maritime"]
    authors = [
        Author.objects.get_or_create(family=f, given=g, slug=f"a-{i}-{j}")[0]
        for i, f in enumerate(families)
        for j, g in enumerate(givens)
    ]
    topics = [
        Topic.objects.get_or_create(name=f"Topic {i}", slug=f"topic-{i}")[0] for i in range(30)
    ]
    start = Piece.objects.count()
    last_pk = Piece.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pieces = [
        Piece(
            title=" ".join(rng.choice(words) for _ in range(6)),
            type=rng.choice(["commentary", "article", "report", "book"]),
            synopsis=" ".join(rng.choice(words) for _ in range(50)),
            publisher="S. Rajaratnam School of International Studies",
            series="RSIS Commentaries",
            number=f"{i}/2016",
            citation_key=f"bench{start + i}",
        )
        for i in range(count)
    ]
    Piece.objects.bulk_create(pieces, batch_size=1000)
    created = Piece.objects.filter(pk__gt=last_pk).order_by("pk")
    links, tags = [], []
    for piece in created.iterator(chunk_size=2000):
        for position, author in enumerate(rng.sample(authors, rng.randint(1, 3))):
            links.append(
                Authorship(piece=piece, author=author, role=Role.AUTHOR, position=position)
            )
        for topic in rng.sample(topics, 3):
            tags.append(Piece.topics.through(piece_id=piece.pk, topic_id=topic.pk))
    Authorship.objects.bulk_create(links, batch_size=2000)
    Piece.topics.through.objects.bulk_create(tags, batch_size=2000)


def drain(fmt: str) -> tuple[float, int]:
    from library.catalogue.browse import Filters
    from library.catalogue.exports import build_export, export_queryset

    started = time.perf_counter()
    export = build_export(export_queryset(Filters()), fmt, basename="bench")
    size = sum(len(chunk) for chunk in export.chunks)
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup_django(folder)
        from library.catalogue.models import Piece

        print(f"{'pieces':>7} {'format':<9} {'median s':>9} {'pieces/s':>9} {'MB out':>7}")
        peaks = {}
        for size in sorted(args.pieces):
            populate(size - Piece.objects.count())
            for fmt in ("bibtex", "biblatex", "ris", "csljson"):
                timings = [drain(fmt) for _ in range(args.runs)]
                median = statistics.median(t for t, _ in timings)
                megabytes = timings[0][1] / 1e6
                rate = size / median
                print(f"{size:>7} {fmt:<9} {median:>9.2f} {rate:>9,.0f} {megabytes:>7.1f}")
            tracemalloc.start()
            drain("bibtex")
            peaks[size] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        print()
        for size, peak in peaks.items():
            print(f"peak traced memory, BibTeX export of {size:>6} pieces: {peak / 1024:,.0f} KiB")
        sizes = sorted(peaks)
        if len(sizes) > 1:
            growth = peaks[sizes[-1]] / peaks[sizes[0]]
            scale = sizes[-1] / sizes[0]
            print(f"memory ratio {sizes[-1]}/{sizes[0]}: {growth:.2f} (catalogue x{scale:g})")


if __name__ == "__main__":
    main()
