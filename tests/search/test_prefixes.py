"""Prefix searches find the words whose stems are shorter than the prefix, on every engine.

Every engine indexes stems: "proliferation" is ``prolifer``, so a match of
``proliferat*`` on the stems alone never found it (library/search/prefixes.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from library.search import service
from library.search.backends.database.sqlite.stems import fts5_stems
from library.search.backends.whoosh import _stems as whoosh_stems
from library.search.prefixes import TAILS, Completions
from library.search.text import MARK_END, MARK_START, fold

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "mosul-operation.txt"


FTS5 = (Completions(prefix_is_stemmed=True), fts5_stems)
CARRIED = (Completions(prefix_is_stemmed=True, carried=True), fts5_stems)  # the SQLite engine's
WHOOSH = (Completions(prefix_is_stemmed=False), whoosh_stems)


@pytest.mark.parametrize(
    ("engine_stems", "prefix", "stem"),
    [
        (FTS5, "proliferat", "prolifer"),  # "proliferation"
        (FTS5, "negotiat", "negoti"),  # "negotiations"
        (FTS5, "sympathiz", "sympath"),  # "sympathizers" (Whoosh's Porter keeps "sympathiz")
        (WHOOSH, "insurgen", "insurg"),  # "insurgency"
        (WHOOSH, "runnin", "runn"),  # "running", as Whoosh's Porter stems it
    ],
)
def test_completions_reach_the_shorter_stems(engine_stems, prefix, stem):
    completions, stems = engine_stems
    found = completions(prefix, stems)
    assert stem in stems(list(found))
    assert all(word.startswith(prefix) for word in found)
    assert len(set(stems(list(found)))) == len(found)  # one word for each stem


@pytest.mark.parametrize("engine_stems", [FTS5, WHOOSH])
def test_no_completion_where_the_prefix_match_reaches_every_stem(engine_stems):
    completions, stems = engine_stems
    # Words beginning "secur" stem to "secur…": the prefix match finds them all.
    assert completions("secur", stems) == ()
    # "ines" stems to "in": two-letter stems are never added.
    assert "ines" not in completions("ines", stems)


def test_a_prefix_whose_stem_is_under_three_letters_is_carried_by_a_word_stemmed_to_it():
    completions, stems = CARRIED
    # FTS5 stems "ines" to "in": its prefix match would reach every stem beginning "in".
    assert stems(["ines"]) == ["in"]
    carrier = completions.carrier("Ines", stems)
    assert carrier is not None
    assert carrier.startswith("ines")
    assert stems([carrier]) == ["ines"]  # so its prefix match reaches stems "ines…" only
    # Its completions are counted from that reach: their stems do not begin "ines".
    assert all(not stem.startswith("ines") for stem in stems(list(completions("ines", stems))))
    # A prefix whose stem has three letters or more is matched as before.
    assert completions.carrier("secur", stems) is None
    assert completions.carrier("negotiat", stems) is None
    # Only where the engine asks for it.
    assert FTS5[0].carrier("ines", stems) is None


def test_a_prefix_is_folded_first_and_only_letters_get_completions():
    completions, stems = FTS5
    assert completions("Sécurit", stems) == completions("securit", stems) != ()
    assert completions("b52", stems) == ()
    assert completions("ağır", stems) == ()  # "ı" has no ASCII letter


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.text(min_size=2, max_size=12), st.from_regex(r"[A-Za-z]{2,12}", fullmatch=True))
)
def test_completions_begin_with_the_prefix_and_reach_only_new_stems(typed):
    """Any text at all: no error, every completion is the folded prefix plus an ending, and
    its stem (FTS5's) is one the engine's match on the stemmed prefix does not reach."""
    for completions, stems in (FTS5, CARRIED):
        found = completions(typed, stems)
        prefix = fold(typed)
        reached = stems([prefix])[0]
        carrier = completions.carrier(typed, stems)
        if carrier is not None:  # the engine matches the carrier's prefix: the typed one
            assert len(reached) < 3
            assert stems([carrier]) == [prefix]
            assert carrier.startswith(prefix)
            assert carrier[len(prefix) :] in TAILS
            reached = prefix
        assert all(word.startswith(prefix) and word[len(prefix) :] in TAILS for word in found)
        for stem in stems(list(found)):
            assert len(stem) >= 3
            assert not stem.startswith(reached)


def test_fts5_stems_are_the_index_tokenizers():
    assert fts5_stems(["Proliferation", "sympathizers", "Sécurité", ""]) == [
        "prolifer",
        "sympath",
        "securit",
        "",
    ]


def keys(text: str) -> set[str]:
    return {piece.citation_key for piece, _ in service.search(text, page_size=50).entries}


@pytest.fixture
def worded(engine, add_piece) -> dict:
    """One piece per word whose stem is shorter than a prefix a reader would type."""
    return {
        name: add_piece(title, body=body).citation_key
        for name, title, body in (
            ("proliferation", "Arms Control in Asia", "Nuclear proliferation worries Seoul."),
            ("negotiations", "Talks Stall", "The negotiations broke down in Doha."),
            ("insurgency", "Southern Thailand", "The insurgency flared again in Pattani."),
            ("terrorism", "Threat Assessment", "Terrorism remains the main threat."),
            ("running", "Coast Guards", "Patrol boats running without lights."),
        )
    }


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("proliferat*", {"proliferation"}),
        ("negotiat*", {"negotiations"}),
        ("insurgen*", {"insurgency"}),
        ("Insurgen*", {"insurgency"}),
        ("terroris*", {"terrorism"}),
        ("runnin*", {"running"}),
        ("proliferat* OR negotiat*", {"proliferation", "negotiations"}),
        ("talks -negotiat*", set()),
        ("title:talk*", {"negotiations"}),
    ],
)
def test_a_prefix_finds_words_whose_stem_is_shorter(worded, typed, expected):
    assert keys(typed) == {worded[name] for name in expected}


def test_a_prefix_stemmed_to_two_letters_finds_its_own_words_only(engine, add_piece):
    """``ines*`` is ``in*`` to FTS5 (Porter stems "ines" to "in"): it found every piece
    with a word beginning "in". Now the words beginning "ines" (on PostgreSQL, whose
    Snowball stem of "ines" is "ine", the stems beginning "ine")."""
    found = add_piece("An Inescapable Dilemma", body="Nothing inestimable here.").citation_key
    add_piece("Interior Ministry Reshuffle", body="Insurgents in the north.")
    add_piece("Coastal Patrols", body="Ships sailed into the strait.")
    assert keys("ines*") == {found}


def test_a_completed_word_is_highlighted(worded):
    ((_piece, hit),) = service.search("proliferat*").entries
    assert f"{MARK_START}proliferation{MARK_END}" in hit.snippet.lower()


def test_every_prefix_of_a_real_commentarys_words_finds_it(engine, add_piece):
    """On text nobody here wrote: every prefix (4 letters up to all but the last) of a
    word that finds the commentary finds it too, but for the stemmer's known limit: a
    prefix ending in "y", which the engine's stemmer rewrites ("liby*" is ``libi*`` and
    misses "Libya")."""
    from library.ingest.text import parse_commentary

    parsed = parse_commentary(SEED.read_text(encoding="utf-8"))
    piece = add_piece(parsed.title, synopsis=parsed.synopsis, body=parsed.body)
    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{6,}", parsed.body)})
    assert len(words) > 200
    missed = [
        (word[:length], word)
        for word in words
        if piece.citation_key in keys(word)
        for length in range(4, len(word))
        if piece.citation_key not in keys(word[:length] + "*")
    ]
    limits = [(prefix, word) for prefix, word in missed if prefix.endswith("y")]
    assert [m for m in missed if m not in limits] == []
    assert len(limits) <= 5, limits
