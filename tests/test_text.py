"""The shared text rules in ``library/text.py``: folding, stop words, titles and names."""

from __future__ import annotations

from library.catalogue.browse import _facet_rows, _Terms
from library.text import (
    KEY_STOPWORDS,
    SEARCH_STOPWORDS,
    display_name,
    fold_lower,
    fold_strokes,
    join_title,
    strip_diacritics,
)


def test_the_two_foldings_differ_on_case_and_ligatures_and_agree_on_accents():
    assert fold_lower("Đà Nẵng") == "da nang"
    assert strip_diacritics("Đà Nẵng") == "Da Nang"
    assert strip_diacritics("IS") == "IS"  # the suggester tells the acronym from "is"
    assert strip_diacritics("Wæver") == "Waever"
    assert fold_lower("Wæver") == "wæver"


def test_stroke_folding_keeps_the_length_so_snippet_offsets_hold():
    assert fold_strokes("Łódź Đà") == "Lódź Dà"
    assert len(fold_strokes("Łódź Đà")) == len("Łódź Đà")


def test_the_stop_word_lists_serve_different_rules():
    assert "where" in KEY_STOPWORDS  # skipped for a key's title word
    assert "would" in SEARCH_STOPWORDS
    assert "would" not in KEY_STOPWORDS


def test_a_subtitle_follows_a_colon_unless_the_title_ends_in_punctuation():
    assert join_title("Mosul", "The Endgame") == "Mosul: The Endgame"
    assert join_title("Why Mosul?", "The Endgame") == "Why Mosul? The Endgame"
    assert join_title("Mosul", "") == "Mosul"


def test_a_byline_keeps_particles_and_suffixes_and_an_organisation_whole():
    assert display_name(family="Creveld", given="Martin", particle="van") == "Martin van Creveld"
    assert display_name(family="King", given="Martin Luther", suffix="Jr.") == (
        "Martin Luther King, Jr."
    )
    assert display_name(family="International Crisis Group", organisation=True) == (
        "International Crisis Group"
    )
    assert display_name(family="Raḥmān", given="ʿAbd", particle="al-") == "ʿAbd al- Raḥmān"
    assert display_name(family="Raḥmān", given="ʿAbd", particle="al-", attach_particle=True) == (
        "ʿAbd al-Raḥmān"
    )


def test_the_author_facet_names_authors_as_their_pages_do(make_piece):
    piece = make_piece("Transformation of War", authors=("van Creveld, Martin",))
    author = piece.authors[0]
    assert author.particle == "van"
    rows = _facet_rows("author", _Terms())
    assert rows == [(author.slug, author.display_name, 1)]
    assert rows[0][1] == "Martin van Creveld"
