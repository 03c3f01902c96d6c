"""Choosing the decoder and the format; files that are not citations at all."""

from __future__ import annotations

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
