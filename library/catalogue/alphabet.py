"""The A–Z jump on the author index: which letters have authors, and filtering by one.

Initials are grouped by their transliteration, so Øberg files under O and Đặng under D;
names that start with no Latin letter (digits, punctuation, some scripts) go under ``#``.
The database returns the few distinct first characters; the grouping is done in Python,
because SQLite's ``upper()`` leaves non-ASCII letters alone.
"""

from __future__ import annotations

import string

from anyascii import anyascii
from django.db.models import QuerySet
from django.db.models.functions import Substr, Upper

OTHER = "#"
LETTERS = (*string.ascii_uppercase, OTHER)


def letter_of(initial: str) -> str:
    """``A``–``Z`` for a character that transliterates to a Latin letter, else ``#``."""
    folded = anyascii(initial)[:1].upper()
    return folded if folded in string.ascii_uppercase else OTHER


def with_initial(authors: QuerySet) -> QuerySet:
    return authors.annotate(initial=Upper(Substr("family", 1, 1)))


def initials_by_letter(authors: QuerySet) -> dict[str, list[str]]:
    """Each letter that has authors, with the raw first characters filed under it."""
    raw = with_initial(authors).order_by().values_list("initial", flat=True).distinct()
    groups: dict[str, list[str]] = {}
    for initial in raw:
        groups.setdefault(letter_of(initial or ""), []).append(initial or "")
    return groups


def filter_letter(authors: QuerySet, letter: str, groups: dict[str, list[str]]) -> QuerySet:
    """The authors filed under ``letter`` (none when nobody is)."""
    return with_initial(authors).filter(initial__in=groups.get(letter, []))
