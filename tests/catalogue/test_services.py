"""Saving pieces: keys, names, dates and duplicate recognition."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from library.catalogue.authors import find_or_create_author, format_name_for_editing, parse_name
from library.catalogue.duplicates import find_existing_piece
from library.catalogue.models import Author, AuthorKind, Piece, split_body
from library.catalogue.services import format_partial_date, parse_partial_date


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [
        ("2016", datetime.date(2016, 1, 1), "year"),
        ("2016-10", datetime.date(2016, 10, 1), "month"),
        ("2016-10-28", datetime.date(2016, 10, 28), "day"),
        ("", None, "day"),
    ],
)
def test_partial_dates_round_trip(text, date, precision):
    assert parse_partial_date(text) == (date, precision)
    assert format_partial_date(date, precision) == text


@pytest.mark.parametrize("text", ["2016-13", "2016-02-30", "28/10/2016", "soon", "20161"])
def test_impossible_or_unknown_dates_are_refused_with_a_hint(text):
    with pytest.raises(ValueError, match="write 2016, 2016-10 or 2016-10-28"):
        parse_partial_date(text)


@pytest.mark.parametrize(
    ("text", "given", "particle", "family", "suffix"),
    [
        ("Abdul Basit", "Abdul", "", "Basit", ""),
        ("Basit, Abdul", "Abdul", "", "Basit", ""),
        ("Jaap de Wilde", "Jaap", "de", "Wilde", ""),
        ("King, Jr., Martin Luther", "Martin Luther", "", "King", "Jr."),
        ("Nguyễn Thị Minh", "Nguyễn Thị", "", "Minh", ""),
    ],
)
def test_person_names_split_by_bibtex_rules(text, given, particle, family, suffix):
    spec = parse_name(text)
    assert (spec.given, spec.particle, spec.family, spec.suffix) == (
        given,
        particle,
        family,
        suffix,
    )
    assert spec.kind == AuthorKind.PERSON


@pytest.mark.parametrize(
    "text",
    [
        "{Centre for Non-Traditional Security Studies and Humanitarian Affairs}",
        "International Crisis Group",
        "United Nations Office on Drugs and Crime",
    ],
)
def test_organisations_are_never_split(text):
    spec = parse_name(text)
    assert spec.kind == AuthorKind.ORGANISATION
    assert spec.family == text.strip("{}")


@pytest.mark.parametrize("text", ["", "   ", "{}", "{Unbalanced"])
def test_empty_or_broken_names_are_refused(text):
    with pytest.raises(ValueError, match=r"author name|family name"):
        parse_name(text)


@pytest.mark.django_db
def test_editing_form_names_parse_back_to_the_same_author():
    for text in ["Jaap de Wilde", "King, Jr., Martin Luther", "{Human Rights Watch}", "Zoë Ahmed"]:
        author = find_or_create_author(parse_name(text))
        again = parse_name(format_name_for_editing(author))
        assert find_or_create_author(again) == author


@pytest.mark.django_db
def test_authors_are_matched_case_insensitively_and_bios_fill_gaps_only():
    first = find_or_create_author(parse_name("Abdul Basit", affiliation="RSIS"))
    second = find_or_create_author(parse_name("abdul basit", affiliation="Somewhere else"))
    assert first == second
    assert Author.objects.get().affiliation == "RSIS"


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["Ó Súilleabháin, Eoin", "Émile Durkheim", "Łukasz Kulesa"])
def test_a_name_with_a_capital_outside_ascii_finds_its_own_author(text):
    """SQLite's LOWER folds ASCII only: compared with Python's, these never matched."""
    first = find_or_create_author(parse_name(text))
    assert find_or_create_author(parse_name(text)) == first
    assert Author.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_generated_stored_and_disambiguated(make_piece):
    a = make_piece("Mosul Operation")
    b = make_piece("Mosul Operation: Part Two")
    c = make_piece("Mosul Operation", date=None)
    org = make_piece("Global Terrorism Index", authors=("{Institute for Economics & Peace}",))
    anon = make_piece("Untitled Note", authors=())
    assert [a.citation_key, b.citation_key, c.citation_key] == [
        "basit2016mosul",
        "basit2016mosula",
        "basitndmosul",
    ]
    assert org.citation_key == "iep2016global"
    assert anon.citation_key == "anon2016untitled"
    a.title = "Renamed"
    a.save()
    a.refresh_from_db()
    assert a.citation_key == "basit2016mosul"


@pytest.mark.django_db
def test_a_citation_key_with_spaces_or_braces_is_invalid(make_piece):
    with pytest.raises(ValidationError, match="citation key"):
        make_piece("Bad key", citation_key="bad key{}")
    assert Piece.objects.count() == 0


@pytest.mark.django_db
def test_imprecise_dates_are_stored_on_the_first_day(make_piece):
    piece = make_piece("Yearly", date=datetime.date(2016, 7, 9), date_precision="year")
    assert piece.date == datetime.date(2016, 1, 1)
    assert piece.display_date == "2016"


@pytest.mark.django_db
def test_existing_pieces_are_found_by_hash_or_title_and_first_author(make_piece):
    piece = make_piece("Mosul Operation", source_hash="a" * 64)
    assert find_existing_piece(source_hash="a" * 64) == piece
    assert find_existing_piece(title="mosul operation", authors=[parse_name("A. Basit")]) == piece
    assert find_existing_piece(title="Mosul Operation", authors=[parse_name("Jane Doe")]) is None


def test_body_text_splits_into_sections_and_back():
    body = "Intro line one\nline two.\n\n## First\n\nA.\n\nB.\n\n## Second\n\nC."
    sections = split_body(body)
    assert [(s.heading, s.paragraphs) for s in sections] == [
        ("", ("Intro line one line two.",)),
        ("First", ("A.", "B.")),
        ("Second", ("C.",)),
    ]
    assert split_body("") == []
