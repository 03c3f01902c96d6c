"""Citation readers: BibTeX/BibLaTeX, RIS and CSL-JSON files in, citation records out.

:func:`read_citations` is the one entry point: it decodes the bytes (UTF-8 with or without
BOM, else Windows-1252/Latin-1 with a warning, or the encoding the caller names), picks
the format from the file name or, failing that, the content, and hands the text to the
format's reader. Everything here is pure Python, so the web upload, the management
command and the tests all read files the same way without a database.
"""

from __future__ import annotations

from pathlib import PurePath

from library.citations.readers.bibtex import read_bibtex
from library.citations.readers.common import (
    ImportedEntry,
    ReadResult,
    Rejection,
    UnreadableFile,
)
from library.citations.readers.csljson import read_csljson
from library.citations.readers.ris import read_ris

__all__ = [
    "FORMATS",
    "ImportedEntry",
    "ReadResult",
    "Rejection",
    "UnreadableFile",
    "decode",
    "detect_format",
    "read_citations",
]

READERS = {"bibtex": read_bibtex, "ris": read_ris, "csljson": read_csljson}
FORMATS = tuple(READERS)
EXTENSIONS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".biblatex": "bibtex",
    ".ris": "ris",
    ".json": "csljson",
    ".csljson": "csljson",
}


def decode(data: bytes, encoding: str | None = None) -> tuple[str, list[str]]:
    """Bytes -> text and warnings; ``UnreadableFile`` for binary data or a wrong encoding."""
    if encoding:
        try:
            return data.decode(encoding).lstrip("\ufeff"), []
        except LookupError:
            raise UnreadableFile(f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"the file is not valid {encoding}: byte {exc.start} cannot be decoded"
            ) from None
    if b"\x00" in data[:65536]:
        raise UnreadableFile("the file looks like binary data, not text")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        name = "Windows-1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        name = "Latin-1"
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > len(text[:65536]) // 100:
        raise UnreadableFile("the file looks like binary data, not text")
    return text, [f"the file is not UTF-8; it was read as {name} (choose with --encoding)"]


def detect_format(filename: str, text: str) -> str:
    """The format from the file's extension, else from how its text starts."""
    by_name = EXTENSIONS.get(PurePath(filename).suffix.lower())
    if by_name:
        return by_name
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start in "[{" and start:
        return "csljson"
    if "\nTY  -" in "\n" + text[:4096] or text.lstrip().startswith("TY "):
        return "ris"
    if "@" in text:
        return "bibtex"
    raise UnreadableFile(
        f"cannot tell the format of {filename!r}: name it .bib, .ris or .json, or choose the format"
    )


def read_citations(
    data: bytes, *, filename: str, encoding: str | None = None, fmt: str | None = None
) -> ReadResult:
    """Read one file's bytes; ``UnreadableFile`` says why a whole file cannot be read."""
    text, warnings = decode(data, encoding)
    if not text.strip():
        raise UnreadableFile("the file is empty")
    fmt = fmt or detect_format(filename, text)
    if fmt not in READERS:
        raise UnreadableFile(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    result = READERS[fmt](text)
    result.warnings[:0] = warnings
    return result
