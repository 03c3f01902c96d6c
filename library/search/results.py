"""What a search returns, the same shape from every engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Sort(StrEnum):
    """The order of the results: by relevance, newest or oldest first (undated last), or
    A–Z by title or by the first author's family name (pieces without one last), as the
    browse page sorts."""

    # This docstring is the API's description of ``sort=`` (OpenAPI). TITLE and AUTHOR are
    # library/catalogue/ordering.py's orders applied to the matching ids by every engine
    # (backends/shared.py), so the search and browse pages list the same pieces alike.
    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"
    TITLE = "title"
    AUTHOR = "author"

    @property
    def label(self) -> str:
        """What the sort control shows (the browse page's words for the shared orders)."""
        return _SORT_LABELS[self]

    @property
    def by_catalogue(self) -> bool:
        """Whether the catalogue's ordering, not the index, orders the page."""
        return self in (Sort.TITLE, Sort.AUTHOR)

    @classmethod
    def parse(cls, value: object) -> Sort:
        """Any unknown value means relevance: a bad ``sort=`` must not break the page."""
        try:
            return cls(str(value).lower())
        except ValueError:
            return cls.RELEVANCE


_SORT_LABELS = {
    Sort.RELEVANCE: "Relevance",
    Sort.NEWEST: "Newest",
    Sort.OLDEST: "Oldest",
    Sort.TITLE: "Title",
    Sort.AUTHOR: "Author",
}


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
