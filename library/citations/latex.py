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

Brace protection (:func:`protect_title`) braces only what must keep its case when a style
sentence-cases a title (plain's ``change.case$``, biblatex's ``\\MakeSentenceCase``, APA):

1. a word with a capital letter after its first character (IS, ASEAN, COVID-19, iPhone,
   McCain, al-Raḥmān), decided on the text as it will be written (so a transliterated
   ``QingDai`` counts, as BibTeX will see it);
2. a capitalised word inside a proper noun the writer was told about: the record's own
   author and editor names and the catalogue's vocabulary (topic and region names), passed
   as ``proper_nouns``;
3. a word holding a character that only T1 fonts have (see below), so that no case change
   reaches the encoding switch.

Any other capitalised word ("Endgame") is left bare: a sentence-case style may lower-case
it, which is what such styles ask for; a title-case style prints it as written. Protection
is decided on the raw text and each word is escaped before it is wrapped, so a ``\\command``
is never separated from its argument and braces always balance.

OT1, LaTeX's default font encoding, lacks some letters that occur in real names: Đ đ
(Croatian, Serbian, Vietnamese), the ogonek of Polish and Lithuanian (ą ę), Ŋ ŋ, Ð ð, Þ þ
and the guillemets. ``\\DJ`` or ``\\k`` stop pdflatex in a document that does not load
``fontenc`` with T1 ("Command \\DJ unavailable in encoding OT1"). They are written as
``{\\fontencoding{T1}\\selectfont\\DJ}``: LaTeX always knows the T1 encoding, so the glyph is
set from a T1 font in an OT1 document too, and a T1 document gets the same letter. The cost:
bibtex's ``purify$`` (used to sort) sees the letters "T1" where the letter was, so a family
name beginning with Đ sorts under T in bibtex styles; biber and reference managers read the
macro as the letter. Control characters (U+0000-U+001F other than whitespace, U+007F-U+009F)
have no meaning in a bibliography and stop pylatexenc; they are dropped by :func:`clean`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
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
    # The kernel's \\S and \\P (OT1 and T1 alike), which pandoc reads; it drops \\textsection.
    "\u00a7": r"\S",
    "\u00b6": r"\P",
    # The kernel's \\pounds, which pandoc reads; it drops \\textsterling ("£1" read "1").
    "\u00a3": r"\pounds",
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
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
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


# Commands that exist only in the T1 font encoding (see the module docstring).
_T1_ONLY = re.compile(
    r"\\(?:DJ|dj|NG|ng|DH|dh|TH|th|guillemot(?:left|right)|guilsingl(?:left|right)"
    r"|quotedblbase|quotesinglbase|k)(?![A-Za-z])"
)
T1_SWITCH = r"\fontencoding{T1}\selectfont"


def _latex_for(char: str) -> str | None:
    """LaTeX for one non-ASCII character, or None when pdflatex has no way to set it."""
    latex = _EXTRA.get(char) or _from_table(ord(char)) or _accented(char)
    if latex and _T1_ONLY.search(latex):
        return T1_SWITCH + latex
    return latex


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
# C0 and C1 control characters but the whitespace ones, which clean() collapses; and lone
# surrogates, which cannot be encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")


def drop_controls(text: str) -> str:
    """``text`` without control characters: a format cannot carry them and tools choke."""
    return _CONTROL.sub("", text)


