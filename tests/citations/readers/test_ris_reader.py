"""The RIS reader: repeated tags, missing ER, CRLF and BOM, types, and non-RIS files."""

from __future__ import annotations

from pathlib import Path

import pytest

from library.citations.readers import UnreadableFile, read_citations
from library.citations.readers.ris import count_records, read_ris, ris_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


@pytest.fixture(scope="module", params=["endnote.ris", "endnote-crlf-bom.ris"])
def endnote(request):
    return read_citations((FIXTURES / request.param).read_bytes(), filename=request.param)


def test_every_ty_line_is_counted_and_accounted_for(endnote):
    assert endnote.found == 5
    assert len(endnote.entries) == 4
    [rejection] = endnote.rejections
    assert (rejection.line, rejection.reason) == (44, "the record has no title (TI or T1)")


def test_a_record_without_er_is_kept_with_a_warning(endnote):
    book = next(e for e in endnote.entries if e.original_type == "BOOK")
    assert book.line == 31
    assert any("no 'ER  - ' line" in w for w in book.warnings)
    assert book.record.keywords == ("terrorism", "ASEAN")


def test_repeated_au_and_kw_tags_keep_their_order(endnote):
    article = next(e for e in endnote.entries if e.original_type == "JOUR").record
    assert [n.display for n in article.authors] == ["Ole Wæver", "Zoë Marks", "Martin van Creveld"]
    assert article.authors[2].particle == "van"
    assert (article.container_title, article.issue, article.pages) == (
        "Security Dialogue",
        "4–5",
        "465–480",
    )


def test_types_map_to_piece_types_and_the_genre_names_a_commentary(endnote):
    kinds = [(e.original_type, e.record.type) for e in endnote.entries]
    assert kinds == [
        ("RPRT", "commentary"),
        ("JOUR", "article"),
        ("BOOK", "book"),
        ("XYZ", "other"),
    ]
    basit = endnote.entries[0].record
    assert (basit.year, basit.month, basit.day) == (2016, 10, 28)
    assert (basit.series, basit.number) == ("RSIS Commentaries", "263/2016")


def test_an_organisation_without_a_comma_stays_whole(endnote):
    book = next(e for e in endnote.entries if e.original_type == "BOOK").record
    assert book.authors[0].is_organisation
    assert book.authors[0].family == "International Crisis Group"


def test_a_web_of_science_export_named_ris_is_rejected_with_that_message():
    data = (FIXTURES / "web-of-science.ris").read_bytes()
    with pytest.raises(UnreadableFile, match="Web of Science"):
        read_citations(data, filename="savedrecs.ris")


def test_a_text_file_named_ris_is_not_imported_as_zero_entries():
    with pytest.raises(UnreadableFile, match="no 'TY  - ' line"):
        read_ris("Author: Someone\nTitle: Something\n")


def test_loosely_spaced_tags_are_still_read():
    result = read_ris("TY - JOUR\nTI -  Loose Spacing\nAU - Doe, Jane\nER -\n")
    assert count_records("TY  - JOUR\n") == 1
    assert result.found == 1
    assert result.entries[0].record.title == "Loose Spacing"


@pytest.mark.parametrize(
    ("written", "parts"),
    [
        ("Basit, Abdul", ("Basit", "Abdul", "", "")),
        ("King, Martin Luther, Jr.", ("King", "Martin Luther", "", "Jr.")),
        ("al-Raḥmān, Ḥasan", ("Raḥmān", "Ḥasan", "al-", "")),
        ("Plato", ("Plato", "", "", "")),
    ],
)
def test_ris_names_split_into_parts(written, parts):
    name = ris_name(written)
    assert (name.family, name.given, name.particle, name.suffix) == parts
    assert not name.is_organisation


def test_the_access_date_is_kept_and_unknown_tags_are_named_in_a_warning():
    result = read_ris(
        "TY  - ELEC\nTI  - Whither the Quad?\nUR  - https://example.org/q\n"
        "Y2  - 2021/02/04/\nSN  - 1234-5678\nZZ  - made up\nER  - \n"
    )
    (entry,) = result.entries
    assert entry.record.accessed == "2021-02-04"
    assert "tags not kept (the catalogue has no place for them): SN, ZZ" in entry.warnings


def test_an_access_date_that_is_no_date_is_reported():
    result = read_ris("TY  - ELEC\nTI  - T\nUR  - https://example.org\nY2  - last week\nER  - \n")
    (entry,) = result.entries
    assert entry.record.accessed == ""
    assert any("'last week' is not a whole date" in w for w in entry.warnings)


def test_a_ris_record_without_a_language_gets_none_and_keeps_every_url():
    text = (
        "TY  - JOUR\nTI  - A\nUR  - https://a.org\nUR  - https://b.org\nPY  - 2019/14/02\nER  - \n"
    )
    [entry] = read_ris(text).entries
    record = entry.record
    assert (record.language, record.url, record.note) == (
        "",
        "https://a.org",
        "Also at: https://b.org",
    )
    assert (record.year, record.month) == (2019, None)
