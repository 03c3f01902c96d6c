"""Citation keys: the documented pattern, ASCII, deterministic disambiguation."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from library.citations import keys
from library.citations.keys import (
    ascii_token,
    base_key,
    disambiguate,
    first_title_word,
    organisation_token,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Wæver", "waever"), ("Nguyễn", "nguyen"), ("O'Neill", "oneill"), ("Łódź", "lodz"), ("", "")],
)
def test_ascii_token_transliterates_and_drops_punctuation(text, expected):
    assert ascii_token(text) == expected


def test_organisation_token_is_an_acronym_of_significant_words():
    assert organisation_token("International Crisis Group") == "icg"
    assert organisation_token("Institute for Economics & Peace") == "iep"
    assert organisation_token("RAND") == "rand"


def test_first_title_word_skips_stopwords_and_punctuation():
    assert first_title_word("The Endgame for IS?") == "endgame"
    assert first_title_word("“Hybrid” Warfare?") == "hybrid"
    assert first_title_word("Why is it?") == ""
    assert first_title_word("") == ""


def test_base_key_follows_family_year_word():
    assert base_key(author_token="basit", year=2016, title="Mosul Operation") == "basit2016mosul"
    assert base_key(author_token="", year=None, title="") == "anonnd"
    assert base_key(author_token="9dash", year=2020, title="Line") == "k9dash2020line"


def test_disambiguate_appends_letters_in_order():
    taken = {"basit2016mosul", "basit2016mosula"}
    assert disambiguate("basit2016mosul", taken.__contains__) == "basit2016mosulb"
    assert disambiguate("free2016", taken.__contains__) == "free2016"
    many = {"k"} | {f"k{c}" for c in "abcdefghijklmnopqrstuvwxyz"}
    assert disambiguate("k", many.__contains__) == "kaa"


def test_disambiguate_goes_on_past_zz():
    """703 pieces with one base key (a load run's editor reached it) took every suffix
    up to ``zz``; the next one was a server error."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    taken = {"un2024report"} | {f"un2024report{a}" for a in letters}
    taken |= {f"un2024report{a}{b}" for a in letters for b in letters}
    assert len(taken) == 703
    assert disambiguate("un2024report", taken.__contains__) == "un2024reportaaa"
    taken.add("un2024reportaaa")
    assert disambiguate("un2024report", taken.__contains__) == "un2024reportaab"


@given(st.sets(st.integers(min_value=0, max_value=800), max_size=300))
def test_disambiguate_gives_the_first_free_suffix_shortest_first(taken_positions):
    """Suffixes run a … z, aa … zz, aaa …: existing keys keep their meaning, and the
    answer is always the first free one in that order."""
    suffixes = list(itertools.islice(keys._suffixes(), 900))
    assert suffixes[:28] == [*"abcdefghijklmnopqrstuvwxyz", "aa", "ab"]
    assert suffixes[701:703] == ["zz", "aaa"]
    assert suffixes == sorted(suffixes, key=lambda s: (len(s), s))
    taken = {"k"} | {"k" + suffixes[i] for i in taken_positions}
    first_free = next(s for s in suffixes if "k" + s not in taken)
    assert disambiguate("k", taken.__contains__) == "k" + first_free
