"""LaTeX in BibTeX fields turned back into Unicode text (NFC), protective braces removed.

pylatexenc does the decoding, with a few macros added that its defaults drop or change:
our own exporter writes ``{\\textbraceleft}``, ``{\\textless}`` and ``{\\textasciicircum}``
(``library.citations.latex``), and those must come back as ``{``, ``<`` and ``^`` for an
export -> import -> export round trip to be identical. A bare ``%`` is a literal per cent
sign in BibTeX but a comment to LaTeX, so it is escaped before decoding rather than
letting the rest of the field vanish.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pylatexenc.latex2text import (
    LatexNodes2Text,
    MacroTextSpec,
    get_default_latex_context_db,
)

_EXTRA_MACROS = [
    MacroTextSpec("textbraceleft", "{"),
    MacroTextSpec("textbraceright", "}"),
    MacroTextSpec("textless", "<"),
    MacroTextSpec("textgreater", ">"),
    MacroTextSpec("textasciicircum", "^"),
    MacroTextSpec("textasciitilde", "~"),
    MacroTextSpec("textbackslash", "\\"),
    MacroTextSpec("url", "%s"),
    MacroTextSpec("href", "%(2)s"),
]

# Nothing in the value that LaTeX would treat specially: skip pylatexenc (slow per call).
_PLAIN = re.compile(r"[\\{}~$%-]")
_BARE_PERCENT = re.compile(r"(?<!\\)%")
_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _decoder() -> LatexNodes2Text:
    db = get_default_latex_context_db()
    db.add_context_category("dossier-import", prepend=True, macros=_EXTRA_MACROS)
    return LatexNodes2Text(latex_context=db, math_mode="verbatim", strict_latex_spaces=True)


def _tidy(text: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


@lru_cache(maxsize=8192)
def latex_to_text(value: str) -> str:
    """``M{\\"u}ller {IS}`` -> ``Müller IS``; cached because publishers and places repeat."""
    if not _PLAIN.search(value):
        return _tidy(value)
    value = _BARE_PERCENT.sub(r"\\%", value)
    return _tidy(_decoder().latex_to_text(value))


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
