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
    unknown_commands,
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


# Commands pylatexenc parsed and then read as nothing, or as something else: a text
# style's or a box's argument is text; ``\\noopsort`` only sorts; ``\\verb`` and Beebe's
# ``\\path`` hold verbatim text; a citation is its keys. The first values are from TeX
# Live's own bibliographies (biblatex-examples.bib, tugboat.bib, texbook3.bib).
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (r"A plain \texttt{book} entry", "A plain book entry"),
        (r"{{\texttt{gradstudentresume}: {A document class}}}",
         "gradstudentresume: A document class"),
        (r"Articles using \verb|amsppt.sty| are accepted.",
         "Articles using amsppt.sty are accepted."),
        (r"e-mail: \path|jsbien@plearn.edu.pl|", "e-mail: jsbien@plearn.edu.pl"),
        (r"\path|http://x.org/~a_b%20c|", "http://x.org/~a_b%20c"),
        (r"German translation of \cite{Lamport:1994:LDP} by Rebecca Stiels.",
         "German translation of [Lamport:1994:LDP] by Rebecca Stiels."),
        (r"see \citep[p.~3]{a,b}", "see [a,b]"),
        (r"\noopsort{Han}H{\`a}n Th{\^e} Th{\`a}nh", "Hàn Thê Thành"),
        (r"{\noopsort{1983}}Title", "Title"),
        (r"\mbox{{\"U}ber} alles", "Über alles"),
        (r"\makebox[2cm][l]{boxed} and \fbox{framed}", "boxed and framed"),
        (r"Britain's Borrowing Hits {\pounds}1 Trillion", "Britain's Borrowing Hits £1 Trillion"),
        (r"Personal {\TeX}, Inc.{\Dash}PC\thinspace{\TeX}", "Personal TeX, Inc.\u2014PC TeX"),
        # TUGboat's logos and markup (tugboat.cls, tugboat.def).
        (r"{\TUB{}} news: Fonts and {\PS} on the {\VAX}",
         "TUGboat news: Fonts and PostScript on the VAX"),
        (r"Don't just \macro{let} {\TeX} hang", "Don't just \\let TeX hang"),
        (r"{{\acro{DVIPDF}} and {\pkg{SYSDEP}}}", "DVIPDF and SYSDEP"),
        (r"Review of {\booktitle{Make It New}}", "Review of Make It New"),
        (r"\Thanh{} and Sebastian Rahtz", "H\u00e0n Th\u1ebf Th\u00e0nh and Sebastian Rahtz"),
        # biblatex-examples.bib and biblatex-chicago's files.
        (r"\mkbibquote{Intention} und \mkbibquote{Intentionalit{\"a}t}",
         "\u201cIntention\u201d und \u201cIntentionalit\u00e4t\u201d"),
        (r"An \enquote{article} entry, \enquote*{quoted}",
         "An \u201carticle\u201d entry, \u201cquoted\u201d"),
        (r"{Nov}\adddot", "Nov."),
        (r"jan.\isdot", "jan."),
        (r"\mkbibemph{The Last Marlin}\addcomma\addspace by", "The Last Marlin, by"),
        (r"The |foreign| package for \hologo{LaTeX2e}", "The |foreign| package for LaTeX2e"),
        (r"2\textsuperscript{nd} edition", "2nd edition"),
    ],
)  # fmt: skip
def test_text_commands_keep_their_text(value: str, text: str) -> None:
    assert latex_to_text(value) == text
    assert unknown_commands(value) == ()


@pytest.mark.parametrize(
    ("value", "dropped"),
    [
        # From TUGboat's, Beebe's and biblatex's files: commands their own documents define.
        (r"{\INSCRIPT} is a front-end for the {\POSTSCRIPT}", ("INSCRIPT",)),
        (r"{\BIP} and {\Abstract} as an {{\XML}} {\ssf BM2FONT}", ("BIP", "Abstract", "ssf")),
        (r"\bibstring{revisededition} and \bibstring{reprint}", ("bibstring",)),
        (r"\foo{kept} text", ("foo",)),
        # Layout only, math kept as written, and known commands: nothing to report.
        (r"{\relax Ch}ristopher \hbox{x}\protect\nobreak", ()),
        (r"Area of $\unknownmath{r}$", ()),
        (r"{\em Interval} \textbf{b} M{\"u}ller", ()),
    ],
)  # fmt: skip
def test_unknown_commands_are_named(value: str, dropped: tuple[str, ...]) -> None:
    assert unknown_commands(value) == dropped


VERBATIM_PIECES = st.sampled_from(
    [r"\verb|", r"\path|", "|", r"\texttt{", r"\cite{", "}", "{", " ", "a~b", "x_y", "%",
     r"\INSCRIPT", "$", "\U00100000", "\U00100001", "word"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(VERBATIM_PIECES, max_size=12).map("".join))
def test_verbatim_text_set_aside_always_comes_back(value: str) -> None:
    """Whatever the text, decoding ends without the private-use characters that hold
    verbatim text aside, unless the text itself had them."""
    text = latex_to_text(value)
    unknown_commands(value)
    if not any(ord(c) >= 0x100000 for c in value):
        assert not any(ord(c) >= 0x100000 for c in text)
