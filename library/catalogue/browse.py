"""Filtering the catalogue by topic, region, author, year and type, with facet counts.

Filters combine with AND. Each facet counts the pieces that match every *other* active
filter, so a reader sees how many pieces each choice would leave (the usual drill-down
behaviour of library catalogues).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urlencode

import numpy as np
from django.db import connection
from django.db.models import CharField, Count, Exists, IntegerField, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, ExtractYear, Substr
from django.http import QueryDict

from library.catalogue import facet_arrays
from library.catalogue.facet_arrays import FacetArrays
from library.catalogue.models import Author, Authorship, Piece, PieceType, Region, Role, Topic

FILTER_NAMES = ("topic", "region", "author", "year", "type")
FACET_SIZE = 12

_Pieces = TypeVar("_Pieces", bound=QuerySet[Piece])  # a piece queryset, of whatever class


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

    def apply(self, queryset: _Pieces) -> _Pieces:
        """``queryset`` narrowed to the pieces matching every active filter (same class)."""
        terms = _resolve(self)
        if terms.unknown:
            return queryset.none()
        return queryset.filter(*_conditions(terms, OuterRef("pk"), on_piece=True))


@dataclass(frozen=True)
class _Terms:
    """Active filters with their slugs turned into row ids, so that no filter joins a table.

    A slug that names nothing leaves its name in ``unknown``: no piece can match it.
    """

    topic_id: int | None = None
    region_id: int | None = None
    author_id: int | None = None
    year: int | None = None
    type: str = ""
    unknown: frozenset[str] = frozenset()

    def without(self, name: str) -> _Terms:
        """These terms less the filter ``name`` (a facet counts over the other filters)."""
        changes = {"year": None} if name == "year" else {"type": ""}
        if name in _TAGGED:
            changes = {f"{name}_id": None}
        return replace(self, **changes, unknown=self.unknown - {name})


_TAGGED: dict[str, type[Topic | Region | Author]] = {
    "topic": Topic,
    "region": Region,
    "author": Author,
}


def _resolve(filters: Filters) -> _Terms:
    """Look each active tag filter's slug up once, by its unique index.

    Why ids: the filter conditions below then touch only the tag tables' own indexes, and
    no plan depends on the planner's guess of how many rows of a bloated vocabulary table
    match a slug.
    """
    ids: dict[str, int | None] = {}
    unknown: set[str] = set()
    for name, model in _TAGGED.items():
        slug = getattr(filters, name)
        found = (
            list(model.objects.filter(slug=slug).values_list("pk", flat=True)[:1]) if slug else []
        )
        ids[f"{name}_id"] = found[0] if found else None
        if slug and not found:
            unknown.add(name)
    return _Terms(**ids, year=filters.year, type=filters.type, unknown=frozenset(unknown))


def _conditions(terms: _Terms, piece: OuterRef, *, on_piece: bool = False) -> list[Q | Exists]:
    """One condition per active filter, each an ``EXISTS`` probe keyed on ``piece``.

    ``piece`` is the outer query's piece id column. Every probe is an equality on columns an
    index covers (``piece_id`` with ``topic_id``, ``region_id`` or ``author_id``; the
    piece's primary key) and joins no other table: no nested ``IN`` subqueries for the
    planner to turn into loops that rescan a table per row. On statistics that call every
    table empty PostgreSQL can still pick a poor order for the probes, a bounded cost
    (tests/catalogue/test_browse_statistics.py measures it); the bulk commands keep the
    statistics true (statistics.py) and a request's statements are time-limited
    (library/timeouts.py). ``on_piece`` says the outer query is the piece table itself,
    whose own columns then carry the year and type.
    """
    conditions: list[Q | Exists] = []
    if terms.topic_id is not None:
        conditions.append(
            Exists(Piece.topics.through.objects.filter(piece_id=piece, topic_id=terms.topic_id))
        )
    if terms.region_id is not None:
        conditions.append(
            Exists(Piece.regions.through.objects.filter(piece_id=piece, region_id=terms.region_id))
        )
    if terms.author_id is not None:
        conditions.append(
            Exists(
                Authorship.objects.filter(
                    piece_id=piece, author_id=terms.author_id, role=Role.AUTHOR
                )
            )
        )
    own = Q()
    if terms.year is not None:
        own &= Q(date__year=terms.year)
    if terms.type:
        own &= Q(type=terms.type)
    if own:
        conditions.append(own if on_piece else Exists(Piece.objects.filter(own, pk=piece)))
    return conditions


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


def year_of_date():
    """The year of ``date`` as an expression the database evaluates itself.

    On SQLite, Django's ExtractYear calls back into Python for every row (~130 ms at
    100,000 pieces); the stored ISO text's first four characters are the same year.
    """
    if connection.vendor == "sqlite":
        return Cast(Substr(Cast("date", CharField()), 1, 4), IntegerField())
    return ExtractYear("date")


def _facet_rows(
    name: str, terms: _Terms, *, limit: int | None = None, only: str = ""
) -> list[tuple[str, str, int]]:
    """(value, label, count) rows for one facet over the pieces matching ``terms``.

    Most common first, ties in label order. ``limit`` keeps the most common rows; ``only``
    counts just that value (the selected one, when it is not among the most common).
    """
    if name in _TAGGED:
        return _tag_rows(name, terms, limit=limit, only=only)
    rows: QuerySet[Piece, Mapping[str, Any]]
    order: tuple[str, ...]
    if name == "year":
        rows = Piece.objects.filter(date__isnull=False).annotate(y=year_of_date()).values("y")
        key, order = "y", ("-y",)
    elif name == "type":
        rows = Piece.objects.values("type")
        key, order = "type", ("-n", "type")
    else:
        raise ValueError(f"unknown facet {name!r}")
    rows = rows.filter(*_conditions(terms, OuterRef("pk"), on_piece=True)).annotate(n=Count("pk"))
    if only:
        rows = rows.filter(**{key: int(only) if name == "year" else only})
    rows = rows.order_by(*order)
    if limit is not None:
        rows = rows[:limit]
    counted: Iterable[Mapping[str, Any]] = rows  # each row: the facet's value (``key``) and n
    if name == "year":
        return [(str(r["y"]), str(r["y"]), r["n"]) for r in counted]
    labels = dict(PieceType.choices)
    return [(r["type"], labels.get(r["type"], r["type"]), r["n"]) for r in counted]


def _tag_rows(
    name: str, terms: _Terms, *, limit: int | None = None, only: str = ""
) -> list[tuple[str, str, int]]:
    """A topic, region or author facet: counted on the tag table, labelled by id afterwards.

    The count reads the tag table alone (with the filters' index probes), so no plan can
    join a vocabulary or author table into the loop over the tag rows; the labels of the
    few rows that can make the cut are then read by primary key.
    """
    model = _TAGGED[name]
    column = f"{name}_id"
    rows = _TAG_TABLES[name]().filter(*_conditions(terms, OuterRef("piece_id")))
    if only:
        rows = rows.filter(**{f"{column}__in": model.objects.filter(slug=only).values("pk")[:1]})
    counts = dict(rows.values_list(column).annotate(n=Count("piece_id")).order_by())
    return _labelled(name, counts, limit)


def _labelled(name: str, counts: dict, limit: int | None) -> list[tuple[str, str, int]]:
    """(slug, label, count) of the most common ``limit`` tag ids in ``counts``, ties by label."""
    model = _TAGGED[name]
    if limit is not None and len(counts) > limit:
        cut = sorted(counts.values(), reverse=True)[limit - 1]
        counts = {pk: n for pk, n in counts.items() if n >= cut}  # ties at the cut stay
    found = model.objects.only(*_LABEL_FIELDS[name]).in_bulk(list(counts))
    rows_shown = sorted(
        ((term, counts[pk]) for pk, term in found.items()),
        key=lambda row: (-row[1], *_label_order(row[0])),
    )[:limit]
    return [(term.slug, _label(term), n) for term, n in rows_shown]


_TAG_TABLES = {
    "topic": lambda: Piece.topics.through.objects.all(),
    "region": lambda: Piece.regions.through.objects.all(),
    # One row per (piece, author, role) is a constraint, so counting needs no DISTINCT.
    "author": lambda: Authorship.objects.filter(role=Role.AUTHOR),
}


_LABEL_FIELDS = {
    "topic": ("slug", "name"),
    "region": ("slug", "name"),
    "author": ("slug", "kind", "given", "particle", "family", "suffix"),
}


def _label(term: Topic | Region | Author) -> str:
    if isinstance(term, Author):
        return term.display_name
    return term.name


def _label_order(term: Topic | Region | Author) -> tuple[str, ...]:
    """Ties sort as the database sorted them before: authors by family then given name."""
    if isinstance(term, Author):
        return (term.family, term.given)
    return (term.name,)


FACET_TITLES = {
    "topic": "Topic",
    "region": "Region",
    "author": "Author",
    "year": "Year",
    "type": "Type",
}


# --- counting from the per-process arrays (facet_arrays.py) ---------------------------------


def _matching(data: FacetArrays, terms: _Terms) -> np.ndarray:
    """A mask over piece ids of the pieces matching every term."""
    mask = data.alive.copy()
    for name in _TAGGED:
        tag_id = getattr(terms, f"{name}_id")
        if tag_id is not None:
            mask &= data.tagged(name, tag_id)
    if terms.year is not None:
        mask &= data.year == terms.year
    if terms.type:
        mask &= data.type == data.type_code(terms.type)
    return mask


def _counted_rows(
    name: str, counts: dict, *, limit: int | None = None, only: str = ""
) -> list[tuple[str, str, int]]:
    """``_facet_rows`` from counts already made: the same rows, in the same order."""
    if name in _TAGGED:
        if only:
            found = list(_TAGGED[name].objects.filter(slug=only).values_list("pk", flat=True)[:1])
            counts = {found[0]: counts[found[0]]} if found and found[0] in counts else {}
        return _labelled(name, counts, limit)
    if name == "year":
        years = sorted(counts, reverse=True)
        if only:
            years = [y for y in years if str(y) == only]
        return [(str(y), str(y), counts[y]) for y in years[:limit]]
    labels = dict(PieceType.choices)
    kinds = sorted(counts, key=lambda kind: (-counts[kind], kind))
    if only:
        kinds = [kind for kind in kinds if kind == only]
    return [(kind, labels.get(kind, kind), counts[kind]) for kind in kinds[:limit]]


def count(filters: Filters) -> int:
    """How many pieces match ``filters``: from the arrays, or in SQL inside a transaction."""
    terms = _resolve(filters)
    if terms.unknown:
        return 0
    with facet_arrays.counting() as data:
        if data is not None:
            return int(_matching(data, terms).sum())
    return filters.apply(Piece.objects.all()).count()


def _facet_source(every: _Terms):
    """A function giving a facet's rows: from the arrays when this request may use them."""
    with facet_arrays.counting() as data:
        if data is None:
            return _facet_rows
        counted = {
            name: {}
            if every.without(name).unknown
            else data.tally(
                name,
                _matching(data, every.without(name)),
                keep=FACET_SIZE if name in _TAGGED else None,
                also=getattr(every, f"{name}_id") if name in _TAGGED else None,
            )
            for name in FILTER_NAMES
        }

    def rows(name: str, terms: _Terms, *, limit: int | None = None, only: str = ""):
        return _counted_rows(name, counted[name], limit=limit, only=only)

    return rows


def facets(filters: Filters) -> list[Facet]:
    """Every facet, each counted over the pieces matching the other active filters."""
    result = []
    every = _resolve(filters)
    facet_rows = _facet_source(every)
    for name in FILTER_NAMES:
        terms = every.without(name)
        shown = [] if terms.unknown else facet_rows(name, terms, limit=FACET_SIZE)
        current = str(getattr(filters, name) or "")
        if not terms.unknown and current and current not in {value for value, _, _ in shown}:
            shown += facet_rows(name, terms, only=current)
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
