"""The child process that reads PDFs, so a hostile file can only hurt a process we can kill.

Started by :class:`library.ingest.pdf.PdfExtractor` as ``python -m library.ingest.pdf_worker
MEMORY_BYTES``. It caps its own address space (``RLIMIT_AS``) before importing pypdf, then
answers requests on stdin/stdout until stdin closes. A request is an 8-byte header (page limit,
payload length) and the PDF's bytes; a reply is a 4-byte length and a JSON object, either
``{"ok": true, "pages": [...]}`` or ``{"ok": false, "kind": ..., "reason": ...}``. The parent
enforces the time limit by killing this process; the memory limit surfaces here as
``MemoryError`` (or, if even that cannot be raised, as the process dying).

No Django here: it would only cost start-up time and memory under the cap.
"""

from __future__ import annotations

import io
import json
import resource
import struct
import sys
from typing import BinaryIO

REQUEST_HEADER = struct.Struct(">II")
REPLY_HEADER = struct.Struct(">I")


BOLD = 1
ITALIC = 2
# Font names carry the weight and slant far more reliably than the font descriptor's flags,
# which many producers leave at zero; "CMBX"/"CMTI" are Computer Modern's (pdflatex).
_BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi", "cmbx", "cmb10", "-bd", ",bd")
_ITALIC_NAMES = ("italic", "oblique", "cmti", "cmsl", "cmbxti", "-it", ",it")


def font_style(font: dict | None) -> int:
    """``BOLD``/``ITALIC`` bits for a font dictionary, from its name and descriptor."""
    if not font:
        return 0
    name = str(font.get("/BaseFont", "")).casefold()
    style = BOLD if any(part in name for part in _BOLD_NAMES) else 0
    if any(part in name for part in _ITALIC_NAMES):
        style |= ITALIC
    descriptor = font.get("/FontDescriptor")
    if descriptor is not None and not style & BOLD:
        weight = descriptor.get_object().get("/FontWeight", 0)
        if isinstance(weight, (int, float)) and weight >= 600:
            style |= BOLD
    return style


def page_chunks(page) -> list[list]:
    """Every text run on ``page`` with its position, size and style (see the module doc)."""
    chunks: list[list] = []
    styles: dict[int, int] = {}

    def visit(text: str, cm: list, tm: list, font: dict | None, size: float) -> None:
        if not text or text.isspace():
            return
        # Text space to device space: the text matrix, then the current transformation; the
        # rendered size is the font size scaled along the text's vertical axis.
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        key = id(font)
        if key not in styles:
            styles[key] = font_style(font)
        rendered = abs(size) * ((c * c + d * d) ** 0.5 or 1.0)
        chunks.append([round(x, 1), round(y, 1), round(rendered, 2), styles[key], text])

    page.extract_text(visitor_text=visit)
    return chunks


def extract(data: bytes, max_pages: int) -> dict:
    """Every page's text runs with position, size and style; or why the PDF cannot be read."""
    from pypdf import PdfReader
    from pypdf.errors import (
        DependencyError,
        FileNotDecryptedError,
        LimitReachedError,
        PdfReadError,
    )

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                return _fail(
                    "encrypted", f"the PDF is encrypted in a way Dossier cannot open ({exc})"
                )
            if not opened:
                return _fail("encrypted", "the PDF is encrypted; save an unprotected copy first")
        # A repaired file without a document catalogue is not a PDF (an HTML page with a
        # PDF header, say): refuse it rather than keep and serve it as one.
        if "/Root" not in reader.trailer:
            return _fail("corrupt", "the file has no PDF document catalogue (/Root): not a PDF")
        count = len(reader.pages)
        if count == 0:
            return _fail("corrupt", "the PDF has no pages")
        if count > max_pages:
            return _fail("pages", f"the PDF has {count:,} pages; the limit is {max_pages:,}")
        pages = []
        for page in reader.pages:
            box = page.mediabox
            pages.append(
                {
                    "width": float(box.width),
                    "height": float(box.height),
                    "bottom": float(box.bottom),
                    "chunks": page_chunks(page),
                }
            )
        metadata = reader.metadata
        producer = str(metadata.get("/Producer", "") or "") if metadata is not None else ""
    except FileNotDecryptedError:
        return _fail("encrypted", "the PDF is encrypted; save an unprotected copy first")
    except MemoryError:
        return _fail("memory", "reading the PDF needed more memory than the limit allows")
    except LimitReachedError as exc:
        return _fail("memory", f"a part of the PDF inflates beyond the reader's limit ({exc})")
    except RecursionError:
        return _fail("corrupt", "the PDF's structure is nested too deeply to read (corrupt?)")
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        return _fail("corrupt", f"the PDF is corrupt or truncated ({_short(exc)})")
    except Exception as exc:  # any other failure in pypdf: an unreadable file
        return _fail("corrupt", f"the PDF could not be read ({type(exc).__name__}: {_short(exc)})")
    return {"ok": True, "producer": producer[:200], "pages": pages}


def _fail(kind: str, reason: str) -> dict:
    return {"ok": False, "kind": kind, "reason": reason}


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer requests until the parent closes stdin."""
    while True:
        header = _read_exactly(stdin, REQUEST_HEADER.size)
        if header is None:
            return
        max_pages, length = REQUEST_HEADER.unpack(header)
        data = _read_exactly(stdin, length)
        if data is None:
            return
        try:
            reply = json.dumps(extract(data, max_pages), ensure_ascii=False).encode("utf-8")
        except MemoryError:
            message = json.dumps(_fail("memory", "reading the PDF needed more memory than allowed"))
            reply = message.encode("utf-8")
        del data
        stdout.write(REPLY_HEADER.pack(len(reply)) + reply)
        stdout.flush()


def main(argv: list[str]) -> None:
    memory = int(argv[1]) if len(argv) > 1 else 0
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    import pypdf  # noqa: F401 - imported here, under the cap, before the first request

    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv)
