"""Searching as the page and the ``search`` command see it: one function each, same answers.

This layer owns what every engine shares: parsing, the plain-words fallback when an engine
rejects a compiled query, pagination limits, "did you mean" and related pieces.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Protocol, cast

from django.conf import settings
from django.db import connection

from library.catalogue import facet_arrays
from library.catalogue.models import Authorship, Piece, Role
from library.search.backends import get_backend
from library.search.backends.base import (
    EngineUnavailable,
    IndexUnavailable,
    QueryRejected,
    SearchBackend,
)
from library.search.documents import display_name, document_of
from library.search.query import And, Node, Or, ParsedQuery, Term, parse_query, plain_words
from library.search.results import Hit, SearchResults, Sort
from library.search.text import tidy_snippet
from library.search.vocab import Vocabulary

log = logging.getLogger(__name__)

MAX_PAGE = 500  # deep pages cost the engine; nobody reads result 10,000 of a reading list
REBUILD_HINT = "The search index needs rebuilding: run python manage.py rebuild_index."


@dataclass
class SearchPage:
    """One page of results with everything the page template and the command print."""

    query: ParsedQuery
    sort: Sort
    page: int
    page_size: int
    total: int = 0
    entries: list[tuple[Piece, Hit]] = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    hints: list[str] = field(default_factory=list)
    suggestion: str = ""
    index_error: str = ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)


def search(
    text: str,
    *,
    sort: Sort | str = Sort.RELEVANCE,
    page: int | str = 1,
    page_size: int | None = None,
    backend: SearchBackend | None = None,
) -> SearchPage:
    """Search the catalogue for what a reader typed; never raises on any input."""
    backend = backend or get_backend()
    sort = Sort.parse(sort)
    size = max(1, page_size or settings.DOSSIER_PAGE_SIZE)
    number = _page_number(page)
    parsed = parse_query(text)
    result = SearchPage(parsed, sort, number, size, hints=list(parsed.hints))
    if parsed.root is None:
        if text.strip():
            result.hints.append("Nothing searchable was left in that query; try some words.")
        return result
    try:
        results = _run(backend, parsed, sort, number, size, result.hints)
        # The page's pieces and "did you mean" first: the engine may still be listing the
        # whole match beside this request (SQLite), and reading the total waits for it.
        pieces = _result_pieces([h.piece_id for h in results.hits])
        result.suggestion = did_you_mean(parsed, backend)
        if results.total and number > math.ceil(results.total / size):
            number = result.page = min(MAX_PAGE, math.ceil(results.total / size))
            results = _run(backend, parsed, sort, number, size, [])
            pieces = _result_pieces([h.piece_id for h in results.hits])
        result.total = results.total
        result.facets = results.facets
    except IndexUnavailable as exc:
        log.error("Search index unavailable (%s): %s", backend.name, exc)
        result.index_error = str(exc) if isinstance(exc, EngineUnavailable) else REBUILD_HINT
        result.suggestion = ""
        return result
    result.hints.extend(h for h in results.hints if h not in result.hints)
    result.entries = [
        (pieces[h.piece_id], replace(h, snippet=tidy_snippet(h.snippet)))
        for h in results.hits
        if h.piece_id in pieces
    ]
    return result


def _run(
    backend: SearchBackend, parsed: ParsedQuery, sort: Sort, page: int, size: int, hints: list
) -> SearchResults:
    offset = (page - 1) * size
    try:
        return backend.search(parsed, sort=sort, offset=offset, limit=size)
    except QueryRejected:
        # The engine rejected the compiled query; the reader still gets the plain words.
        log.warning("Search for %r failed; retrying as plain words", parsed.text, exc_info=True)
    plain = plain_words(parsed.text)
    if plain.root is None:
        hints.append("That query could not be run and has no plain words to fall back on.")
        return SearchResults(hits=[], total=0)
    hints.append(f"That query could not be run as written; showing results for: {plain.text}")
    try:
        return backend.search(plain, sort=sort, offset=offset, limit=size)
    except QueryRejected:
        log.exception("Plain-words search for %r failed too", plain.text)
        hints.append("The plain words could not be searched either.")
        return SearchResults(hits=[], total=0)


_RESULT_FIELDS = (
    "type",
    "title",
    "subtitle",
    "citation_key",
    "date",
    "date_precision",
    "synopsis",
)
_BYLINE_FIELDS = ("kind", "given", "particle", "family", "suffix")


def _result_pieces(ids: list[int]) -> dict[int, Piece]:
    """What a result line shows: title, byline, date, type, synopsis; never the body.

    Two flat queries instead of the ORM's prefetch graph, which cost more than the search
    itself; the byline is attached as ``piece.byline`` (display names in order).
    """
    if not ids:
        return {}
    pieces = Piece.objects.only(*_RESULT_FIELDS).in_bulk(ids)
    names: dict[int, list[str]] = {pk: [] for pk in pieces}
    # By piece id alone, the role tested here: with ``role`` in the WHERE clause SQLite
    # (no ANALYZE statistics) chose the (role, author, piece) index and read every author
    # row of the catalogue, ~30 ms of each search at 100,000 pieces.
    bylines = (
        Authorship.objects.filter(piece_id__in=ids)
        .order_by("piece_id", "position")
        .values_list("piece_id", "role", *(f"author__{name}" for name in _BYLINE_FIELDS))
    )
    for piece_id, role, *name in bylines:
        if role == Role.AUTHOR:
            names[piece_id].append(display_name(*name))
    for pk, piece in pieces.items():
        set_byline(piece, names[pk])
    return pieces


class _Bylined(Protocol):
    byline: list[str]


def set_byline(piece: Piece, names: list[str]) -> None:
    """Attach ``names`` (the authors' display names, in order) as ``piece.byline``, which a
    result line reads (the page's template, the API). No model field: the cast is how the
    type checker learns of it."""
    cast(_Bylined, piece).byline = names


def _page_number(page: int | str) -> int:
    try:
        number = int(page)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


# --- did you mean ---------------------------------------------------------------------------


def did_you_mean(parsed: ParsedQuery, backend: SearchBackend) -> str:
    """The query with misspelt words replaced by catalogue words, or "" when none are."""
    replacements: dict[str, str] = {}
    synonyms = None
    for word in _plain_terms(parsed.root):
        try:
            candidate = backend.suggest(word)
            if not candidate:
                continue
            synonyms = synonyms or Vocabulary.load()
            if synonyms.synonyms(word):
                continue  # ISIL is an alias of Islamic State, not a misspelling of ISIS
            found = backend.document_count(word)
            # Stemming may already find the right pieces ("insurgancy" stems like
            # "insurgency"); the suggestion still shows the reader the real word.
            if found == 0 or backend.document_count(candidate) >= found:
                replacements[word] = candidate
        except (IndexUnavailable, NotImplementedError):
            return ""
    if not replacements or parsed.root is None:  # an empty query has no words to replace
        return ""
    return str(_replace_terms(parsed.root, replacements))


def _plain_terms(node: Node | None) -> list[str]:
    if isinstance(node, Term):
        return [node.text] if node.field in (None, "title") and not node.prefix else []
    if isinstance(node, And | Or):
        return [word for child in node.children for word in _plain_terms(child)]
    return []  # negated words and phrases are kept as typed


def _replace_terms(node: Node, mapping: dict[str, str]) -> Node:
    if isinstance(node, Term) and node.text in mapping:
        return replace(node, text=mapping[node.text])
    if isinstance(node, And | Or):
        return replace(node, children=tuple(_replace_terms(c, mapping) for c in node.children))
    return node  # negated words, phrases and filters are kept as typed


# --- related pieces -------------------------------------------------------------------------


_TOPIC_TABLE = Piece.topics.through._meta.db_table
_REGION_TABLE = Piece.regions.through._meta.db_table


def shared_tags(
    piece_id: int, topic_ids: list[int], region_ids: list[int], limit: int = 30
) -> list[tuple[int, int, int]]:
    """(piece id, topics shared, regions shared) for the pieces sharing the most tags.

    From the catalogue's per-process facet arrays (a few ms at 100,000 pieces, where the
    SQL below took ~100 ms); in SQL inside a transaction, where those may not be used.
    """
    with facet_arrays.counting() as data:
        if data is not None:
            return data.shared(piece_id, topic_ids, region_ids, limit)
    return shared_tags_sql(piece_id, topic_ids, region_ids, limit)


def shared_tags_sql(
    piece_id: int, topic_ids: list[int], region_ids: list[int], limit: int = 30
) -> list[tuple[int, int, int]]:
    """``shared_tags`` counted in SQL.

    Most shared topics first, then regions, then newest. Counted on the tag tables (read
    from their term-first indexes) and joined to the pieces once per candidate: joining
    pieces to both tag tables multiplied each piece's topics by its regions, which cost
    ~20 ms a piece page at 10,000 pieces and grew with the catalogue.
    """
    parts, params = [], []
    for table, column, ids, shared in (
        (_TOPIC_TABLE, "topic_id", topic_ids, "1 AS st, 0 AS sr"),
        (_REGION_TABLE, "region_id", region_ids, "0 AS st, 1 AS sr"),
    ):
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            parts.append(f"SELECT piece_id, {shared} FROM {table} WHERE {column} IN ({marks})")
            params.extend(ids)
    if not parts:
        return []
    sql = (
        f"SELECT t.piece_id, SUM(t.st) AS st, SUM(t.sr) AS sr "
        f"FROM ({' UNION ALL '.join(parts)}) t WHERE t.piece_id <> %s GROUP BY t.piece_id"
    )
    sql = (
        f"SELECT s.piece_id, s.st, s.sr FROM ({sql}) s "
        f"JOIN {Piece._meta.db_table} p ON p.id = s.piece_id "
        "ORDER BY s.st DESC, s.sr DESC, p.date IS NULL, p.date DESC, p.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, piece_id, limit])
        return [(pk, int(st), int(sr)) for pk, st, sr in cursor.fetchall()]


def related_ids(piece: Piece, limit: int = 5, backend: SearchBackend | None = None) -> list[int]:
    """Ids of the pieces most like ``piece`` (similar title, tags and synopsis text, shared
    tags), best first, without loading the pieces.

    The piece page caches ids and loads the pieces it shows itself: loading them here too
    cost four more queries a first view (~10 ms on PostgreSQL at 100,000 pieces). The
    piece's document is made from ``piece`` as loaded (``document_of``), so pass one loaded
    with ``with_related()`` (anything else reads its byline and tags here).
    """
    backend = backend or get_backend()
    try:
        hits = backend.related(document_of(piece), limit=30)
    except (IndexUnavailable, QueryRejected):
        # A piece page must render even when the index is broken; the search page says why.
        log.warning("Related pieces unavailable for %s", piece.pk, exc_info=True)
        hits = []
    best = max((h.score for h in hits), default=0.0) or 1.0
    scores = {h.piece_id: h.score / best for h in hits}
    topic_ids = [t.pk for t in piece.topics.all()]
    region_ids = [r.pk for r in piece.regions.all()]
    for pk, st, sr in shared_tags(piece.pk, topic_ids, region_ids):
        bonus = 0.6 * st / max(1, len(topic_ids)) + 0.3 * sr / max(1, len(region_ids))
        scores[pk] = scores.get(pk, 0.0) + bonus
    return sorted(scores, key=lambda pk: -scores[pk])[:limit]
