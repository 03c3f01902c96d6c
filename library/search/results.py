"""What a search returns, the same shape from every engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


# What an engine counts over a match, for backends/shared.py's ``build_facets`` to label:
# (value, count) pairs by facet, the values topic, region and author ids and years (int)
# or piece types (str).
FacetCounts = dict[str, list[tuple[int | str, int]]]


class SearchResults:
    """A page of hits, the total, facet counts over the whole match and notes for the reader.

    An engine still listing the whole match when its page is ready (SQLite lists the ids
    on a second connection: backends/database/sqlite/sidecar.py) passes ``pending``, which
    gives the total and the facets once the listing is done. They are worked out on first
    use, so the caller fetches the page's pieces while the listing finishes.
    """

    def __init__(
        self,
        hits: list[Hit],
        total: int = 0,
        facets: dict[str, list[FacetValue]] | None = None,
        hints: list[str] | None = None,
        *,
        pending: Callable[[], tuple[int, dict[str, list[FacetValue]]]] | None = None,
    ) -> None:
        self.hits = hits
        self.hints = hints if hints is not None else []
        self._total = total
        self._facets = facets if facets is not None else {}
        self._pending = pending

    @property
    def total(self) -> int:
        self._settle()
        return self._total

    @property
    def facets(self) -> dict[str, list[FacetValue]]:
        self._settle()
        return self._facets

    def _settle(self) -> None:
        if self._pending is not None:
            self._total, self._facets = self._pending()
            self._pending = None


FACET_NAMES = ("topic", "region", "author", "year", "type")
