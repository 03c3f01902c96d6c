"""Layout extraction backends compared: pypdf's visitor functions against pdfminer.six.

``python benchmarks/pdf_backends.py [--count 12]``  (pdfminer.six must be importable:
``pip install --target /tmp/pdfminer-cmp pdfminer.six`` and ``PYTHONPATH=/tmp/pdfminer-cmp``;
it is not a project dependency.)

Both backends feed the same :func:`library.ingest.layout.read_layout` with text runs
(position, size, style) for the commentary PDFs of ``tests/ingest/producers`` (fpdf2,
LibreOffice, pdflatex), in this process, so the figures compare extraction alone: seconds
per PDF and fields right out of fields expected. pdfplumber is pdfminer.six with a friendlier
API on top, so it costs at least as much as pdfminer.six.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pypdf_pages(data: bytes) -> tuple[str, list[dict]]:
    from pypdf import PdfReader

    from library.ingest.pdf_worker import page_chunks

    reader = PdfReader(io.BytesIO(data))
    pages = [
        {
            "width": float(p.mediabox.width),
            "height": float(p.mediabox.height),
            "bottom": float(p.mediabox.bottom),
            "chunks": page_chunks(p),
        }
        for p in reader.pages
    ]
    return str((reader.metadata or {}).get("/Producer", "")), pages


def pdfminer_pages(data: bytes) -> tuple[str, list[dict]]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar, LTTextContainer, LTTextLine
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser

    from library.ingest.pdf_worker import BOLD, ITALIC

    document = PDFDocument(PDFParser(io.BytesIO(data)))
    info = document.info[0] if document.info else {}
    producer = info.get("Producer", b"")
    producer = producer.decode("latin-1") if isinstance(producer, bytes) else str(producer)
    pages = []
    for layout in extract_pages(io.BytesIO(data)):
        chunks = []
        for element in layout:
            if not isinstance(element, LTTextContainer):
                continue
            for line in element:
                if not isinstance(line, LTTextLine):
                    continue
                chars = [c for c in line if isinstance(c, LTChar)]
                if not chars:
                    continue
                name = chars[0].fontname.casefold()
                style = (BOLD if "bold" in name or "cmbx" in name else 0) | (
                    ITALIC if "italic" in name or "oblique" in name or "cmti" in name else 0
                )
                chunks.append(
                    [line.x0, chars[0].matrix[5], chars[0].size, style, line.get_text().rstrip()]
                )
        pages.append({"width": layout.width, "height": layout.height, "chunks": chunks})
    return producer, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12, help="commentaries per producer")
    args = parser.parse_args()
    from library.ingest.layout import read_layout
    from library.ingest.text import parse_commentary
    from tests.ingest import producers

    specs = producers.specimens(args.count)
    cache = Path(tempfile.gettempdir()) / "dossier-pdf-producers"
    files = []
    for producer in producers.PRODUCERS:
        made = producers.build(producer, specs, cache)
        files += [(spec, made[spec.key]) for spec in specs]
    for label, backend in (("pypdf visitor", pypdf_pages), ("pdfminer.six", pdfminer_pages)):
        right, total, missed = Counter(), 0, Counter()
        started = time.perf_counter()
        extracted = [backend(data) for _, data in files]
        elapsed = time.perf_counter() - started
        for (spec, _), (producer, pages) in zip(files, extracted, strict=True):
            try:
                parsed = parse_commentary(read_layout(pages, producer=producer).text)
                scores = producers.score(spec, parsed)
            except ValueError:
                scores = dict.fromkeys(producers.FIELDS, False)
            right.update(k for k, ok in scores.items() if ok)
            name = (producer.split() or ["?"])[0]
            missed.update(f"{name}:{k}" for k, ok in scores.items() if not ok)
            total += len(producers.FIELDS)
        print(
            f"{label:14} {1000 * elapsed / len(files):6.1f} ms/PDF  "
            f"fields right {sum(right.values())}/{total} "
            f"({100 * sum(right.values()) / total:.1f} %)"
            + (f"; missed {dict(missed)}" if missed else "")
        )


if __name__ == "__main__":
    main()
