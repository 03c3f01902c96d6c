"""PDF ingest: accuracy on three independent producers' PDFs, and PDFs per second.

``python benchmarks/ingest_pdf.py [--specimens 24] [--files 200] [--runs 1]``

Accuracy: ``--specimens`` commentaries from the demo catalogue typeset by each of fpdf2 (tight
spacing), LibreOffice (python-docx -> ``soffice --convert-to pdf``) and pdflatex, in two
layouts (``tests/ingest/producers``; needs the dev requirements, ``soffice`` and
``pdflatex``), read by ``parse_pdf`` exactly as ingest reads them. Prints fields right out of
fields expected (title, authors, date, number, synopsis, clean body) per producer and layout,
per field, and overall.

Speed: each producer's folder, then N distinct fpdf2 commentaries (``tests/ingest/pdfmaker``),
through ``manage.py ingest FOLDER --json`` on a throwaway SQLite catalogue with the starter
vocabulary loaded, exactly as a curator would: extract in the capped child process, read the
layout, parse, suggest tags and keywords, check duplicates, save with the attachment. Also
extraction and layout reading alone, so the PDF reader's share is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(folder: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "library.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["MEDIA_ROOT"] = f"{folder}/media"
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_vocabulary", verbosity=0, stdout=StringIO())


def producer_folders(root: Path, count: int) -> dict[str, tuple[Path, list]]:
    """Each producer's PDFs of ``count`` specimens in a folder of its own, with the specimens."""
    import tempfile

    from tests.ingest import producers

    specs = producers.specimens(count)
    cache = Path(tempfile.gettempdir()) / "dossier-pdf-producers"
    folders = {}
    for producer in producers.PRODUCERS:
        missing = producers.missing_producer(producer)
        if missing:
            raise SystemExit(missing)
        made = producers.build(producer, specs, cache)
        folder = root / producer
        folder.mkdir(parents=True, exist_ok=True)
        for spec in specs:
            (folder / f"{spec.key}.pdf").write_bytes(made[spec.key])
        folders[producer] = (folder, specs)
    return folders


def accuracy(folders: dict[str, tuple[Path, list]]) -> None:
    """Print fields right / expected per producer and layout, per field and overall."""
    from library.ingest.pdf import PdfExtractor, parse_pdf
    from library.ingest.types import NotACommentary
    from tests.ingest import producers

    fields = producers.FIELDS
    rows: dict[tuple[str, str], Counter] = {}
    files: Counter = Counter()
    with PdfExtractor() as extractor:
        for producer, (folder, specs) in folders.items():
            for spec in specs:
                path = folder / f"{spec.key}.pdf"
                try:
                    parsed = parse_pdf(path.read_bytes(), source=str(path), extractor=extractor)
                    scores = producers.score(spec, parsed)
                except NotACommentary:
                    scores = dict.fromkeys(fields, False)
                row = rows.setdefault((producer, spec.layout), Counter())
                row.update(field for field, right in scores.items() if right)
                files[(producer, spec.layout)] += 1
    header = f"| producer | layout | PDFs | {' | '.join(fields)} | all |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    per_field: Counter = Counter()
    total_files = sum(files.values())
    for (producer, layout), row in rows.items():
        count = files[(producer, layout)]
        per_field.update(row)
        cells = " | ".join(f"{row[field]}/{count}" for field in fields)
        right = sum(row.values())
        print(
            f"| {producer} | {layout} | {count} | {cells} | "
            f"{right}/{count * len(fields)} ({100 * right / (count * len(fields)):.1f} %) |"
        )
    cells = " | ".join(
        f"{per_field[field]}/{total_files} ({100 * per_field[field] / total_files:.0f} %)"
        for field in fields
    )
    right, expected = sum(per_field.values()), total_files * len(fields)
    print(
        f"| **all** | | {total_files} | {cells} | "
        f"**{right}/{expected} ({100 * right / expected:.1f} %)** |"
    )


def write_folder(folder: Path, count: int) -> int:
    from tests.ingest.pdfmaker import commentary_pdf, sample_commentary

    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for index in range(count):
        data = commentary_pdf(sample_commentary(index))
        (folder / f"CO{index:04d}.pdf").write_bytes(data)
        total += len(data)
    return total


def extraction_rate(folder: Path) -> float:
    """Extract in the worker and read the layout, without parsing or saving."""
    from library.ingest.pdf import PdfExtractor, pdf_text

    files = sorted(folder.glob("*.pdf"))
    started = time.perf_counter()
    with PdfExtractor() as extractor:
        for path in files:
            pdf_text(path.read_bytes(), source=str(path), extractor=extractor)
    return len(files) / (time.perf_counter() - started)


def ingest_rate(folder: Path, count: int) -> float:
    """``manage.py ingest FOLDER`` end to end on an emptied catalogue; every file must land."""
    from django.core.management import call_command

    from library.catalogue.models import Piece

    Piece.objects.all().delete()
    out = StringIO()
    started = time.perf_counter()
    call_command("ingest", str(folder), "--json", "--no-progress", stdout=out, stderr=StringIO())
    elapsed = time.perf_counter() - started
    summary = json.loads(out.getvalue())
    if summary["created"] != count:
        raise SystemExit(f"expected {count} created, got {summary}")
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--specimens", type=int, default=24, help="commentaries per producer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dossier-bench-pdf-") as tmp:
        setup_django(tmp)
        folders = producer_folders(Path(tmp) / "producers", args.specimens)
        accuracy(folders)
        print()
        for producer, (producer_folder, specs) in folders.items():
            extract = statistics.median(extraction_rate(producer_folder) for _ in range(args.runs))
            full = statistics.median(
                ingest_rate(producer_folder, len(specs)) for _ in range(args.runs)
            )
            print(
                f"{producer:12} {len(specs)} PDFs: extract + layout {extract:6.1f} PDFs/s, "
                f"manage.py ingest {full:6.1f} PDFs/s"
            )
        folder = Path(tmp) / "commentaries"
        size = write_folder(folder, args.files)
        print(f"{args.files} generated commentary PDFs, {size / args.files / 1024:.1f} KB each")
        extract = [extraction_rate(folder) for _ in range(args.runs)]
        print(f"extract + layout only:   {statistics.median(extract):7.1f} PDFs/s")
        full = [ingest_rate(folder, args.files) for _ in range(args.runs)]
        rate = statistics.median(full)
        print(f"manage.py ingest FOLDER: {rate:7.1f} PDFs/s (median of {args.runs})")


if __name__ == "__main__":
    main()
