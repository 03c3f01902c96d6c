"""Filtering the catalogue by topic, region, author, year and type, with facet counts.

Filters combine with AND. Each facet counts the pieces that match every *other* active
filter, so a reader sees how many pieces each choice would leave (the usual drill-down
behaviour of library catalogues).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.http import QueryDict

from library.catalogue.models import Piece, PieceType, Role

FILTER_NAMES = ("topic", "region", "author", "year", "type")
FACET_SIZE = 12


def _slug_text(value: str) -> str:
    """A filter value fit to compare with a slug column.

    NUL characters are dropped: no slug contains one, and PostgreSQL refuses them in any
    text parameter (a DataError, so a 500) where SQLite would merely find nothing.
    """
    return value.replace("\x00", "").strip()[:200]


@dataclass(frozen=True)
class Filters:
    topic: str = ""
    region: str = ""
    author: str = ""
    year: int | None = None
    type: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> Filters:
        """Read filters from a query string; a malformed value is ignored, never a 500."""
        year_text = query.get("year", "").strip()
        piece_type = query.get("type", "").strip()
        return cls(
            topic=_slug_text(query.get("topic", "")),
            region=_slug_text(query.get("region", "")),
            author=_slug_text(query.get("author", "")),
            year=int(year_text)
            if year_text.isascii() and year_text.isdigit() and len(year_text) <= 4
            else None,
            type=piece_type if piece_type in PieceType.values else "",
        )

    def active(self) -> dict[str, str]:
        return {
            name: str(getattr(self, name))
            for name in FILTER_NAMES
            if getattr(self, name) not in ("", None)
        }

    def without(self, name: str) -> Filters:
        return Filters(**{**self.__dict__, name: None if name == "year" else ""})

    def query_string(self, **changes) -> str:
        values = {**self.active(), **{k: str(v) for k, v in changes.items() if v is not None}}
        return urlencode({k: v for k, v in values.items() if v})

    def apply(self, queryset: QuerySet[Piece]) -> QuerySet[Piece]:
        conditions = Q()
        if self.topic:
            conditions &= Q(topics__slug=self.topic)
        if self.region:
            conditions &= Q(regions__slug=self.region)
        if self.author:
            conditions &= Q(authorships__author__slug=self.author, authorships__role=Role.AUTHOR)
        if self.year is not None:
            conditions &= Q(date__year=self.year)
        if self.type:
            conditions &= Q(type=self.type)
        if not conditions:
            return queryset
        # Filter on ids so multi-valued joins never duplicate rows.
        return queryset.filter(pk__in=Piece.objects.filter(conditions).values("pk"))


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    query: str


@dataclass
class Facet:
    name: str
    title: str
    values: list[FacetValue] = field(default_factory=list)


def _facet_rows(name: str, pieces: QuerySet[Piece]) -> list[tuple[str, str, int]]:
    """(value, label, count) rows for one facet over ``pieces``, most common first."""
    ids = pieces.values("pk")
    if name == "topic":
        rows = (
            Piece.topics.through.objects.filter(piece_id__in=ids)
            .values("topic__slug", "topic__name")
            .annotate(n=Count("piece_id"))
            .order_by("-n", "topic__name")
        )
        return [(r["topic__slug"], r["topic__name"], r["n"]) for r in rows]
    if name == "region":
        rows = (
            Piece.regions.through.objects.filter(piece_id__in=ids)
            .values("region__slug", "region__name")
            .annotate(n=Count("piece_id"))
            .order_by("-n", "region__name")
        )
        return [(r["region__slug"], r["region__name"], r["n"]) for r in rows]
    if name == "author":
        from library.catalogue.models import Authorship

        rows = (
            Authorship.objects.filter(piece_id__in=ids, role=Role.AUTHOR)
            .values("author__slug", "author__family", "author__given")
            .annotate(n=Count("piece_id", distinct=True))
            .order_by("-n", "author__family", "author__given")
        )
        return [
            (
                r["author__slug"],
                " ".join(filter(None, (r["author__given"], r["author__family"]))),
                r["n"],
            )
            for r in rows
        ]
    if name == "year":
        rows = (
            Piece.objects.filter(pk__in=ids, date__isnull=False)
            .annotate(y=ExtractYear("date"))
            .values("y")
            .annotate(n=Count("pk"))
            .order_by("-y")
        )
        return [(str(r["y"]), str(r["y"]), r["n"]) for r in rows]
    if name == "type":
        labels = dict(PieceType.choices)
        rows = (
            Piece.objects.filter(pk__in=ids).values("type").annotate(n=Count("pk")).order_by("-n")
        )
        return [(r["type"], labels.get(r["type"], r["type"]), r["n"]) for r in rows]
    raise ValueError(f"unknown facet {name!r}")


FACET_TITLES = {
    "topic": "Topic",
    "region": "Region",
    "author": "Author",
    "year": "Year",
    "type": "Type",
}


def facets(filters: Filters, base: QuerySet[Piece] | None = None) -> list[Facet]:
    """Every facet, each counted over the pieces matching the other active filters."""
    base = Piece.objects.all() if base is None else base
    result = []
    for name in FILTER_NAMES:
        others = filters.without(name)
        rows = _facet_rows(name, others.apply(base))
        current = str(getattr(filters, name) or "")
        shown = rows[:FACET_SIZE]
        if current and current not in {value for value, _, _ in shown}:
            shown += [row for row in rows if row[0] == current]
        facet = Facet(name, FACET_TITLES[name])
        for value, label, count in shown:
            selected = value == current
            facet.values.append(
                FacetValue(
                    value=value,
                    label=label,
                    count=count,
                    selected=selected,
                    query=filters.query_string(**{name: "" if selected else value}),
                )
            )
        result.append(facet)
    return result
