"""The format-neutral record: validation and the derived values every writer shares."""

from __future__ import annotations

import pytest

from library.citations.records import PIECE_TYPES, CitationRecord, Name


def test_a_record_refuses_a_type_the_catalogue_does_not_have():
    with pytest.raises(ValueError, match="unknown piece type"):
        CitationRecord(key="k", type="blog", title="T")


def test_a_record_refuses_a_day_without_a_month():
    with pytest.raises(ValueError, match="day without a month"):
        CitationRecord(key="k", type="book", title="T", year=2020, day=3)


def test_a_record_refuses_a_month_without_a_year():
    with pytest.raises(ValueError, match="month without a year"):
        CitationRecord(key="k", type="book", title="T", month=3)


def test_every_piece_type_of_the_catalogue_is_a_record_type():
    from library.catalogue.models import PieceType

    assert set(PIECE_TYPES) == set(PieceType.values)


def test_full_title_joins_with_a_colon_unless_the_title_ends_in_punctuation():
    assert CitationRecord(key="k", type="book", title="A", subtitle="B").full_title == "A: B"
    assert CitationRecord(key="k", type="book", title="A?", subtitle="B").full_title == "A? B"


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("45–67", ("45", "67")),
        ("45-67", ("45", "67")),
        ("45--67", ("45", "67")),
        ("12", ("12", "")),
    ],
)
def test_page_range_reads_any_dash(pages, expected):
    assert CitationRecord(key="k", type="article", title="T", pages=pages).page_range == expected


def test_name_display_reads_as_a_byline():
    assert Name(family="Creveld", given="Martin", particle="van").display == "Martin van Creveld"
    assert Name(family="King", given="Martin", suffix="Jr.").display == "Martin King, Jr."
    assert Name(family="RAND", is_organisation=True).display == "RAND"


def test_a_note_that_only_names_the_degree_is_not_repeated():
    thesis = CitationRecord(key="k", type="thesis", title="T", note="Master's thesis")
    assert thesis.is_masters_thesis
    assert thesis.extra_note == ""
    other = CitationRecord(key="k", type="thesis", title="T", note="Supervised by X")
    assert not other.is_masters_thesis
    assert other.extra_note == "Supervised by X"
