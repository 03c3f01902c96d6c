"""Where a PostgreSQL body snippet is cut from (backends/database/postgres/snippets.py).

No database: the window only narrows the text a headline parses; test_postgres.py checks
on PostgreSQL that the snippets it gives are the whole body's.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from whoosh.lang.porter2 import stem

from library.search.backends.database.postgres.compiler import quote
from library.search.backends.database.postgres.snippets import (
    WINDOW_AFTER,
    WINDOW_BEFORE,
    Term,
    query_terms,
    window,
    without_weights,
)

FILLER = "The committee met again and the minister spoke at length about budgets. " * 60


def test_the_terms_are_the_literals_words_stemmed_with_their_prefix_stars():
    highlight = "('policy') | ('state policies':B) | ('secu':*) | (('it''s' | 'a\\\\b':A*))"
    assert query_terms(highlight) == (
        Term(("a", "b"), True),
        Term(("it", "s"), False),
        Term(("polici",), False),
        Term(("secu",), True),
        Term(("state", "polici"), False),
    )


def test_weights_are_dropped_and_stars_and_quotes_kept():
    assert without_weights("('osprey':B) | ('kite':A*) | ('it''s:B')") == (
        "('osprey') | ('kite':*) | ('it''s:B')"
    )


def test_a_short_body_is_headlined_whole():
    text = "A short body about policy."
    assert window(text, query_terms("'policies'")) == text
    assert window(text, query_terms("'absent'")) == text


def test_a_long_body_without_the_words_has_no_window():
    assert window(FILLER, query_terms("'osprey'")) is None


def test_the_window_holds_the_first_match_of_an_inflection_far_into_the_body():
    text = FILLER + "Their policies on ospreys changed. " + FILLER
    part = window(text, query_terms("'policy'"))
    assert part is not None
    assert "policies" in part
    assert len(part) <= WINDOW_BEFORE + WINDOW_AFTER + 40
    assert text.startswith(part) is False
    assert part in text


def test_a_phrase_matches_only_its_words_in_order():
    text = FILLER + "state budgets. " + FILLER + "a state policy. " + FILLER
    part = window(text, query_terms("'state policy'"))
    assert part is not None
    assert "state policy" in part
    assert window(FILLER + "policy state" + FILLER, query_terms("'state policy'")) is None


def test_a_prefix_matches_words_beginning_with_its_stem():
    text = FILLER + "Securitisation began. " + FILLER
    part = window(text, query_terms("'secu':*"))
    assert part is not None
    assert "Securitisation" in part
    assert window(text, query_terms("'secu'")) is None  # not a prefix: no word is "secu"


def test_a_word_inside_another_word_does_not_match():
    assert window(FILLER + "rebudgeting" * 3 + FILLER, query_terms("'udget'")) is None


def test_the_window_holds_the_most_words_first_matches():
    """ts_headline prefers fragments with more of the query's words."""
    text = FILLER + "osprey " + FILLER + "kestrel and heron " + FILLER
    part = window(text, query_terms("('osprey') | ('kestrel') | ('heron')"))
    assert part is not None
    assert "kestrel and heron" in part


WORDS = st.sampled_from(
    ["policy", "policies", "state", "states", "osprey", "kite", "hoping", "hope", "agreed"]
)


@given(
    before=st.lists(WORDS, min_size=0, max_size=600),
    after=st.lists(WORDS, min_size=0, max_size=600),
    wanted=WORDS,
)
def test_a_window_is_a_part_of_the_body_holding_a_match_or_there_is_no_match(before, after, wanted):
    text = " ".join([*before, *after])
    terms = query_terms(quote(wanted))
    part = window(text, terms)
    holds = any(stem(word) == stem(wanted) for word in text.split())
    if len(text) <= WINDOW_BEFORE + WINDOW_AFTER:
        assert part == text
    elif not holds:
        assert part is None
    else:
        assert part is not None
        assert part in text
        assert any(stem(word) == stem(wanted) for word in part.split())
