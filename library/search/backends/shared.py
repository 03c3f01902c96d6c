"""Pieces of engine logic that do not depend on the engine: facet labels, spelling, related."""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterable
from operator import itemgetter

from django.db import connection
from django.db.models.expressions import RawSQL

from library.catalogue.models import Author, Piece, PieceType
from library.catalogue.ordering import sorted_pieces
from library.search.documents import PieceDocument, display_name
from library.search.results import FacetCounts, FacetValue, Sort
from library.search.text import (
    STOPWORDS,
    WORD,
    clean_for_index,
    fold,
    restore_original,
)
from library.search.vocab import Vocabulary

FACET_LIMIT = 12


def short_words(title: str, authors: str, tags: str, synopsis: str) -> set[str]:
    """The distinct folded words of a piece's short fields: what "did you mean" counts."""
    return set(WORD.findall(fold("\n".join((title, authors, tags, synopsis)))))


# --- the browse page's orders -----------------------------------------------------------------


def catalogue_order_sql(sort: Sort, ids_sql: str, ids_params: list, limit: int) -> tuple[str, list]:
    """SQL for the first ``limit`` of the ids ``ids_sql`` selects, in the browse page's order.

    The order is library/catalogue/ordering.py's own queryset compiled by the ORM, not a
    second definition: a reader sorting by title or author sees the same order on the
    search page as on /pieces/, on every engine and database. The index only says which
    pieces match; the catalogue's rows decide the order (measured in library/search/README.md).
    """
    if not sort.by_catalogue:
        raise ValueError(f"{sort} is the index's order, not the catalogue's")
    matched = Piece.objects.filter(pk__in=RawSQL(ids_sql, ids_params))
    page = sorted_pieces(matched, sort.value).values_list("pk", flat=True)[:limit]
    sql, params = page.query.sql_with_params()
    return sql, list(params)


