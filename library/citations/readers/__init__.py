"""Citation readers: BibTeX/BibLaTeX, RIS and CSL-JSON files in, citation records out.

:func:`read_citations` is the one entry point: it decodes the bytes (UTF-8 with or without
BOM, else Windows-1252/Latin-1 with a warning, or the encoding the caller names), picks
the format from the file name or, failing that, the content, and hands the text to the
format's reader. Everything here is pure Python, so the web upload, the management
command and the tests all read files the same way without a database.
"""

from __future__ import annotations

import codecs
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


# Byte-order marks, longest first (UTF-32-LE's begins with UTF-16-LE's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def _decode_as(data: bytes, encoding: str, label: str) -> str:
    """``data`` in ``encoding``; ``UnreadableFile`` naming the line of the first bad byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the file is not valid {label}: line {_line_of(data, exc.start)}, "
            f"byte {exc.start} cannot be decoded"
        ) from None


def _wide_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 or UTF-32 without a byte-order mark, told by where the zero bytes fall.

    Mostly-ASCII text in these encodings has a zero in every other (or three of every
    four) bytes at fixed positions; binary data does not.
    """
    sample = data[:4096]
    if len(sample) < 4:
        return None
    quarters = [sample[i::4].count(0) / len(sample[i::4]) for i in range(4)]
    if quarters[1] > 0.9 and quarters[2] > 0.9 and quarters[3] > 0.9 and len(data) % 4 == 0:
        return "utf-32-le", "UTF-32"
    if quarters[0] > 0.9 and quarters[1] > 0.9 and quarters[2] > 0.9 and len(data) % 4 == 0:
        return "utf-32-be", "UTF-32"
    halves = [sample[i::2].count(0) / len(sample[i::2]) for i in range(2)]
    if halves[1] > 0.6 and halves[0] < 0.1 and len(data) % 2 == 0:
        return "utf-16-le", "UTF-16"
    if halves[0] > 0.6 and halves[1] < 0.1 and len(data) % 2 == 0:
        return "utf-16-be", "UTF-16"
    return None


def decode(data: bytes, encoding: str | None = None) -> tuple[str, list[str]]:
    """Bytes -> text and warnings; ``UnreadableFile`` for binary data or a wrong encoding.

    A byte-order mark decides (UTF-8, UTF-16, UTF-32); then UTF-16/32 without one, told by
    their zero bytes; then UTF-8; then Windows-1252 or Latin-1 with a warning.
    """
    if encoding:
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            raise UnreadableFile(f"unknown encoding {encoding!r}") from None
        if not getattr(info, "_is_text_encoding", True) or info.name == "undefined":
            raise UnreadableFile(f"{encoding!r} is not a text encoding") from None
        try:
            text = data.decode(info.name)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"the file is not valid {encoding}: line {_line_of(data, exc.start)}, "
                f"byte {exc.start} cannot be decoded"
            ) from None
        except UnicodeError as exc:
            raise UnreadableFile(f"the file cannot be read as {encoding}: {exc}") from None
        return text.lstrip("\ufeff"), []
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _decode_as(data[len(bom) :], codec, label), []
    wide = _wide_without_bom(data)
    if wide is not None:
        codec, label = wide
        return _decode_as(data, codec, label), [
            f"the file has no byte-order mark; it was read as {codec.upper()}"
        ]
    if b"\x00" in data[:65536]:
        raise UnreadableFile("the file looks like binary data, not text")
    try:
        return data.decode("utf-8"), []
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
