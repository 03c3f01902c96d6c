"""Text helpers shared by every engine: safe highlight markup, snippets, and the folding and
stop words of :mod:`library.text` under the names the engines import.

Highlighting is built here from *escaped* text: engines mark matches with two control
characters that can never come from stored text (they are stripped on the way in), and
:func:`markup` escapes everything else before turning the markers into ``<mark>`` tags.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from library.text import SEARCH_STOPWORDS, fold_lower, fold_strokes

# The engines' names for the shared rules (``fold`` is search's folding, not the tag
# suggester's ``strip_diacritics``; see library/text.py).
fold = fold_lower
STOPWORDS = SEARCH_STOPWORDS

# A word as the index tokenizers split text: letters and digits ("cyber-attack" is two
# words, and so is "snake_case"). The short-field word counts, "did you mean", alias
# phrases and PostgreSQL's snippet windows all split with it.
WORD = re.compile(r"[^\W_]+")

MARK_START = "\x02"
MARK_END = "\x03"


def clean_for_index(text: str) -> str:
    """Text as stored in an index: stroke letters folded, marker characters removed."""
    if not text.isascii():
        text = fold_strokes(text)
    return text.replace(MARK_START, " ").replace(MARK_END, " ")


def markup(marked: str) -> SafeString:
    """Escape ``marked`` and turn the engine's match markers into ``<mark>`` elements."""
    out: list[str] = []
    open_mark = False
    for ch in marked:
        if ch == MARK_START and not open_mark:
            out.append("<mark>")
            open_mark = True
        elif ch == MARK_END and open_mark:
            out.append("</mark>")
            open_mark = False
        elif ch not in (MARK_START, MARK_END):
            out.append(ch)
    # Escaping per run keeps the tags ours and every character of stored text inert.
    html = "".join(escape(part) if part not in ("<mark>", "</mark>") else part for part in out)
    if open_mark:
        html += "</mark>"
    # Safe: every character of stored text went through escape() above.
    return mark_safe(html)


_LINE_BREAKS = re.compile(r"\s*\n[\s\n]*")


def tidy_snippet(marked: str) -> str:
    """One line: tags, names and paragraphs are stored one per line; show them with a dot."""
    return _LINE_BREAKS.sub(" · ", marked).strip()


def plain(marked: str) -> str:
    """The snippet without its markers, for JSON and the command line."""
    return marked.replace(MARK_START, "").replace(MARK_END, "")


def restore_original(marked: str, folded_source: str, original_source: str) -> str:
    """Put stroke letters back into a snippet cut from folded text.

    ``folded_source`` is ``clean_for_index(original_source)``, so the two have the same
    length; each fragment of the snippet is located in the folded text and replaced by the
    original characters at the same offsets.
    """
    if folded_source == original_source:
        return marked
    text = plain(marked)
    pieces = text.split("…")
    restored_pieces = []
    for piece in pieces:
        at = folded_source.find(piece) if piece else -1
        restored_pieces.append(original_source[at : at + len(piece)] if at >= 0 else piece)
    restored = "…".join(restored_pieces)
    # Re-insert markers at their positions (markers were removed, so offsets shift by them).
    result, i = [], 0
    for ch in marked:
        if ch in (MARK_START, MARK_END):
            result.append(ch)
        else:
            result.append(restored[i])
            i += 1
    return "".join(result)