def catalogue_order(sort: Sort, ids: Iterable[int], limit: int) -> list[int]:
    """The first ``limit`` of ``ids`` (every matching piece) in the browse page's order.

    The ids travel as one parameter (a JSON array on SQLite, an array on PostgreSQL): an
    ``IN`` list with a parameter per match would pass SQLite's limit on bound variables
    (32,766) once a word matches that many pieces.
    """
    wanted = [int(pk) for pk in ids]
    if not wanted or limit <= 0:
        return []
    ids_params: list[object]
    if connection.vendor == "sqlite":
        ids_sql, ids_params = "SELECT value FROM json_each(%s)", [json.dumps(wanted)]
    elif connection.vendor == "postgresql":
        ids_sql, ids_params = "SELECT unnest(%s::bigint[])", [wanted]
    else:
        matched = Piece.objects.filter(pk__in=wanted)
        page = sorted_pieces(matched, sort.value).values_list("pk", flat=True)[:limit]
        return list(page)
    sql, params = catalogue_order_sql(sort, ids_sql, ids_params, limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def build_facets(counts: FacetCounts, vocabulary: Vocabulary) -> dict:
    """Labelled facet values, biggest first (years newest first), at most FACET_LIMIT each."""
    facets: dict[str, list[FacetValue]] = {}
    for kind in ("topic", "region"):
        values = _top(counts.get(kind, []), FACET_LIMIT)
        facets[kind] = [FacetValue(*vocabulary.label(kind, int(pk)), count=n) for pk, n in values]
        facets[kind] = [FacetValue(f.key, f.label, f.count) for f in facets[kind]]
    top_authors = [(int(pk), n) for pk, n in _top(counts.get("author", []), FACET_LIMIT * 2)]
    names = author_names([pk for pk, _ in top_authors])
    authors = [FacetValue(f'"{names[pk]}"', names[pk], n) for pk, n in top_authors if pk in names]
    facets["author"] = sorted(authors, key=lambda f: (-f.count, f.label))[:FACET_LIMIT]
    years = sorted(counts.get("year", []), key=lambda vn: -int(vn[0] or 0))
    facets["year"] = [FacetValue(str(y), str(y), n) for y, n in years if y]
    labels = dict(PieceType.choices)
    types = sorted(((str(t), n) for t, n in counts.get("type", [])), key=lambda vn: -vn[1])
    facets["type"] = [FacetValue(t, str(labels.get(t, t)), n) for t, n in types]
    return facets


def closest(key: str, rows: list[tuple[str, int]]) -> str:
    """The vocabulary word nearest to ``key`` (ties go to the commoner word)."""
    from rapidfuzz.distance import DamerauLevenshtein

    limit = 1 if len(key) <= 5 else 2
    best: tuple[int, int, str] | None = None
    for term, docs in rows:
        distance = DamerauLevenshtein.distance(key, term, score_cutoff=limit)
        if distance <= limit and (best is None or (distance, -docs) < best[:2]):
            best = (distance, -docs, term)
    return best[2] if best else ""


def related_words(document: PieceDocument, max_words: int = 24) -> list[str]:
    """The piece's distinctive title, tag and synopsis words, folded, in order, once each."""
    words: dict[str, None] = {}
    for text in (document.title, document.tags, document.synopsis):
        for raw in text.replace("\n", " ").split():
            word = "".join(ch for ch in raw if ch.isalnum())
            if len(word) > 2 and fold(word) not in STOPWORDS and not word.isdigit():
                words[fold(word)] = None
    return list(words)[:max_words]


RELATED_WORDS = 12
#: How many pieces the chosen words may hold between them (beyond the first word).
RELATED_CANDIDATES = 2_000


def rarest(words: list[str], docs: dict[str, int]) -> list[str]:
    """Up to RELATED_WORDS of ``words``, rarest first, among those other pieces also use.

    Words in one piece or none (only this piece, or not indexed yet) come last; ``docs``
    holds the engine's word counts. A word in half the catalogue says little about what is
    related, and ranking every piece that holds one cost tens of ms a piece page; so words
    stop once together they are in RELATED_CANDIDATES pieces (at 100,000 pieces a piece's
    twelve rarest words reached ~15,000 and PostgreSQL's ranking took 43 ms). A small
    catalogue never reaches the bound.
    """

    def key(word: str) -> tuple[bool, float, str]:
        found = docs.get(word)
        return (found is None or found <= 1, found if found is not None else math.inf, word)

    chosen: list[str] = []
    candidates = 0
    for word in sorted(words, key=key)[:RELATED_WORDS]:
        candidates += docs.get(word) or 0
        if chosen and candidates > RELATED_CANDIDATES:
            break
        chosen.append(word)
    return chosen


def restore_snippets(snippets: dict[int, str]) -> dict[int, str]:
    """Put stroke letters (Đ, Ø, Ł…) back where folding replaced them for the index."""
    if not snippets:
        return snippets
    originals = Piece.objects.filter(pk__in=list(snippets)).values_list(
        "pk", "title", "subtitle", "synopsis", "body"
    )
    for pk, title, subtitle, synopsis, body in originals:
        full_title = Piece(title=title, subtitle=subtitle).full_title
        source = "\n".join((full_title, synopsis, body))
        folded = clean_for_index(source)
        if folded != source:
            snippets[pk] = restore_original(snippets[pk], folded, source)
    return snippets


def _top(values: list[tuple[int | str, int]], n: int) -> list[tuple[int | str, int]]:
    """The ``n`` biggest counts (a query can touch thousands of authors), ties by value."""
    return sorted(heapq.nlargest(n, values, key=itemgetter(1)), key=lambda vn: (-vn[1], str(vn[0])))


def author_names(ids: list[int]) -> dict[int, str]:
    """Display names by author id, from one flat query (labels for the author facet)."""
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, kind, given, particle, family, suffix "
            f"FROM {Author._meta.db_table} WHERE id IN ({marks})",
            ids,
        )
        return {pk: display_name(*name) for pk, *name in cursor.fetchall()}
