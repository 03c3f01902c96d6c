"""PDF ingest throughput: PDFs per second for a folder of generated commentaries.

``python benchmarks/ingest_pdf.py [--files 200] [--runs 1]``

Writes N distinct two-page RSIS-style commentary PDFs (``tests/ingest/pdfmaker``, needs the
dev requirements) into a temporary folder, then runs ``manage.py ingest FOLDER --json`` on a
throwaway SQLite catalogue with the starter vocabulary loaded, exactly as a curator would.
Prints PDFs/s for the whole run (extract in the capped child process, clean, parse, suggest
tags and keywords, check duplicates, save with the attachment) and, separately, for
extraction and cleaning alone, so the share of the PDF reader is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
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
    from library.ingest.pdf import PdfExtractor, pdf_text

    files = sorted(folder.glob("*.pdf"))
    started = time.perf_counter()
    with PdfExtractor() as extractor:
        for path in files:
            pdf_text(path.read_bytes(), source=str(path), extractor=extractor)
    return len(files) / (time.perf_counter() - started)


def ingest_rate(folder: Path, count: int) -> float:
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dossier-bench-pdf-") as tmp:
        setup_django(tmp)
        folder = Path(tmp) / "commentaries"
        size = write_folder(folder, args.files)
        print(f"{args.files} generated commentary PDFs, {size / args.files / 1024:.1f} KB each")
        extract = [extraction_rate(folder) for _ in range(args.runs)]
        print(f"extract + clean only:    {statistics.median(extract):7.1f} PDFs/s")
        full = [ingest_rate(folder, args.files) for _ in range(args.runs)]
        rate = statistics.median(full)
        print(f"manage.py ingest FOLDER: {rate:7.1f} PDFs/s (median of {args.runs})")


if __name__ == "__main__":
    main()
