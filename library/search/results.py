"""What a search returns, the same shape from every engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"

    @classmethod
    def parse(cls, value: object) -> Sort:
        """Any unknown value means relevance: a bad ``sort=`` must not break the page."""
        try:
            return cls(str(value).lower())
        except ValueError:
            return cls.RELEVANCE


@dataclass(frozen=True)
class Hit:
    """One ranked piece. ``snippet`` is marked with text.MARK_START/MARK_END, not HTML."""

    piece_id: int
    score: float
    snippet: str = ""


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: ``key`` is what goes into the query (``topic:terrorism``)."""

    key: str
    label: str
    count: int


@dataclass
class SearchResults:
    """A page of hits, the total, facet counts over the whole match and notes for the reader."""

    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    hints: list[str] = field(default_factory=list)


FACET_NAMES = ("topic", "region", "author", "year", "type")
