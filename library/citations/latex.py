"""LaTeX escaping and brace protection for BibTeX and BibLaTeX fields.

Two escapers, because the two toolchains differ:

* :func:`to_latex` (BibTeX): classic ``bibtex`` is 7-bit at heart; it sorts, abbreviates and
  case-changes by bytes. Every non-ASCII character is written as a LaTeX command in the
  "special character" form BibTeX understands, ``{\\'e}``, ``{\\~{\\^e}}``, so that pdflatex
  with T1 fonts typesets it and BibTeX treats it as one letter. pylatexenc's tables do most of
  the work; characters it does not know are decomposed (NFD) into a base letter and
  accents we map ourselves (Vietnamese, transliterated Arabic), and anything left is
  transliterated with anyascii rather than breaking the document.
* :func:`escape_specials` (BibLaTeX + biber): UTF-8 is kept; only the LaTeX specials are
  escaped.

Both spell ``{`` ``}`` as ``\\textbraceleft`` / ``\\textbraceright``: BibTeX and biber count
braces without regard to backslashes, so ``\\{`` would unbalance a field.

Brace protection (:func:`protect_title`) follows the Better BibTeX rule: a word is wrapped in
braces, so that styles which change case (plain's sentence case, biblatex's
``\\MakeSentenceCase``) leave it alone, when

1. it has a capital letter after its first character (IS, ASEAN, COVID-19, iPhone, McCain,
   al-Raḥmān), or
2. it starts with a capital and is not the first word of the title or of the subtitle
   (Mosul, Iraq, and also title-case words such as "Endgame": we cannot tell a proper noun
   from a capitalised common word, and keeping a capital is the lesser harm).

Protection is decided on the raw text and each word is escaped before it is wrapped, so a
``\\command`` is never separated from its argument and braces always balance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from anyascii import anyascii
from pylatexenc.latexencode import (
    RULE_CALLABLE,
    RULE_DICT,
    UnicodeToLatexConversionRule,
    UnicodeToLatexEncoder,
    get_builtin_uni2latex_dict,
)

# The ten LaTeX specials. Each replacement is wrapped in braces when used, so that braces
# stay balanced and a command never swallows the space after it.
SPECIALS = {
    "\\": r"\textbackslash",
    "{": r"\textbraceleft",
    "}": r"\textbraceright",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde",
    "^": r"\textasciicircum",
}

# Added to pylatexenc's table for BibTeX: T1 has real glyphs for < and >, and the ʿayn and
# hamza of transliterated Arabic are conventionally set as turned and plain apostrophes.
_EXTRA = {
    "<": r"\textless",
    ">": r"\textgreater",
    "\u02bf": r"\textquoteleft",
    "\u02be": r"\textquoteright",
    "\u02bb": r"\textquoteleft",
    "\u02bc": r"\textquoteright",
    # pylatexenc's \nobreakdash needs amsmath, which a bibliography cannot assume.
    "\u2011": "-",
    # From Letterlike Symbols, whose other entries need amssymb (\\mathbb, \\beth).
    "\u2122": r"\texttrademark",
    "\u2116": r"\textnumero",
}

# Combining marks -> LaTeX accent commands that pdflatex (T1) knows.
_ACCENTS = {
    "\u0300": "\\`",
    "\u0301": "\\'",
    "\u0302": "\\^",
    "\u0303": "\\~",
    "\u0304": "\\=",
    "\u0306": "\\u",
    "\u0307": "\\.",
    "\u0308": '\\"',
    "\u030a": "\\r",
    "\u030b": "\\H",
    "\u030c": "\\v",
    "\u0323": "\\d",
    "\u0327": "\\c",
    "\u0328": "\\k",
    "\u0331": "\\b",
}
# Accents above an i or j sit on the dotless letter.
_DOTLESS = {"i": r"\i", "j": r"\j"}
_BELOW = {"\u0323", "\u0327", "\u0328", "\u0331"}


def _accented(char: str) -> str | None:
    """``ễ`` -> ``\\~{\\^{e}}``: a decomposable Latin letter as nested accent commands.

    Marks with no pdflatex command (the Vietnamese hook above) are dropped: the letter
    survives, which beats an undefined-character error that stops the whole bibliography.
    """
    base, *marks = unicodedata.normalize("NFD", char)
    if not marks or not base.isascii() or not base.isalpha():
        return None
    above = any(mark in _ACCENTS and mark not in _BELOW for mark in marks)
    latex = _DOTLESS.get(base, base) if above else base
    # Accents above go on first, dots and cedillas below last: \\d{\\^{e}} sets the
    # below-mark under T1's ê glyph, where \\^{\\d{e}} floats the circumflex off the letter.
    for mark in sorted(marks, key=lambda m: m in _BELOW):
        if mark in _ACCENTS:
            latex = f"{_ACCENTS[mark]}{{{latex}}}"
    return latex if latex not in (base, _DOTLESS.get(base)) else None


# Code points whose pylatexenc replacements compile with pdflatex, T1 fonts and no other
# package (checked by tests/citations/test_latex.py). Elsewhere its table reaches
# for amssymb, tipa or T2A commands, so we build accents ourselves or transliterate.
_TABLE_RANGES = (
    (0x00A0, 0x017F),  # Latin-1 Supplement, Latin Extended-A
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # Currency Symbols
)
_TABLE_EXCEPTIONS = frozenset({0x0149, 0x2035})
_TABLE = get_builtin_uni2latex_dict()


def _from_table(code: int) -> str | None:
    if code in _TABLE_EXCEPTIONS or not any(lo <= code <= hi for lo, hi in _TABLE_RANGES):
        return None
    return _TABLE.get(code)


def _latex_for(char: str) -> str | None:
    """LaTeX for one non-ASCII character, or None when pdflatex has no way to set it."""
    return _EXTRA.get(char) or _from_table(ord(char)) or _accented(char)


def _non_ascii_rule(text: str, pos: int) -> tuple[int, str] | None:
    if text[pos].isascii():
        return None
    latex = _latex_for(text[pos])
    return (1, latex) if latex is not None else None


def _transliterate(text: str) -> str:
    """Characters pdflatex cannot set (Cyrillic, Greek, Arabic, CJK, arrows) as ASCII.

    A transliteration is readable and compiles; the alternatives (pylatexenc's ``\\CYRR``,
    Greek in math mode) need font encodings or packages a bibliography cannot assume.
    """
    if text.isascii():
        return text
    return "".join(
        anyascii(char) if not char.isascii() and _latex_for(char) is None else char for char in text
    )


@lru_cache(maxsize=1)
def _bibtex_encoder() -> UnicodeToLatexEncoder:
    return UnicodeToLatexEncoder(
        conversion_rules=[
            UnicodeToLatexConversionRule(RULE_DICT, {ord(k): v for k, v in SPECIALS.items()}),
            UnicodeToLatexConversionRule(RULE_DICT, {ord(k): v for k, v in _EXTRA.items()}),
            UnicodeToLatexConversionRule(RULE_CALLABLE, _non_ascii_rule),
        ],
        # Every replacement braced: {\\'e} is BibTeX's "special character", sorted,
        # abbreviated and case-changed as one letter; bare \\'e would be three characters.
        replacement_latex_protection="braces-all",
        non_ascii_only=False,
        unknown_char_policy="fail",
    )


_WHITESPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Collapse whitespace (newlines end a BibTeX paragraph) and NFC-normalise."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


_ASCII_SPECIALS_RE = re.compile(r"[\\{}&%$#_~^<>]")
_ASCII_TABLE = SPECIALS | {"<": _EXTRA["<"], ">": _EXTRA[">"]}


@lru_cache(maxsize=4096)
def to_latex(text: str) -> str:
    """Pure-ASCII LaTeX for a BibTeX field: specials escaped, every other character a command.

    Cached, because publishers, places and series repeat across a catalogue; ASCII text
    skips pylatexenc (which walks its rules character by character) for the same result.
    """
    text = clean(text)
    if text.isascii():
        return _ASCII_SPECIALS_RE.sub(lambda m: "{" + _ASCII_TABLE[m.group()] + "}", text)
    return _bibtex_encoder().unicode_to_latex(_transliterate(text))


_SPECIALS_RE = re.compile(r"[\\{}&%$#_~^]")


def escape_specials(text: str) -> str:
    """LaTeX specials escaped, UTF-8 kept: for biber, which handles Unicode itself."""
    return _SPECIALS_RE.sub(lambda m: "{" + SPECIALS[m.group()] + "}", clean(text))


# --- brace protection -------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")


def _core_span(word: str) -> tuple[int, int]:
    """Start and end of the part of ``word`` from its first to its last letter or digit."""
    alnum = [i for i, c in enumerate(word) if c.isalnum()]
    return (alnum[0], alnum[-1] + 1) if alnum else (len(word), len(word))


def needs_protection(word: str, *, first: bool) -> bool:
    """The protection rule from the module docstring, for one word of raw text."""
    if not word:
        return False
    if any(c.isupper() for c in word[1:]):
        return True
    return word[0].isupper() and not first


def protect_title(text: str, escape: Callable[[str], str] = to_latex) -> str:
    """``text`` escaped with ``escape``, with proper nouns and acronyms wrapped in braces."""
    out: list[str] = []
    position = 0
    text = clean(text)
    for index, match in enumerate(_TOKEN.finditer(text)):
        out.append(text[position : match.start()])
        word = match.group()
        start, end = _core_span(word)
        core = word[start:end]
        escaped = escape(core)
        if needs_protection(core, first=index == 0):
            escaped = "{" + escaped + "}"
        out.append(escape(word[:start]) + escaped + escape(word[end:]))
        position = match.end()
    return "".join(out)


def braces_balanced(text: str) -> bool:
    """True when every ``{`` closes, counted as BibTeX and biber count (backslash ignored)."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


_URL_UNSAFE = re.compile(r"[\s{}\\\"<>^`|]|[^\x00-\x7f]")


def safe_url(url: str) -> str:
    """A URL or DOI left as it is, except percent-encoding what would break a field.

    ``\\url`` and biblatex read the value verbatim, so ``%``, ``#``, ``_`` and ``~`` stay
    raw; but braces would unbalance the entry and spaces or non-ASCII would not survive
    ``\\url`` under pdflatex.
    """
    return _URL_UNSAFE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), url.strip()
    )
