"""Choosing the decoder and the format; files that are not citations at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from library.citations.readers import UnreadableFile, detect_format, read_citations

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


@pytest.mark.parametrize(
    ("name", "message"),
    [("garbage.bin", "binary data"), ("empty.bib", "the file is empty")],
)
def test_garbage_and_empty_files_are_refused_with_a_reason(name, message):
    with pytest.raises(UnreadableFile, match=message):
        read_citations((FIXTURES / name).read_bytes(), filename=name)


def test_whitespace_only_counts_as_empty():
    with pytest.raises(UnreadableFile, match="empty"):
        read_citations(b" \r\n\t\n", filename="x.ris")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("refs.bib", "", "bibtex"),
        ("refs.RIS", "", "ris"),
        ("items.json", "", "csljson"),
        ("export.txt", '[{"id": "a"}]', "csljson"),
        ("export.txt", "TY  - JOUR\nER  - \n", "ris"),
        ("export.txt", "@article{a, title={b}}", "bibtex"),
    ],
)
def test_the_format_comes_from_the_name_then_the_content(name, text, expected):
    assert detect_format(name, text) == expected


def test_an_unrecognisable_file_names_the_choices():
    with pytest.raises(UnreadableFile, match=r"\.bib, \.ris or \.json"):
        detect_format("notes.txt", "hello")


BIB = "@misc{a, title={Sécurité}, note={see \\href{https://x.org}{the site}}}\n"


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
)
def test_utf16_and_utf32_with_or_without_a_byte_order_mark_are_read(encoding):
    result = read_citations(BIB.encode(encoding), filename="x.bib")
    record = result.entries[0].record
    assert (record.title, record.note) == ("Sécurité", "see the site")


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("undefined", "'undefined' is not a text encoding"),
        ("base64", "'base64' is not a text encoding"),
        ("no-such-thing", "unknown encoding 'no-such-thing'"),
        ("utf-8", "the file is not valid utf-8: line 3, byte 21"),
    ],
)
def test_an_unknown_or_wrong_encoding_is_a_one_line_error(encoding, message):
    data = b"@misc{a, title={x}}\n\n\xff"
    with pytest.raises(UnreadableFile, match=re.escape(message)):
        read_citations(data, filename="x.bib", encoding=encoding)


def test_a_bad_byte_is_reported_with_its_line():
    data = "@misc{a, title={ok}}\n".encode("utf-16") + b"\x00\xd8"
    with pytest.raises(UnreadableFile, match="not valid UTF-16: line 2"):
        read_citations(data, filename="x.bib")
