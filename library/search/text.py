"""Text helpers shared by every engine: folding, safe highlight markup, stopwords.

Highlighting is built here from *escaped* text: engines mark matches with two control
characters that can never come from stored text (they are stripped on the way in), and
:func:`markup` escapes everything else before turning the markers into ``<mark>`` tags.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MARK_START = "\x02"
MARK_END = "\x03"

# Latin letters with a stroke or bar have no Unicode decomposition, so the tokenizers'
# diacritic folding leaves "Đà Nẵng" unreachable from "Da Nang". Each maps to one
# character, so folded text keeps the original's offsets (snippets rely on it).
_STROKES = str.maketrans(
    {
        "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l",
        "Ħ": "H", "ħ": "h", "Ŧ": "T", "ŧ": "t", "Ƀ": "B", "ƀ": "b", "Ɨ": "I", "ɨ": "i",
        "ı": "i", "Ŀ": "L", "ŀ": "l",
    }
)  # fmt: skip


STOPWORDS = frozenset(
    """a an and are as at be but by for from has have he her his i if in into is it its
    of on or our she so than that the their them then there these they this to was we were
    what when which who will with would you your not no can could may might also been more
    most other some such only over after before about between both each how all any""".split()
)


def fold_strokes(text: str) -> str:
    """Map stroke letters to their base letter, keeping the text's length unchanged."""
    return text.translate(_STROKES)


def clean_for_index(text: str) -> str:
    """Text as stored in an index: stroke letters folded, marker characters removed."""
    if not text.isascii():
        text = fold_strokes(text)
    return text.replace(MARK_START, " ").replace(MARK_END, " ")


def fold(text: str) -> str:
    """Lower-case, diacritic-free form used to compare words (aliases, suggestions)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", fold_strokes(text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


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
