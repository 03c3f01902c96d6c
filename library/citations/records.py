"""The format-neutral citation record every writer reads.

A :class:`CitationRecord` is what one catalogued piece looks like to a citation format: plain
Python values, no Django. Writers (BibTeX, BibLaTeX, RIS, CSL-JSON, formatted styles) map it
to their own vocabulary, so the mapping from database rows happens once (``from_piece``) and
every format can be tested on records built by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from library.text import display_name, join_title

PIECE_TYPES = (
    "commentary",
    "article",
    "report",
    "policy_brief",
    "book",
    "chapter",
    "web_article",
    "thesis",
    "other",
)

# A note that only names the degree ("Master's thesis"): formats say it with the entry type.
_DEGREE_ONLY = re.compile(
    r"^\s*(master'?s|ma|msc|mphil|phd|doctoral)\s+(thesis|dissertation)\.?\s*$", re.IGNORECASE
)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Name:
    """A contributor: a person's name parts, or an organisation whose name is in ``family``."""

    family: str
    given: str = ""
    particle: str = ""
    suffix: str = ""
    is_organisation: bool = False

    @property
    def display(self) -> str:
        """``Given particle Family, Suffix``, as a byline reads."""
        return display_name(
            family=self.family,
            given=self.given,
            particle=self.particle,
            suffix=self.suffix,
            organisation=self.is_organisation,
        )


@dataclass(frozen=True)
class CitationRecord:
    """One citable work, with the date split at the precision it is known to.

    ``month`` and ``day`` are ``None`` when the piece is dated only to the year (or month):
    formats must not invent a 1 January.
    """

    key: str
    type: str
    title: str
    subtitle: str = ""
    authors: tuple[Name, ...] = ()
    editors: tuple[Name, ...] = ()
    year: int | None = None
    month: int | None = None
    day: int | None = None
    publisher: str = ""
    place: str = ""
    series: str = ""
    number: str = ""
    container_title: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    edition: str = ""
    url: str = ""
    #: When the URL was last checked, ``YYYY-MM-DD`` (or ``""``): BibLaTeX's ``urldate``.
    accessed: str = ""
    doi: str = ""
    language: str = "en"
    abstract: str = ""
    keywords: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if self.type not in PIECE_TYPES:
            raise ValueError(f"unknown piece type {self.type!r}; expected one of {PIECE_TYPES}")
        if self.day is not None and self.month is None:
            raise ValueError("a day without a month is not a date")
        if self.month is not None and self.year is None:
            raise ValueError("a month without a year is not a date")
        if self.accessed and not _ISO_DATE.fullmatch(self.accessed):
            raise ValueError(f"accessed {self.accessed!r} is not a YYYY-MM-DD date")

    @property
    def full_title(self) -> str:
        """Title and subtitle joined as the catalogue shows them (no colon after ``?``)."""
        return join_title(self.title, self.subtitle)

    @property
    def accessed_parts(self) -> tuple[int, int, int] | None:
        """The access date as (year, month, day), or ``None``."""
        if not self.accessed:
            return None
        year, month, day = self.accessed.split("-")
        return int(year), int(month), int(day)

    @property
    def page_range(self) -> tuple[str, str]:
        """First and last page from ``45–67``, ``45-67`` or ``45--67``; last is '' if single."""
        text = self.pages.replace("\u2013", "-").replace("\u2014", "-")
        first, _, last = text.partition("-")
        return first.strip(), last.strip("- ").strip()

    @property
    def is_masters_thesis(self) -> bool:
        """Theses are doctoral unless the note says "master" (the catalogue has no degree)."""
        return self.type == "thesis" and "master" in self.note.lower()

    @property
    def extra_note(self) -> str:
        """The note, unless all it says is the degree, which the entry type already says."""
        return "" if _DEGREE_ONLY.match(self.note) else self.note
