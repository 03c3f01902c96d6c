"""The reader's shortcut for simple field text gives exactly what pylatexenc gives.

``latex_to_text`` skips pylatexenc for text made only of words, grouping braces and
escaped symbols (most titles our exporter and others write); the shortcut must agree
with pylatexenc itself on every such text, and step aside for anything else.
"""

from __future__ import annotations

import pytest
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


# Titles from TeX Live's own bibliographies (Beebe's tugboat.bib, texgraph.bib and
# texbook3.bib): a spacing primitive's dimension is not text, and a punctuation macro is
# punctuation, not nothing.
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (r"{DVIto\kern-.15em VDU: A \TeX\ page previewer}", "DVItoVDU: A TeX page previewer"),
        (r"{DVIto\kern-.1emVDU 1.7 and PSPRINT 1.1}", "DVItoVDU 1.7 and PSPRINT 1.1"),
        (r"T\kern-.1667em\lower.5ex\hbox{E}\kern-.125emX", "TEX"),
        (r"a\hskip 1em plus 2pt minus 1pt b", "a b"),
        (r"no\penalty-10000 break", "no break"),
        (r"A\raise.5ex\hbox{b}c \mkern3mu d", "Abc d"),
        (r"{Turtle graphics and {\TeX}\Dash a child can do it}",
         "Turtle graphics and TeX\u2014a child can do it"),
        (r"{IBM VM\slash CMS} site report", "IBM VM/CMS site report"),
        (r"{Colophon}\emdash {Adobe Systems News}", "Colophon\u2014Adobe Systems News"),
        (r"pages 1\endash 9", "pages 1\u20139"),
        (r"a {\kern1pt}5pt b, and 5pt outside a command", "a 5pt b, and 5pt outside a command"),
    ],
)  # fmt: skip
def test_tex_spacing_and_punctuation_macros(value: str, text: str) -> None:
    assert latex_to_text(value) == text
