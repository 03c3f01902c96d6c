"""What the ingest parsers produce: plain data, free of Django, for an editor to confirm."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


class NotACommentary(ValueError):
    """The input cannot be read as a commentary; ``reason`` says what was missing."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: not a commentary: {reason}")


@dataclass
class ParsedSection:
    heading: str
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class ParsedAuthor:
    """A byline name, with what the closing bio says about that person."""

    name: str
    bio: str = ""
    affiliation: str = ""


@dataclass
class ParsedPiece:
    """A commentary as read from text: every field an editor confirms before saving."""

    title: str
    authors: list[ParsedAuthor]
    synopsis: str
    sections: list[ParsedSection]
    subtitle: str = ""
    series: str = ""
    label: str = ""  # a series label printed above the title ("Global Health Security")
    number: str = ""
    publisher: str = ""
    date: datetime.date | None = None
    date_precision: str = "day"
    source: str = "<text>"
    source_hash: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        """Paragraphs only, one per line-pair; headings are in :attr:`headings`."""
        return "\n\n".join(p for s in self.sections for p in s.paragraphs)

    @property
    def headings(self) -> list[str]:
        return [s.heading for s in self.sections if s.heading]

    @property
    def author_names(self) -> list[str]:
        return [a.name for a in self.authors]