def clean(text: str) -> str:
    """Drop control characters, collapse whitespace (newlines end a BibTeX paragraph), NFC."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", drop_controls(text))).strip()


_ASCII_SPECIALS_RE = re.compile(r"[\\{}&%$#_~^<>]")
_ASCII_TABLE = SPECIALS | {"<": _EXTRA["<"], ">": _EXTRA[">"]}


# TeX's ligatures: "--" is an en dash, ``` `` ``` and ``''`` are curly quotes, ``!` ?` ``
# are ¡ ¿. Text that says "18--" means two hyphens, so an empty group breaks each pair;
# bibtex, biber and pandoc read ``-{}-`` back as the two characters.
_LIGATURES = re.compile(r"(?<=-)(?=-)|(?<=`)(?=`)|(?<=')(?=')|(?<=[!?])(?=`)")


def break_ligatures(latex: str) -> str:
    """``--`` -> ``-{}-`` and the like, in text already escaped for LaTeX."""
    return _LIGATURES.sub("{}", latex)


@lru_cache(maxsize=4096)
def to_latex(text: str) -> str:
    """Pure-ASCII LaTeX for a BibTeX field: specials escaped, every other character a command.

    Cached, because publishers, places and series repeat across a catalogue; ASCII text
    skips pylatexenc (which walks its rules character by character) for the same result.
    """
    text = clean(text)
    if text.isascii():
        latex = _ASCII_SPECIALS_RE.sub(lambda m: "{" + _ASCII_TABLE[m.group()] + "}", text)
    else:
        latex = _bibtex_encoder().unicode_to_latex(_transliterate(text))
    return break_ligatures(latex)


_SPECIALS_RE = re.compile(r"[\\{}&%$#_~^]")


def escape_specials(text: str) -> str:
    """LaTeX specials escaped, UTF-8 kept: for biber, which handles Unicode itself."""
    return break_ligatures(_SPECIALS_RE.sub(lambda m: "{" + SPECIALS[m.group()] + "}", clean(text)))


# --- brace protection -------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")


def _core_span(word: str) -> tuple[int, int]:
    """Start and end of the part of ``word`` from its first to its last letter or digit."""
    alnum = [i for i, c in enumerate(word) if c.isalnum()]
    return (alnum[0], alnum[-1] + 1) if alnum else (len(word), len(word))


def needs_protection(word: str, *, first: bool = False, proper: bool = False) -> bool:
    """The protection rule from the module docstring, for one word of raw text.

    ``proper`` says the word is part of a known proper noun. ``first`` is kept for callers
    that ask about a title's first word: sentence case never lowers its first letter, but an
    acronym there still needs its later capitals kept.
    """
    if not word:
        return False
    if any(c.isupper() for c in word[1:]) or T1_SWITCH in word:
        return True
    return proper and word[0].isupper() and not first


@lru_cache(maxsize=64)
def _noun_pattern(nouns: tuple[str, ...], transliterate: bool) -> re.Pattern[str] | None:
    """One pattern finding every known proper noun at every position of a text.

    Compiled once per set of nouns: the vocabulary holds ~1,400 names, and a pattern per
    name per title overflowed ``re``'s own cache, so every title recompiled all of them
    (1.4 s for one BibTeX entry). The names are merged into a trie (``re`` tries a flat
    alternation's branches one by one: 7x slower an entry). A lookahead matches at each
    position, longest name first, so names that overlap ("Gulf of Guinea",
    "Guinea-Bissau") are each found.
    """
    prepared = {clean(noun) for noun in nouns}
    if transliterate:
        prepared = {_transliterate(noun) for noun in prepared}
    names = [name for name in prepared if name[:1].isalpha()]
    if not names:
        return None
    return re.compile(rf"(?=(?<!\w)({_trie_pattern(names)})(?!\w))", re.IGNORECASE)


def _trie_pattern(names: Iterable[str]) -> str:
    """An alternation of ``names`` with shared beginnings merged, longer branches first.

    Characters are merged by their one-character lower case (the pattern ignores case).
    """
    trie: dict[str, dict] = {}
    for name in names:
        node = trie
        for char in name:
            lower = char.lower()
            node = node.setdefault(lower if len(lower) == 1 else char, {})
        node[""] = {}  # a name ends here

    def branch(node: dict[str, dict]) -> str:
        parts = [re.escape(char) + branch(child) for char, child in sorted(node.items()) if char]
        if "" in node:
            parts.append("")  # the shorter name, tried after every longer one
        if len(parts) == 1:
            return parts[0]
        return "(?:" + "|".join(parts) + ")"

    return branch(trie)


def _proper_spans(
    text: str, nouns: tuple[str, ...], *, transliterate: bool
) -> list[tuple[int, int]]:
    """Character spans of ``text`` where one of ``nouns`` occurs as whole words."""
    pattern = _noun_pattern(nouns, transliterate)
    return [match.span(1) for match in pattern.finditer(text)] if pattern else []


def _guarded(latex: str) -> str:
    """Punctuation around a word (« ») braced when it holds a T1-only letter."""
    return "{" + latex + "}" if T1_SWITCH in latex else latex


def protect_title(
    text: str,
    escape: Callable[[str], str] = to_latex,
    proper_nouns: Iterable[str] = (),
    vocabulary: tuple[str, ...] = (),
) -> str:
    """``text`` escaped with ``escape``, with acronyms and known proper nouns braced.

    ``proper_nouns`` are the record's own (its people, its series); ``vocabulary`` is the
    catalogue's, the same tuple for every record, so its pattern is compiled once.
    """
    out: list[str] = []
    position = 0
    text = clean(text)
    # Decide on the text BibTeX will see: a transliteration can add capitals (QingDai)
    # and turn a name in another script into the one an author is filed under.
    transliterate = escape is to_latex
    if transliterate:
        text = _transliterate(text)
    spans = _proper_spans(text, tuple(proper_nouns), transliterate=transliterate)
    spans += _proper_spans(text, vocabulary, transliterate=transliterate)
    for index, match in enumerate(_TOKEN.finditer(text)):
        out.append(text[position : match.start()])
        word = match.group()
        start, end = _core_span(word)
        core = word[start:end]
        escaped = escape(core)
        proper = any(lo <= match.start() + start and match.start() + end <= hi for lo, hi in spans)
        # A T1-only letter must never meet a case change (see the module docstring).
        if needs_protection(core, first=index == 0, proper=proper) or T1_SWITCH in escaped:
            escaped = "{" + escaped + "}"
        out.append(_guarded(escape(word[:start])) + escaped + _guarded(escape(word[end:])))
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


_URL_UNSAFE = re.compile(r"[\s{}\\\"<>^`|\x00-\x1f\x7f]|[^\x00-\x7f]")


def safe_url(url: str) -> str:
    """A URL or DOI left as it is, except percent-encoding what would break a field.

    ``\\url`` and biblatex read the value verbatim, so ``%``, ``#``, ``_`` and ``~`` stay
    raw; but braces would unbalance the entry and spaces or non-ASCII would not survive
    ``\\url`` under pdflatex.
    """
    return _URL_UNSAFE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), url.strip()
    )


_DOI_UNSAFE = re.compile(r"[\s{}\\\x00-\x1f\x7f]|[^\x00-\x7f]")


def safe_doi(doi: str) -> str:
    """A DOI as written (SICI DOIs keep their ``<`` ``>`` ``;``), for a verbatim field.

    biblatex's ``doi`` field is verbatim and natbib styles print it with ``\\url``'s
    reading rules, so ``%``, ``#``, ``_``, ``<`` and ``>`` stay raw. Only what would break
    the field itself is percent-encoded: braces (bibtex and biber count them), a
    backslash, whitespace and control characters, and non-ASCII, which ``\\url`` cannot
    set under pdflatex. A registered DOI has none of these.
    """
    return _DOI_UNSAFE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), doi.strip()
    )
