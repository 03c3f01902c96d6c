"""Read a commentary PDF: check the file, extract its text safely, clean it, parse it.

pypdf runs in a child process (:mod:`library.ingest.pdf_worker`) under an address-space cap
and a wall-clock timeout, because a malicious or broken PDF can make a pure-Python parser
loop or balloon; killing a child is the only reliable way to stop either. One
:class:`PdfExtractor` keeps its child alive across files, so a folder run pays the start-up
cost once.

The worker reports every text run with its position, size and weight;
:mod:`library.ingest.layout` reads the commentary from that layout (title by type size,
running headers and footers by position, boilerplate sentence by sentence) and writes the
canonical text :func:`library.ingest.text.parse_commentary` parses. Why pypdf's visitor
functions and not pdfminer.six or pdfplumber: ``library/ingest/README.md``.
:func:`clean_pages` is the older text-only cleaning, kept for text that arrives without a
layout.

Every refusal is a :class:`PdfProblem` whose ``reason`` says what is wrong and whose
``attention`` flag separates files a person can fix (scanned, encrypted) from broken ones.
No Django imports: the caller passes the limits in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from library.ingest.layout import LayoutText, read_layout
from library.ingest.pdf_structure import structure_problem
from library.ingest.pdf_worker import REPLY_HEADER, REQUEST_HEADER
from library.ingest.text import parse_commentary
from library.ingest.types import NotACommentary, ParsedPiece

MB = 1024 * 1024
PDF_MAGIC = b"%PDF-"
MIN_TEXT_CHARS = 40
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PdfLimits:
    """How much one PDF may cost: bytes on disk, pages, seconds and memory of the reader."""

    max_bytes: int = 25 * MB
    max_pages: int = 500
    timeout: float = 30.0
    memory_bytes: int = 768 * MB


class PdfProblem(NotACommentary):
    """A PDF that cannot be ingested. ``attention``: a person can fix it (OCR, password)."""

    def __init__(self, source: str, reason: str, *, attention: bool = False) -> None:
        super().__init__(source, reason)
        self.attention = attention


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- checks before reading ---------------------------------------------------------------------

_SEPARATORS = ("/", "\\")


def file_name_problem(name: str) -> str | None:
    """Why a file name is unacceptable (path separators, control characters), or ``None``."""
    if not name or not name.strip():
        return "the file name is empty"
    for separator in _SEPARATORS:
        if separator in name:
            return f"the file name contains a path separator ({separator!r})"
    if name in (".", ".."):
        return "the file name is a directory reference"
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return f"the file name contains a control character (U+{ord(char):04X})"
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        return "the file name is longer than 255 bytes"
    return None


def check_pdf_bytes(data: bytes, *, source: str, limits: PdfLimits) -> None:
    """Refuse what is too big, is not a PDF by its magic bytes, or is visibly truncated."""
    if len(data) > limits.max_bytes:
        raise PdfProblem(
            source,
            f"the file is {len(data) / MB:.1f} MB, over the {limits.max_bytes / MB:.0f} MB limit",
        )
    if not is_pdf(data):
        raise PdfProblem(source, f"is not a PDF: its content {describe_content(data)}")
    if b"%%EOF" not in data[-2048:]:
        raise PdfProblem(
            source, "the PDF is truncated or corrupt: it has no end-of-file marker (%%EOF)"
        )
    if problem := structure_problem(data):
        raise PdfProblem(source, problem)


def is_pdf(data: bytes) -> bool:
    """The PDF header may follow a little junk, as readers allow, within the first 1 KB."""
    return PDF_MAGIC in data[:1024]


_SIGNATURES = (
    (b"\x89PNG", "is a PNG image"),
    (b"\xff\xd8\xff", "is a JPEG image"),
    (b"PK\x03\x04", "is a ZIP archive (a Word or other Office file?)"),
    (b"\xd0\xcf\x11\xe0", "is an old Microsoft Office file"),
    (b"{\\rtf", "is an RTF document"),
    (b"GIF8", "is a GIF image"),
)


def describe_content(data: bytes) -> str:
    """A phrase for what a non-PDF file seems to be, for the refusal message."""
    if not data:
        return "is empty"
    for signature, description in _SIGNATURES:
        if data.startswith(signature):
            return description
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "is an HTML page"
    if b"\x00" not in data[:4096]:
        return "is plain text"
    return "is binary data that does not start with %PDF-"


# --- extraction in a child process ----------------------------------------------------------


@dataclass(frozen=True)
class _Worker:
    """The child process and its two pipes. Popen types ``stdin`` and ``stdout`` Optional
    (they exist only when piped); the worker always pipes both, so they are bound once here."""

    process: subprocess.Popen[bytes]
    stdin: IO[bytes]
    stdout: IO[bytes]


class PdfExtractor:
    """A reusable, killable pypdf worker. Use as a context manager or call :meth:`close`."""

    def __init__(self, limits: PdfLimits | None = None) -> None:
        self.limits = limits or PdfLimits()
        self._worker: _Worker | None = None

    def __enter__(self) -> PdfExtractor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        try:
            worker.stdin.close()
            worker.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            worker.process.kill()
            worker.process.wait()
        worker.stdout.close()

    def pages(self, data: bytes, *, source: str) -> list[str]:
        """The text of each page; raises :class:`PdfProblem` for anything unreadable."""
        return [
            "\n".join(text for *_, text in page["chunks"])
            for page in self.layout(data, source=source)[1]
        ]

    def layout(self, data: bytes, *, source: str) -> tuple[str, list[dict]]:
        """The PDF's producer and, per page, its size and positioned text runs (see
        :mod:`library.ingest.pdf_worker`); raises :class:`PdfProblem` for anything unreadable."""
        check_pdf_bytes(data, source=source, limits=self.limits)
        worker = self._ensure_worker()
        try:
            worker.stdin.write(REQUEST_HEADER.pack(self.limits.max_pages, len(data)))
            worker.stdin.write(data)
            worker.stdin.flush()
            reply = self._read_reply(worker, source)
        except BrokenPipeError:
            reply = None
        if reply is None:
            raise PdfProblem(source, self._death_reason())
        answer = json.loads(reply)
        if not answer["ok"]:
            raise PdfProblem(source, answer["reason"], attention=answer["kind"] == "encrypted")
        return answer["producer"], answer["pages"]

    def _ensure_worker(self) -> _Worker:
        if self._worker is not None and self._worker.process.poll() is not None:
            self._kill()  # it died while idle: its pipes are closed before a new one starts
        if self._worker is None:
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
            )
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "library.ingest.pdf_worker",
                    str(self.limits.memory_bytes),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=_PROJECT_ROOT,
                env=env,
            )
            # Both pipes were asked for above, so Popen has opened both.
            assert process.stdin is not None
            assert process.stdout is not None
            self._worker = _Worker(process, process.stdin, process.stdout)
        return self._worker

    def _read_reply(self, worker: _Worker, source: str) -> bytes | None:
        deadline = time.monotonic() + self.limits.timeout
        header = self._read(worker, REPLY_HEADER.size, deadline, source)
        if header is None:
            return None
        (length,) = REPLY_HEADER.unpack(header)
        return self._read(worker, length, deadline, source)

    def _read(self, worker: _Worker, size: int, deadline: float, source: str) -> bytes | None:
        fd = worker.stdout.fileno()
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                self._kill()
                raise PdfProblem(
                    source,
                    f"reading the PDF took longer than the {self.limits.timeout:g} s limit; "
                    "it was stopped",
                )
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _death_reason(self) -> str:
        worker, self._worker = self._worker, None
        code = worker.process.wait() if worker is not None else None
        if worker is not None:
            worker.stdout.close()
            with contextlib.suppress(BrokenPipeError):
                worker.stdin.close()
        if code is not None and code < 0 and -code in (signal.SIGKILL, signal.SIGSEGV):
            return (
                "the PDF reader was stopped while reading this file "
                f"(it went over the {self.limits.memory_bytes // MB} MB memory limit or crashed)"
            )
        return f"the PDF reader stopped unexpectedly while reading this file (exit code {code})"

    def _kill(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.process.kill()
            worker.process.wait()
            worker.stdout.close()
            with contextlib.suppress(BrokenPipeError):
                worker.stdin.close()


# --- cleaning -----------------------------------------------------------------------------------

_EDGE_LINES = 4
_PAGE_NUMBER = re.compile(
    r"(?i)^(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?$"
)
_TERMINAL = tuple(".!?:;…\"'”’)]")
# Compounds whose hyphen is real even when it falls at a line end ("self-\nstyled").
_KEEP_HYPHEN_PREFIXES = frozenset(
    "self anti counter non co ex post pre pro semi well cross long short high low half "
    "multi quasi neo pan pseudo sub super ultra vice war so".split()
)
_LINE_END_HYPHEN = re.compile(r"(?P<head>\b[^\W\d_]+)-\n[ \t]*(?P<tail>[a-z][^\W\d_]*)")


def clean_pages(pages: list[str]) -> str:
    """Join extracted pages into one text without headers, footers, numbers or split words."""
    split = [[line.rstrip() for line in page.replace("\r", "").split("\n")] for page in pages]
    repeated = _repeated_edge_lines(split)
    cleaned_pages: list[list[str]] = []
    for number, lines in enumerate(split):
        content = [i for i, line in enumerate(lines) if line.strip()]
        edges = set(content[:_EDGE_LINES] + content[-_EDGE_LINES:])
        kept = [
            line
            for i, line in enumerate(lines)
            if not (i in edges and _is_furniture(line, repeated, first_page=number == 0))
        ]
        while kept and not kept[-1].strip():
            kept.pop()
        while kept and not kept[0].strip():
            kept.pop(0)
        if kept:
            cleaned_pages.append(kept)
    text = ""
    for lines in cleaned_pages:
        if text:
            # A page that ends mid-sentence continues on the next one: same paragraph.
            text += "\n" if not text.rstrip().endswith(_TERMINAL) else "\n\n"
        text += "\n".join(lines)
    return _drop_boilerplate(_dehyphenate(text))


# The publisher's notice sits in a box beside the banner, often with no gap before the title,
# so the text parser would read it as part of the title: drop it line by line here.
_BOILERPLATE_START = re.compile(r"(?i)commentary is a platform to provide")
_BOILERPLATE_END = re.compile(
    r"(?i)(?:recognition to the authors?(?:\(s\))? and rsis|editor,? rsis commentar\w*[^.]*"
    r"|@ntu\.edu\.sg[^.]*)\.?\s*$"
)
_BOILERPLATE_MAX_LINES = 10


def _drop_boilerplate(text: str) -> str:
    lines = text.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        if not _BOILERPLATE_START.search(lines[index]):
            kept.append(lines[index])
            index += 1
            continue
        stop = min(len(lines), index + _BOILERPLATE_MAX_LINES)
        end = index
        while end < stop and lines[end].strip() and not _BOILERPLATE_END.search(lines[end]):
            end += 1
        index = end + 1 if end < stop else end
        kept.append("")
    return "\n".join(kept)


def _is_furniture(line: str, repeated: set[str], *, first_page: bool) -> bool:
    """A running header or footer, or a page number. A series banner repeated on every page
    ("RSIS Commentary No. 263 – 28 October 2016") stays on the first: it carries the number
    and date."""
    stripped = line.strip()
    if _PAGE_NUMBER.match(stripped):
        return True
    if _fold(line) not in repeated:
        return False
    return not (first_page and _BANNER_HINT.search(stripped))


_BANNER_HINT = re.compile(r"\bNo\.?\s*\d")


def _fold(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line).strip()).casefold()


def _repeated_edge_lines(pages: list[list[str]]) -> set[str]:
    """Lines found at the top or bottom of at least two pages (and half of them, if many)."""
    if len(pages) < 2:
        return set()
    counts: dict[str, int] = {}
    for lines in pages:
        content = [line for line in lines if line.strip()]
        for folded in {_fold(line) for line in content[:_EDGE_LINES] + content[-_EDGE_LINES:]}:
            if len(folded) >= 3:
                counts[folded] = counts.get(folded, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    return {line for line, count in counts.items() if count >= needed}


def _dehyphenate(text: str) -> str:
    def join(match: re.Match) -> str:
        head, tail = match["head"], match["tail"]
        hyphen = "-" if head.casefold() in _KEEP_HYPHEN_PREFIXES else ""
        return f"{head}{hyphen}{tail}\n"

    # The rest of the continuation line moves up with the word's tail; drop the space left.
    joined = _LINE_END_HYPHEN.sub(join, text)
    return re.sub(r"\n[ \t]+(?=\S)", "\n", joined)


# --- the whole pipeline ---------------------------------------------------------------------


def pdf_layout_text(data: bytes, *, source: str, extractor: PdfExtractor) -> LayoutText:
    """A PDF read from its layout as canonical commentary text, with the reader's warnings;
    raises :class:`PdfProblem` (no text layer included)."""
    producer, pages = extractor.layout(data, source=source)
    read = read_layout(pages, producer=producer)
    if sum(1 for char in read.text if not char.isspace()) < MIN_TEXT_CHARS:
        raise PdfProblem(source, "no text layer; needs OCR", attention=True)
    return read


def pdf_text(data: bytes, *, source: str, extractor: PdfExtractor) -> str:
    """The PDF as canonical commentary text; raises :class:`PdfProblem`."""
    return pdf_layout_text(data, source=source, extractor=extractor).text


def parse_pdf(data: bytes, *, source: str, extractor: PdfExtractor) -> ParsedPiece:
    """Check, extract, read the layout of and parse a commentary PDF; raises
    ``NotACommentary``."""
    read = pdf_layout_text(data, source=source, extractor=extractor)
    parsed = parse_commentary(read.text, source=source)
    parsed.warnings[:0] = read.warnings
    return parsed


def read_pdf_file(path: str | Path, *, limits: PdfLimits) -> bytes:
    """A PDF's bytes, refusing an oversized file before reading it into memory."""
    size = os.stat(path).st_size
    if size > limits.max_bytes:
        raise PdfProblem(
            str(path),
            f"the file is {size / MB:.1f} MB, over the {limits.max_bytes / MB:.0f} MB limit",
        )
    with open(path, "rb") as handle:
        return handle.read(limits.max_bytes + 1)
