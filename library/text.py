"""Small text rules shared across the packages: folding, stop words, titles and names.

Pure Python, no Django, so the pure packages (``ingest``, ``citations``) can use it too. Each
rule is written once here; the catalogue, the citation formats, search and the browse
facets call it, so a title or a name reads the same wherever it is shown.

Two foldings exist on purpose, under different names:

- :func:`fold_lower` compares words in search (aliases, suggestions, stop words): lower-case,
  accents and stroke letters removed. Stroke letters map one to one so that an index can
  keep the original's offsets (:func:`fold_strokes`).
- :func:`strip_diacritics` feeds the tag suggester's tokens: case is kept (it tells the
  acronym "IS" from the word "is") and ligatures are spelled out (``æ`` → ``ae``).
"""

from __future__ import annotations

import unicodedata

# --- folding -----------------------------------------------------------------------------------

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

# The suggester's letters without a decomposition; ligatures and ß become two letters.
_LETTERS_SPELLED_OUT = str.maketrans(
    {
        "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
        "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i",
        "þ": "th", "Þ": "Th",
    }
)  # fmt: skip


def fold_strokes(text: str) -> str:
    """Map stroke letters to their base letter, keeping the text's length unchanged."""
    return text.translate(_STROKES)


def fold_lower(text: str) -> str:
    """Lower-case, diacritic-free form used to compare words in search (aliases, suggestions)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", fold_strokes(text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def strip_diacritics(text: str) -> str:
    """``text`` without diacritics (“Đà Nẵng” → “Da Nang”), ligatures spelled out; case is kept."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS_SPELLED_OUT))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- stop words --------------------------------------------------------------------------------

# Words too common to say anything about a piece: left out of "did you mean" and related pieces.
SEARCH_STOPWORDS = frozenset(
    """a an and are as at be but by for from has have he her his i if in into is it its
    of on or our she so than that the their them then there these they this to was we were
    what when which who will with would you your not no can could may might also been more
    most other some such only over after before about between both each how all any""".split()
)

# Words a citation key skips in a title (``the2016...`` is no key) and an organisation's
# initials leave out (International Crisis Group -> icg). Changing it changes new keys.
KEY_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how in into is it its of on or the "
    "this to was what when where which who why will with".split()
)


# --- titles and names --------------------------------------------------------------------------


def subtitle_joiner(title: str) -> str:
    """What goes between a title and its subtitle: no colon after ``?``, ``!``, ``:`` or ``.``."""
    return " " if title.rstrip().endswith(("?", "!", ":", ".")) else ": "


def join_title(title: str, subtitle: str) -> str:
    """Title and subtitle joined as the catalogue shows them."""
    if not subtitle:
        return title
    return f"{title}{subtitle_joiner(title)}{subtitle}"


def family_with_particle(particle: str, family: str) -> str:
    """``van Creveld``, ``al-Raḥmān``: a particle ending in - or ' takes no space."""
    if not particle:
        return family
    joiner = "" if particle.endswith(("-", "'", "’")) else " "
    return f"{particle}{joiner}{family}"


def display_name(
    *,
    family: str,
    given: str = "",
    particle: str = "",
    suffix: str = "",
    organisation: bool = False,
    attach_particle: bool = False,
) -> str:
    """The name as a byline reads it: ``Given particle Family, Suffix``.

    An organisation's name is its ``family``. ``attach_particle`` joins a particle ending in
    a hyphen or apostrophe to the family name (``al-Raḥmān``), as the citation formats do;
    the catalogue's own pages have always joined the parts with spaces.
    """
    if organisation:
        return family
    parts: tuple[str, ...]
    if attach_particle:
        parts = (given, family_with_particle(particle, family))
    else:
        parts = (given, particle, family)
    name = " ".join(part for part in parts if part)
    return f"{name}, {suffix}" if suffix else name
