"""The reader's shortcut for simple field text gives exactly what pylatexenc gives.

``latex_to_text`` skips pylatexenc for text made only of words, grouping braces and
escaped symbols (most titles our exporter and others write); the shortcut must agree
with pylatexenc itself on every such text, and step aside for anything else.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from library.citations.readers.latex import (
    _SYMBOLS,
    _decoder,
    _parser_context,
    _simple,
    _tidy,
    latex_to_text,
)

WORDS = st.sampled_from(
    [
        "Mosul",
        "ASEAN",
        "R",
        "d",
        "100",
        "Nguyễn",
        "Łódź",
        "it's",
        "COVID-19",
        "a-b",
        "x^2",
        "a_b",
        "#1",
        "[v]",
        "(I)",
        "?",
        "!",
        ":",
        '"q"',
        "ß",
        "日本",
    ]
)
PIECES = st.one_of(
    WORDS,
    st.sampled_from(sorted(_SYMBOLS)),
    st.sampled_from([" ", "  ", "\n", "{", "}", "{}", "-", "'"]),
)


def pylatexenc(value: str) -> str:
    return _tidy(_decoder().latex_to_text(value, latex_context=_parser_context()))


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=14).map("".join))
def test_the_shortcut_agrees_with_pylatexenc(value: str) -> None:
    simple = _simple(value)
    if simple is not None:
        assert simple == pylatexenc(value)


def test_the_shortcut_takes_our_exporters_titles() -> None:
    value = r"Maritime r{\&}d {ASEAN} 100{\%} {\textless}b{\textgreater} number 7"
    assert _simple(value) == "Maritime r&d ASEAN 100% <b> number 7"
    assert latex_to_text(value) == pylatexenc(value)


def test_the_shortcut_steps_aside_for_latex() -> None:
    for value in (r"M{\"u}ller", "a -- b", "``q''", "a & b", "a~b", "$x$", "{a", "a}", r"a\\&b"):
        assert _simple(value) is None, value
