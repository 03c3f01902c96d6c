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


def extract(data: bytes, max_pages: int) -> dict:
    """Text of every page in layout mode (blank lines kept: they separate paragraphs)."""
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
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
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
    return {"ok": True, "pages": pages}


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
            reply = json.dumps(_fail("memory", "reading the PDF needed more memory than allowed"))
            reply = reply.encode("utf-8")
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
