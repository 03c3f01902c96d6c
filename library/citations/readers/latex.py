"""LaTeX in BibTeX fields turned back into Unicode text (NFC), protective braces removed.

pylatexenc does the decoding, with a few macros added that its defaults drop or change:
our own exporter writes ``{\\textbraceleft}``, ``{\\textless}`` and ``{\\textasciicircum}``
(``library.citations.latex``), and those must come back as ``{``, ``<`` and ``^`` for an
export -> import -> export round trip to be identical. A bare ``%`` is a literal per cent
sign in BibTeX but a comment to LaTeX, so it is escaped before decoding rather than
letting the rest of the field vanish.

What pylatexenc does not know is dropped with nothing in its place (``{\\INSCRIPT}``: a
command a document defines for itself); :func:`decode` also names those commands, so the
import can say so (``unknown_commands``), rather than lose them silently.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pylatexenc import latexwalker
from pylatexenc.latex2text import (
    LatexNodes2Text,
    MacroTextSpec,
    get_default_latex_context_db,
)
from pylatexenc.macrospec import MacroSpec

# Commands whose argument is the text and which the parser does not know take one:
# biblatex's formatting wrappers (biblatex-examples.bib, biblatex-chicago's files), hologo's
# logos, and the markup of TUGboat's and Beebe's bibliographies (tugboat.cls: \acro, \pkg,
# \booktitle…). Without a rule pylatexenc keeps the text but reports the command unknown.
_WRAPPERS = (
    "mkbibemph", "mkbibitalic", "mkbibbold", "mkbibacro", "bibcorporate", "autocap", "hologo",
    "bibliteral", "booktitle", "acro", "pkg", "pgm", "Package", "file", "textzh",
)  # fmt: skip
# TUGboat's logos (tugboat.cls and its tugboat.def), each printed as this text; the tree's
# bibliographies use them in ~400 fields ("{\TUB} news", "Fonts and {\PS}").
_LOGOS = {
    "TUB": "TUGboat", "TUG": "TUG", "tug": "TUG", "CTAN": "CTAN", "PS": "PostScript",
    "POSTSCRIPT": "PostScript", "VAX": "VAX", "XML": "XML", "HTML": "HTML", "CSS": "CSS",
    "PDF": "PDF", "SGML": "SGML", "TikZ": "TikZ", "PiCTeX": "PiCTeX",
    "KOMAScript": "KOMA-Script", "AllTeX": "(La)TeX", "Thanh": "H\u00e0n Th\u1ebf Th\u00e0nh",
}  # fmt: skip
_TEXT_ARGUMENT = (
    "texttt", "textsf", "textup", "textmd", "textnormal", "mbox", "fbox", "textsuperscript",
    *_WRAPPERS,
)  # fmt: skip
# biblatex's punctuation commands: what they print.
_PUNCTUATION = {
    "adddot": ".", "addperiod": ".", "addcomma": ",", "addcolon": ":", "addsemicolon": ";",
    "addspace": " ", "addnbspace": " ", "addthinspace": " ", "isdot": "",
}  # fmt: skip
_BOXES = ("makebox", "framebox", "parbox")
_CITATIONS = (
    "cite", "citep", "citet", "citealp", "citealt", "citeauthor", "citeyear", "citeyearpar",
    "citenum", "Citep", "Citet", "Citealp", "Citealt", "Citeauthor", "parencite", "textcite",
    "autocite", "footcite",
)  # fmt: skip
_EXTRA_MACROS = [
    MacroTextSpec("textbraceleft", "{"),
    MacroTextSpec("textbraceright", "}"),
    MacroTextSpec("textless", "<"),
    MacroTextSpec("textgreater", ">"),
    MacroTextSpec("textasciicircum", "^"),
    MacroTextSpec("textasciitilde", "~"),
    MacroTextSpec("textbackslash", "\\"),
    MacroTextSpec("url", "%s"),
    MacroTextSpec("href", lambda node, l2tobj: _href(node, l2tobj)),
    # Our exporter sets T1-only letters (Đ, ą) in OT1 documents with an encoding switch.
    MacroTextSpec("fontencoding", ""),
    MacroTextSpec("selectfont", ""),
    MacroTextSpec("textperiodcentered", "\u00b7"),
    MacroTextSpec("S", "\u00a7"),
    MacroTextSpec("P", "\u00b6"),
    # The TeX family's logos, everywhere in TUGboat's and Beebe's bibliographies.
    MacroTextSpec("TeX", "TeX"),
    MacroTextSpec("LaTeX", "LaTeX"),
    MacroTextSpec("LaTeXe", "LaTeX2e"),
    MacroTextSpec("BibTeX", "BibTeX"),
    MacroTextSpec("XeTeX", "XeTeX"),
    MacroTextSpec("XeLaTeX", "XeLaTeX"),
    MacroTextSpec("LuaTeX", "LuaTeX"),
    MacroTextSpec("LuaLaTeX", "LuaLaTeX"),
    MacroTextSpec("pdfTeX", "pdfTeX"),
    MacroTextSpec("pdfLaTeX", "pdfLaTeX"),
    MacroTextSpec("ConTeXt", "ConTeXt"),
    MacroTextSpec("AmS", "AMS"),
    MacroTextSpec("AMS", "AMS"),
    MacroTextSpec("METAFONT", "METAFONT"),
    MacroTextSpec("MF", "METAFONT"),
    MacroTextSpec("MP", "MetaPost"),
    MacroTextSpec("MetaPost", "MetaPost"),
    MacroTextSpec("SliTeX", "SliTeX"),
    MacroTextSpec("AmSTeX", "AMS-TeX"),
    MacroTextSpec("LAMSTeX", "LAMS-TeX"),
    # Punctuation macros of Beebe's TUGboat bibliographies; pylatexenc drops them, which
    # glued "TeX\Dash a child" into "TeXa child" and "VM\slash CMS" into "VMCMS".
    MacroTextSpec("Dash", "\u2014"),
    MacroTextSpec("emdash", "\u2014"),
    MacroTextSpec("endash", "\u2013"),
    MacroTextSpec("slash", "/"),
    MacroTextSpec("thinspace", " "),
    MacroTextSpec("par", " "),
    *(MacroTextSpec(name, text) for name, text in _LOGOS.items()),
    # A command's name in a title about TeX (TUGboat's \macro{let}, biblatex's \cmd{cite}).
    *(MacroTextSpec(name, "\\%s") for name in ("macro", "cs", "cmd")),
    MacroTextSpec("mkbibparens", "(%s)"),
    MacroTextSpec("mkbibbrackets", "[%s]"),
    MacroTextSpec("nopunct", ""),
    MacroTextSpec("adddotspace", ". "),
    *(MacroTextSpec(name, text) for name, text in _PUNCTUATION.items()),
    *(
        MacroTextSpec(name, lambda node, l2tobj: _quoted(node, l2tobj))
        for name in ("enquote", "mkbibquote")
    ),
    MacroTextSpec("pounds", "\u00a3"),
    # Text styles and boxes whose argument is text: pylatexenc parses their argument and
    # then drops it with the command ("A plain \texttt{book} entry" read "A plain entry").
    *(MacroTextSpec(name, "%s") for name in _TEXT_ARGUMENT),
    *(MacroTextSpec(name, lambda node, l2tobj: _last_argument(node, l2tobj)) for name in _BOXES),
    # BibTeX's sorting trick, defined in a @preamble to print nothing: the argument only
    # sorts ("{\noopsort{1983}}Title" was read "1983Title").
    MacroTextSpec("noopsort", ""),
    MacroTextSpec("nocite", ""),
    # A citation inside a note: its key, not pylatexenc's "<cit.>".
    *(MacroTextSpec(name, lambda node, l2tobj: _citation(node, l2tobj)) for name in _CITATIONS),
]
# How many arguments the parser gives macros it does not know by default: without this
# ``\href{url}{text}`` is a bare macro and two groups (and the text spec above has no args).
_EXTRA_PARSER_MACROS = [
    MacroSpec("href", "{{"),
    MacroSpec("fontencoding", "{"),
    MacroSpec("noopsort", "{"),
    MacroSpec("nocite", "{"),
    MacroSpec("textnormal", "{"),
    MacroSpec("fbox", "{"),
    MacroSpec("makebox", "[[{"),
    MacroSpec("framebox", "[[{"),
    MacroSpec("parbox", "[[[{{"),
    MacroSpec("enquote", "*{"),
    MacroSpec("mkbibquote", "{"),
    *(
        MacroSpec(name, "{")
        for name in (
            "textsuperscript",
            *_WRAPPERS,
            "macro",
            "cs",
            "cmd",
            "mkbibparens",
            "mkbibbrackets",
        )
    ),
]
#: Deeper than this, pylatexenc's recursion is not worth the risk: braces and macro names
#: are stripped instead (the words are kept).
MAX_DEPTH = 48


def _arguments(node, l2t: LatexNodes2Text) -> list[str]:
    """The text of each argument the command was given (optional ones left out are not)."""
    args = [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]
    return [l2t.nodelist_to_text([a]).strip() for a in args]


def _last_argument(node, l2t: LatexNodes2Text) -> str:
    r"""``\makebox[2cm][l]{text}`` -> the text (the box's size and position are not)."""
    texts = _arguments(node, l2t)
    return texts[-1] if texts else ""


def _quoted(node, l2t: LatexNodes2Text) -> str:
    r"""``\enquote{text}`` (csquotes) and ``\mkbibquote{text}`` (biblatex) -> “text”."""
    texts = _arguments(node, l2t)
    return f"\u201c{texts[-1]}\u201d" if texts else ""


def _citation(node, l2t: LatexNodes2Text) -> str:
    r"""``\cite[p.~3]{lamport}`` -> ``[lamport]``: the keys, which name other entries."""
    keys = _last_argument(node, l2t)
    return f"[{keys}]" if keys else ""


def _href(node, l2t: LatexNodes2Text) -> str:
    r"""``\href{url}{text}`` -> the text, or the URL when the text is empty."""
    texts = _arguments(node, l2t)
    if len(texts) >= 2 and texts[1]:
        return texts[1]
    return texts[0] if texts else ""


# Nothing in the value that LaTeX would treat specially: skip pylatexenc (slow per call).
_PLAIN = re.compile(r"[\\{}~$%-]")
_BARE_PERCENT = re.compile(r"(?<!\\)%")
# TeX's spacing primitives take a dimension, glue or number, not text: pylatexenc drops the
# command and kept its argument as words ("{\kern-.1em}TeX" read "-.1emTeX", and
# "T\kern-.1667em\lower.5ex\hbox{E}\kern-.125emX" read "T-.1667em.5exE-.125emX").
_DIMENSION = (
    r"[-+]?\s*(?:\d+(?:[.,]\d*)?|[.,]\d+)\s*(?:true\s*)?"
    r"(?:pt|pc|in|bp|cm|mm|dd|cc|sp|em|ex|mu|px|fil{1,3})"
)
_GLUE = rf"{_DIMENSION}(?:\s*plus\s*{_DIMENSION})?(?:\s*minus\s*{_DIMENSION})?"
_KERN = re.compile(rf"\\(?:kern|mkern|raise|lower|moveleft|moveright)\s*(?:{_DIMENSION} ?)?")
_SKIP = re.compile(rf"\\(?:hskip|vskip|mskip)\s*(?:{_GLUE})?|\\penalty\s*[-+]?\s*\d+")
_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _decoder() -> LatexNodes2Text:
    db = get_default_latex_context_db()
    db.add_context_category("dossier-import", prepend=True, macros=_EXTRA_MACROS)
    return LatexNodes2Text(latex_context=db, math_mode="verbatim", strict_latex_spaces=True)


@lru_cache(maxsize=1)
def _parser_context() -> latexwalker.LatexContextDb:
    db = latexwalker.get_default_latex_context_db()
    db.add_context_category("dossier-import", prepend=True, macros=_EXTRA_PARSER_MACROS)
    return db


_BRACE = re.compile(r"[{}]")
_MACRO_NAME = re.compile(r"\\(?:[A-Za-z]+|.)")


def nesting_depth(value: str) -> int:
    """The deepest brace nesting in ``value``."""
    depth = deepest = 0
    for mark in _BRACE.finditer(value):
        depth += 1 if mark.group() == "{" else -1
        deepest = max(deepest, depth)
    return deepest


def _tidy(text: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def latex_to_text(value: str) -> str:
    """``M{\\"u}ller {IS}`` -> ``Müller IS``."""
    return decode(value)[0]


def unknown_commands(value: str) -> tuple[str, ...]:
    r"""The commands :func:`latex_to_text` drops from ``value`` without knowing them
    (``{\INSCRIPT}``), in order of first use; those that only shape the page are left out.

    Decodes only a value that names such a command: an author list's accents (``\~``,
    ``\"``) and known commands need no pylatexenc parse of the whole field.
    """
    if not _unknown_names(value):
        return ()
    return decode(value)[1]


def _unknown(name: str) -> bool:
    return name not in _LAYOUT and _decoder().latex_context.get_macro_spec(name) is None


_LETTER_COMMAND = re.compile(r"\\([A-Za-z]+)")


@lru_cache(maxsize=8192)
def decode(value: str) -> tuple[str, tuple[str, ...]]:
    """The text, and the unknown commands dropped from it; cached because publishers and
    places repeat."""
    if not _PLAIN.search(value):
        return _tidy(value), ()
    verbatims: list[str] = []
    if "\\" in value:
        value = _SKIP.sub(" ", _KERN.sub("", value))
        if not _ASIDE_RANGE.search(value):  # a value using that area keeps its \\verb as is
            value = _VERBATIM.sub(lambda m: _set_aside(m.group(2), verbatims), value)
    simple = _simple(value)
    if simple is not None:
        return _put_back(simple, verbatims), ()
    if nesting_depth(value) > MAX_DEPTH:
        return _put_back(_stripped(value), verbatims), _unknown_names(value)
    value = _BARE_PERCENT.sub(r"\\%", value)
    try:
        nodes = latexwalker.LatexWalker(value, latex_context=_parser_context()).get_latex_nodes()[0]
        text = _decoder().nodelist_to_text(nodes)
    except _PYLATEXENC_FAILURES:
        # Some malformed macro uses (``\input`` with no argument) fail inside pylatexenc's
        # own substitution code: the words are kept, braces and macro names dropped.
        return _put_back(_stripped(value), verbatims), _unknown_names(value)
    return _put_back(_tidy(text), verbatims), tuple(dict.fromkeys(_dropped(nodes)))


# ``\verb|amsppt.sty|`` and Beebe's ``\path|jsbien@plearn.edu.pl|``: verbatim text between a
# delimiter and its repeat, which pylatexenc dropped (verb) or read as LaTeX (path).
_VERBATIM = re.compile(r"\\(?:verb|path)\*?([^A-Za-z\s{}*])(.*?)\1", re.DOTALL)
# Verbatim text waits in plane 16's private use area while pylatexenc reads the rest.
_ASIDE = 0x100000
_ASIDE_RANGE = re.compile("[\U00100000-\U0010ffff]")


def _set_aside(text: str, verbatims: list[str]) -> str:
    verbatims.append(text)
    return chr(_ASIDE + len(verbatims) - 1)


def _put_back(text: str, verbatims: list[str]) -> str:
    for number, verbatim_text in enumerate(verbatims):
        text = text.replace(chr(_ASIDE + number), verbatim_text)
    return text


# Commands pylatexenc drops and should: spacing, breaks, boxes of no text of their own, and
# font switches (the text after them is kept).
_LAYOUT = frozenset(
    """relax protect hbox vbox null strut unskip nobreak allowbreak hfil hfill hss break
    linebreak newline noindent sloppy nolinebreak ignorespaces xspace leavevmode hspace
    vspace smallskip medskip bigskip em it bf sl sc tt rm sf up md normalfont itshape
    bfseries slshape scshape ttfamily rmfamily sffamily upshape mdseries tiny scriptsize
    footnotesize small normalsize large Large LARGE huge Huge""".split()
)


def _dropped(nodes) -> list[str]:
    """The names of the commands in ``nodes`` that the decoder does not know."""
    found: list[str] = []
    for node in nodes or ():
        if node is None or node.isNodeType(latexwalker.LatexMathNode):
            continue  # math is kept as written
        if node.isNodeType(latexwalker.LatexMacroNode):
            name = node.macroname
            if name.isalpha() and _unknown(name):
                found.append(name)
        if getattr(node, "nodeargd", None) is not None:
            found += _dropped(node.nodeargd.argnlist)
        if getattr(node, "nodelist", None):
            found += _dropped(node.nodelist)
    return found


def _unknown_names(value: str) -> tuple[str, ...]:
    """The unknown commands named in ``value``: what decode reports when pylatexenc cannot
    say, and unknown_commands' test of whether a parse is needed at all."""
    return tuple(dict.fromkeys(n for n in _LETTER_COMMAND.findall(value) if _unknown(n)))


# Escaped symbols and argument-less text macros that pylatexenc turns into one character;
# our own exporter writes them in nearly every title (``R{\\&}D``, ``100{\\%}``).
_SYMBOLS = {
    **{f"\\{c}": c for c in "&%$#_"},
    **{f"{{\\{c}}}": c for c in "&%$#_"},
    **{
        f"{{\\{name}}}": text
        for name, text in (
            ("textless", "<"),
            ("textgreater", ">"),
            ("textbraceleft", "{"),
            ("textbraceright", "}"),
            ("textasciicircum", "^"),
            ("textasciitilde", "~"),
            ("textbackslash", "\\"),
        )
    },
}
_SYMBOL = re.compile("|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True)))
# What pylatexenc would change besides grouping braces: macros, ties, math, comments,
# alignment tabs, TeX ligatures (``--``, ````a''``, ``!```).
_NOT_SIMPLE = re.compile(r"[\\~$%&`]|--|''")


def _simple(value: str) -> str | None:
    """pylatexenc's result without pylatexenc, for text that is only words, grouping braces
    and :data:`_SYMBOLS`; ``None`` for anything else. Decoding is most of reading a file,
    and most titles are of this kind (tests check the two agree).
    """
    parts = _SYMBOL.split(value)
    if any(_NOT_SIMPLE.search(p) for p in parts):
        return None
    depth = 0
    for mark in _BRACE.finditer("".join(parts)):
        depth += 1 if mark.group() == "{" else -1
        if depth < 0:
            return None
    if depth:
        return None
    symbols = [_SYMBOLS[m] for m in _SYMBOL.findall(value)]
    out = [_BRACE.sub("", parts[0])]
    for symbol, part in zip(symbols, parts[1:], strict=True):
        out.extend((symbol, _BRACE.sub("", part)))
    return _tidy("".join(out))


#: What pylatexenc's substitution code raises on macros used without their arguments.
_PYLATEXENC_FAILURES = (IndexError, KeyError, TypeError, ValueError, AttributeError)


def _stripped(value: str) -> str:
    return _tidy(_BRACE.sub("", _MACRO_NAME.sub(" ", value)))


_URL_COMMAND = re.compile(r"^\s*\\(?:url|href)\s*\{([^{}]*)\}")


def verbatim(value: str) -> str:
    """A URL or DOI as written: no LaTeX decoding (``%20`` and ``_`` stay as they are)."""
    value = value.strip()
    match = _URL_COMMAND.match(value)
    if match:
        value = match.group(1)
    while value.startswith("{") and value.endswith("}"):
        value = value[1:-1].strip()
    return value
