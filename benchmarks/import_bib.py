"""Import rate for a large .bib file, and its ratio to a bare bibtexparser parse.

``python benchmarks/import_bib.py [--entries N]`` (default 10,000). Writes a synthetic
.bib with our BibTeX exporter (diacritics, LaTeX specials, macros for months, every
piece type, unique titles), then times, on the same text:

1. a bare ``bibtexparser.parse_string`` with its default middleware: the floor;
2. our reader (``read_bibtex``: macros, crossref, LaTeX decoding, counting, records);
3. the whole import into a fresh SQLite catalogue in a temporary directory
   (``plan_import`` + ``apply_plan``: duplicate detection, keys, one transaction,
   search index kept in step), with entries per second, split into reading, the rest
   of planning (field checks, duplicate index, keys) and writing.

Each figure is printed with its ratio to the bare parse, and the load average before and
after (the machine may be shared: compare ratios, and take the median of several runs).
With ``DATABASE_URL`` pointing at an empty PostgreSQL database (``bash scripts/pg-cluster.sh
run -- python benchmarks/import_bib.py``) the import goes there instead.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FAMILIES = ["Basit", "Nguyễn", "Ḥasan", "Wæver", "Marks", "Creveld", "Ó Súilleabháin", "Łukasz"]
GIVENS = ["Abdul", "Thị Minh", "ʿAbd al-Raḥmān", "Ole", "Zoë", "Martin", "Siobhán", "Anna"]
WORDS = ["Mosul", "ASEAN", "COVID-19", "security", "terrorism", "R&D", "100%", "maritime"]


def synthetic_bib(count: int, seed: int = 6) -> str:
    from library.citations.bibtex import BibTeXWriter
    from library.citations.records import PIECE_TYPES, CitationRecord, Name

    rng = random.Random(seed)
    records = []
    for index in range(count):
        authors = tuple(
            Name(family=f"{rng.choice(FAMILIES)}{index % 97}", given=rng.choice(GIVENS))
            for _ in range(rng.randint(1, 3))
        )
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))
        records.append(
            CitationRecord(
                key=f"k{index:06d}",
                type=PIECE_TYPES[index % len(PIECE_TYPES)],
                title=f"{words.capitalize()} number {index}",
                authors=authors,
                year=rng.randint(1990, 2025),
                month=rng.choice([None, rng.randint(1, 12)]),
                publisher="S. Rajaratnam School of International Studies",
                place="Singapore",
                series="RSIS Commentaries",
                number=f"{index}/2016",
                container_title="Security Dialogue",
                pages=f"{index % 300}–{index % 300 + 20}",
                url=f"https://example.org/pieces/{index}?a=1&b=_{index}",
                abstract="An abstract with & and % and <b>markup</b>. " * 3,
                keywords=("Islamic State", "Iraq"),
            )
        )
    return "".join(BibTeXWriter().write(records))


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def setup_django(directory: str) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        os.environ["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
    os.environ.update(
        {
            "MEDIA_ROOT": directory,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "localhost",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dossier-import-bench-") as directory:
        setup_django(directory)
        import bibtexparser
        from django.db import connection

        from library.citations.readers.bibtex import read_bibtex
        from library.imports.service import apply_plan, plan_import

        text = synthetic_bib(args.entries)
        data = text.encode("utf-8")
        print(
            f"{args.entries:,} entries, {len(data) / 1e6:.1f} MB of BibTeX, into "
            f"{connection.vendor}; load average {_load()}"
        )

        bare, library = timed(bibtexparser.parse_string, text)
        assert len(library.entries) == args.entries
        print(f"bare bibtexparser parse: {bare:7.2f} s  {args.entries / bare:9,.0f} entries/s")

        reader, result = timed(read_bibtex, text)
        assert len(result.entries) == args.entries, result.rejections[:3]
        print(
            f"our reader:              {reader:7.2f} s  {args.entries / reader:9,.0f} entries/s"
            f"  ({reader / bare:.1f}x the bare parse)"
        )

        planning, plan = timed(lambda: plan_import([("bench.bib", data)]))
        writing, _ = timed(lambda: apply_plan(plan))
        total = planning + writing
        created = plan.count("create")
        print(
            f"full import:             {total:7.2f} s  {args.entries / total:9,.0f} entries/s"
            f"  ({total / bare:.1f}x the bare parse; plan {planning:.2f} s, "
            f"write {writing:.2f} s; {created:,} created, {plan.count('duplicate')} duplicates)"
        )
        rest = planning - reader
        print(
            f"  where the time goes:   reading {reader / total:.0%}, checks, duplicates and "
            f"keys {rest / total:.0%} ({rest:.2f} s), writing {writing / total:.0%}; "
            f"load average {_load()}"
        )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
