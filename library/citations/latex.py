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
)

# The ten LaTeX specials, spelt so that braces stay balanced and nothing eats a following space.
SPECIALS = {
    "\\": r"{\textbackslash}",
    "{": r"{\textbraceleft}",
    "}": r"{\textbraceright}",
    "&": r"{\&}",
    "%": r"{\%}",
    "$": r"{\$}",
    "#": r"{\#}",
    "_": r"{\_}",
    "~": r"{\textasciitilde}",
    "^": r"{\textasciicircum}",
}

# Added to pylatexenc's table for BibTeX: T1 has real glyphs for < and >, and the ʿayn and
# hamza of transliterated Arabic are conventionally set as turned and plain apostrophes.
_BIBTEX_EXTRA = {
    "<": r"{\textless}",
    ">": r"{\textgreater}",
    "\u02bf": r"{\textquoteleft}",
    "\u02be": r"{\textquoteright}",
    "\u02bb": r"{\textquoteleft}",
    "\u02bc": r"{\textquoteright}",
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
    """``ễ`` -> ``{\\~{\\^e}}``: a decomposable Latin letter as nested accent commands.

    Marks with no pdflatex command (the Vietnamese hook above) are dropped: the letter
    survives, which beats an undefined-character error that stops the whole bibliography.
    """
    base, *marks = unicodedata.normalize("NFD", char)
    if not marks or not base.isascii() or not base.isalpha():
        return None
    above = any(mark in _ACCENTS and mark not in _BELOW for mark in marks)
    latex = _DOTLESS.get(base, base) if above else base
    for mark in marks:
        if mark in _ACCENTS:
            latex = f"{_ACCENTS[mark]}{{{latex}}}"
    return "{" + latex + "}" if latex != base else base


def _fallback(text: str, pos: int) -> tuple[int, str] | None:
    """Last resort for characters pylatexenc has no table entry for."""
    char = text[pos]
    accented = _accented(char)
    if accented is not None:
        return 1, accented
    return 1, "".join(SPECIALS.get(c, c) for c in anyascii(char))


@lru_cache(maxsize=1)
def _bibtex_encoder() -> UnicodeToLatexEncoder:
    return UnicodeToLatexEncoder(
        conversion_rules=[
            UnicodeToLatexConversionRule(RULE_DICT, {ord(k): v for k, v in SPECIALS.items()}),
            UnicodeToLatexConversionRule(RULE_DICT, {ord(k): v for k, v in _BIBTEX_EXTRA.items()}),
            UnicodeToLatexConversionRule(RULE_CALLABLE, _accented_rule),
            "defaults",
            UnicodeToLatexConversionRule(RULE_CALLABLE, _fallback),
        ],
        # {\'e} is BibTeX's "special character": sorted, abbreviated and case-changed as one
        # letter. Bare \'e would be three characters to BibTeX.
        replacement_latex_protection="braces-all",
        non_ascii_only=False,
        unknown_char_policy="fail",
    )


def _accented_rule(text: str, pos: int) -> tuple[int, str] | None:
    """Prefer our nested accents for stacked marks (ễ, ệ), which pylatexenc lacks."""
    char = text[pos]
    if len(unicodedata.normalize("NFD", char)) < 3:
        return None
    accented = _accented(char)
    return (1, accented) if accented is not None else None


_WHITESPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Collapse whitespace (newlines end a BibTeX paragraph) and NFC-normalise."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def to_latex(text: str) -> str:
    """Pure-ASCII LaTeX for a BibTeX field: specials escaped, every other character a command."""
    return _bibtex_encoder().unicode_to_latex(clean(text))


_SPECIALS_RE = re.compile(r"[\\{}&%$#_~^]")


def escape_specials(text: str) -> str:
    """LaTeX specials escaped, UTF-8 kept: for biber, which handles Unicode itself."""
    return _SPECIALS_RE.sub(lambda m: SPECIALS[m.group()], clean(text))


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
