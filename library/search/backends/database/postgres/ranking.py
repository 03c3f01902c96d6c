"""Ranking a PostgreSQL match: the page in order, the total and the facets in one statement.

The match ``m`` is a CTE over the narrow doc rows, computed once and kept unless it is a
text match alone (paying a recheck twice doubled a phrase's time). Ranking is in tiers, so
a common word never ranks every match: pieces whose title matches first, then (only when
the titles do not fill the page) those matching in people, tags or synopsis, both ranked
by ``ts_rank`` of ``head`` (the short fields weighted A > B > C; tier 2 among the newest
TIER2_CANDIDATES matches), then (only when those do not fill it either) the other matches,
ranked by ``ts_rank`` of the whole vector among the newest TIER3_CANDIDATES, the rest
newest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from library.catalogue.models import Authorship, Piece, Role
from library.search.backends.database.postgres.compiler import Compiled
from library.search.backends.database.postgres.schema import DOC_TABLE, TEXT_TABLE, TSQUERY
from library.search.backends.shared import catalogue_order_sql
from library.search.results import FacetCounts, Sort

TOPIC_TABLE = Piece.topics.through._meta.db_table
REGION_TABLE = Piece.regions.through._meta.db_table
AUTHORSHIP_TABLE = Authorship._meta.db_table
# Relevance tier 2 (people, tags, synopsis) ranks at most this many of the newest matches,
# and tier 3 (body only) as many of the newest of the rest.
TIER2_CANDIDATES = 1_000
TIER3_CANDIDATES = 250
# A search's working memory: the match of a word in every piece (100,000 rows) spilled to
# disk at the default 4 MB.
WORK_MEM = "32MB"

# Facet counts: (value, count) pairs by facet from SQL, or every matching id for the
# process's arrays (facets.py) to count.
Counts = FacetCounts | np.ndarray


@dataclass(frozen=True)
class Match:
    """One search as ranking needs it: the compiled query, its FROM/WHERE over the doc
    rows ``d`` with their parameters, the sort and the page."""

    compiled: Compiled
    base: str
    params: list
    sort: Sort
    offset: int
    limit: int
    # Whether facets are counted from the process's arrays (so the statement returns the
    # matching ids) rather than in SQL (a transaction that has written: facets.py).
    shared: bool

    @property
    def need(self) -> int:
        return self.offset + self.limit

    @property
    def relevance(self) -> bool:
        return self.sort is Sort.RELEVANCE and self.compiled.highlight is not None

    @property
    def dated(self) -> str:
        """ORDER BY for the match by date (undated last), newest first unless oldest."""
        direction = "ASC" if self.sort is Sort.OLDEST else "DESC"
        return f"m.date IS NULL, m.date {direction}, m.id"


@dataclass
class Ranked:
    """The page's (piece id, score) rows in order, the total and the facet counts."""

    rows: list[tuple[int, float]]
    total: int
    counts: Counts


@dataclass(frozen=True)
class _Sql:
    text: str
    params: list = field(default_factory=list)


_ORDER = "r DESC, date IS NULL, date DESC, id"


def rank(cursor, match: Match) -> Ranked:
    """Run the match, its page (in tiers for relevance) and its facets or ids at once."""
    if match.relevance:
        ctes, page = _tiers(match)
    elif match.sort.by_catalogue:
        ctes, page = _Sql(""), _by_catalogue(match)
    else:
        ctes, page = _Sql(""), _by_date(match)
    facets = _ids() if match.shared else _sql_facets()
    # Inlined only for a text match alone (writing 100,000 rows down took ~20 ms).
    # Kept when read several times (facets in SQL), costly to compute again (a
    # recheck), or joined to a filter: inlined there, the planner tested every
    # piece's vector instead of using the index (~720 ms at 100,000 pieces).
    inline = match.shared and not match.compiled.rechecks and not match.compiled.where
    keep = "NOT MATERIALIZED" if inline else "MATERIALIZED"
    cursor.execute(
        f"WITH m AS {keep} (SELECT d.piece_id AS id, d.date, d.type {match.base}){ctes.text} "
        f"SELECT 'hit:' || tier, id, n, r, NULL FROM ({page.text}) pages UNION ALL {facets.text}",
        [*match.params, *ctes.params, *page.params, *facets.params],
    )
    return _read(cursor.fetchall(), match)


def _by_date(match: Match) -> _Sql:
    """The page when ranking is by date (or there is no word to rank by)."""
    return _Sql(
        f"SELECT 1 AS tier, m.id, row_number() OVER (ORDER BY {match.dated}) AS n, "
        f"0.0::real AS r FROM m ORDER BY {match.dated} LIMIT %s",
        [match.need],
    )


def _by_catalogue(match: Match) -> _Sql:
    """The page in the browse page's order (title or author), in the same statement.

    library/catalogue/ordering.py's queryset over the ids in ``m``, compiled by the ORM;
    ``WITH ORDINALITY`` numbers its rows in the order the ordered subquery returns them.
    """
    sql, params = catalogue_order_sql(match.sort, "SELECT id FROM m", [], match.need)
    return _Sql(
        f"SELECT 1 AS tier, o.id, o.n, 0.0::real AS r "
        f"FROM unnest(ARRAY({sql})) WITH ORDINALITY AS o(id, n)",
        params,
    )


def _tiers(match: Match) -> tuple[_Sql, _Sql]:
    """The tier CTEs ``p1`` and ``p2`` and the page over the three tiers in order.

    Tiers 2 and 3 run only when the tiers above have fewer rows than the page needs
    (one-time filters: otherwise none of their rows is read).
    """
    first, second, third = _tier1(match), _tier2(match), _tier3(match)
    ctes = _Sql(
        f", p1 AS MATERIALIZED ({first.text}), p2 AS MATERIALIZED ({second.text})",
        [*first.params, *second.params],
    )
    page = _Sql(
        f"SELECT 1 AS tier, id, row_number() OVER (ORDER BY {_ORDER}) AS n, r FROM p1 "
        f"UNION ALL SELECT 2, id, row_number() OVER (ORDER BY {_ORDER}), r FROM p2 "
        f"UNION ALL SELECT 3, id, row_number() OVER (ORDER BY {_ORDER}), r "
        f"FROM ({third.text}) p3",
        third.params,
    )
    return ctes, page


def _tier1(match: Match) -> _Sql:
    """Titles: straight from the title index, ranked by ``head``.

    The match is re-tested on those rows only unless a title match implies it (a prefix
    in 3,000 titles: 3,000 whole vectors, ~50 ms); each row's head is read by its key,
    never by a scan.
    """
    compiled = match.compiled
    rank_sql = (
        f"(SELECT ts_rank(x.head, {TSQUERY}) FROM {TEXT_TABLE} x WHERE x.piece_id = d.piece_id)"
    )
    if compiled.title_implies_match:
        titled, base_params = f"FROM {DOC_TABLE} d WHERE d.title @@ {TSQUERY}", []
    else:
        titled, base_params = f"{match.base} AND d.title @@ {TSQUERY}", match.params
    return _Sql(
        f"SELECT d.piece_id AS id, d.date, {rank_sql} AS r {titled} ORDER BY {_ORDER} LIMIT %s",
        [compiled.highlight, *base_params, compiled.highlight, match.need],
    )


def _tier2(match: Match) -> _Sql:
    """People, tags and synopsis: the head index's rows in the match, not in tier 1.

    Among the newest TIER2_CANDIDATES matches at most: two common words in a phrase match
    half the catalogue's synopses, and ranking them all took ~260 ms at 100,000 pieces.
    """
    return _Sql(
        f"SELECT x.piece_id AS id, c.date, ts_rank(x.head, q.q) AS r "
        f"FROM (SELECT {TSQUERY} AS q) q, (SELECT m.id, m.date FROM m "
        f"ORDER BY {match.dated} LIMIT {TIER2_CANDIDATES}) c "
        f"JOIN {TEXT_TABLE} x ON x.piece_id = c.id "
        "WHERE (SELECT count(*) FROM p1) < %s AND x.head @@ q.q "
        f"AND x.piece_id NOT IN (SELECT id FROM p1) ORDER BY {_ORDER} LIMIT %s",
        [match.compiled.highlight, match.need, match.need],
    )


def _tier3(match: Match) -> _Sql:
    """The rest (body only): the newest TIER3_CANDIDATES ranked by ``ts_rank`` of ``vec``,
    then the others newest first.

    Ranked, so a piece a reader remembers by words of its body is not listed by date among
    the pieces that merely hold them (the known-item check, benchmarks/known_item.py);
    bounded, because each rank reads a whole body vector (~8 KB), and a phrase of common
    words sends tens of thousands of pieces here. Below the bound, which is where rare
    words land, every body match is ranked.
    """
    rest = (
        "FROM m WHERE (SELECT count(*) FROM p1) + (SELECT count(*) FROM p2) < %s "
        "AND m.id NOT IN (SELECT id FROM p1 UNION ALL SELECT id FROM p2) "
        f"ORDER BY {match.dated}"
    )
    return _Sql(
        f"(SELECT c.id, c.date, ts_rank(d.vec, {TSQUERY}) AS r "
        f"FROM (SELECT m.id, m.date {rest} LIMIT {TIER3_CANDIDATES}) c "
        f"JOIN {DOC_TABLE} d ON d.piece_id = c.id) "
        f"UNION ALL (SELECT m.id, m.date, -1.0::real {rest} OFFSET {TIER3_CANDIDATES} LIMIT %s)",
        [match.compiled.highlight, match.need, match.need, match.need],
    )


def _ids() -> _Sql:
    """The total and every matching id, as one ``array_send`` of the ids for numpy.

    ``array_agg`` then one ``array_send`` took ~10 ms less than ``string_agg`` of
    100,000 ``int8send`` values (a word in every piece, at a load of 9).
    """
    return _Sql(
        "SELECT 'ids', NULL, count(*), NULL, array_send(coalesce(array_agg(m.id), "
        "'{}'::bigint[])) FROM m"
    )


# array_send of a one-dimensional bigint[]: ndim, flags, element type, length, lower bound,
# then each element as its byte length (8) and its value.
_ARRAY_HEADER = 20
_ARRAY_ITEM = np.dtype([("length", ">i4"), ("value", ">i8")])


def _unpack_ids(blob: bytes) -> np.ndarray:
    """The ids of an ``array_send`` of a bigint[] (an empty array has no dimensions)."""
    if len(blob) <= _ARRAY_HEADER:
        return np.empty(0, dtype=np.int64)
    return np.frombuffer(blob, dtype=_ARRAY_ITEM, offset=_ARRAY_HEADER)["value"].astype(np.int64)


def _sql_facets() -> _Sql:
    """The total and each facet's counts, joined in SQL."""
    return _Sql(
        "SELECT 'total', NULL, count(*), NULL, NULL FROM m "
        f"UNION ALL SELECT 'topic', t.topic_id, count(*), NULL, NULL FROM {TOPIC_TABLE} t "
        "JOIN m ON m.id = t.piece_id GROUP BY t.topic_id "
        f"UNION ALL SELECT 'region', t.region_id, count(*), NULL, NULL "
        f"FROM {REGION_TABLE} t JOIN m ON m.id = t.piece_id GROUP BY t.region_id "
        f"UNION ALL SELECT 'author', a.author_id, count(*), NULL, NULL "
        f"FROM {AUTHORSHIP_TABLE} a JOIN m ON m.id = a.piece_id WHERE a.role = %s "
        "GROUP BY a.author_id "
        "UNION ALL SELECT 'year', extract(year FROM m.date)::bigint, count(*), NULL, "
        "NULL FROM m WHERE m.date IS NOT NULL GROUP BY 2 "
        "UNION ALL SELECT 'type:' || m.type, NULL, count(*), NULL, NULL FROM m "
        "GROUP BY m.type",
        [Role.AUTHOR.value],
    )


def _read(fetched: list[tuple], match: Match) -> Ranked:
    """The statement's rows: hits by tier and position, then the total and facets or ids."""
    tiers: list[tuple[str, int, int, float]] = []
    total = 0
    counts: FacetCounts = {}
    ids: np.ndarray | None = None
    for kind, value, count, score, blob in fetched:
        if kind.startswith("hit:"):
            tiers.append((kind, count, value, score))
        elif kind == "ids":
            total = count
            ids = _unpack_ids(bytes(blob or b""))
        elif kind == "total":
            total = count
        elif kind.startswith("type:"):
            counts.setdefault("type", []).append((kind[5:], count))
        else:
            counts.setdefault(kind, []).append((value, count))
    ordered = [(pk, score) for _, _, pk, score in sorted(tiers)]
    return Ranked(ordered[match.offset : match.need], total, counts if ids is None else ids)


@contextmanager
def index_scans(cursor) -> Iterator[None]:
    """Match through the GIN index even when most pieces match, and without JIT.

    The planner prices testing a piece's ``tsvector`` as nearly free, but each test reads
    the whole (large) vector: a sequential scan for a common word cost ~140 ms at 10,000
    pieces where the index's exact bitmap takes ~15 ms, and a topic filter at 100,000
    pieces was planned as a walk of the primary key testing every vector (~720 ms). With
    sequential and plain index scans off, rows are found through bitmaps (GIN, or keys).
    At 100,000 pieces the plans' estimated cost passed the JIT threshold, and compiling
    cost more than it saved. The settings are local to the transaction and restored after.
    """
    names = list(_SEARCH_SETTINGS)
    current = ", ".join(f"current_setting('{name}')" for name in names)
    changed = ", ".join(f"set_config('{name}', %s, true)" for name in names)
    cursor.execute(f"SELECT {current}, {changed}", list(_SEARCH_SETTINGS.values()))
    before = cursor.fetchone()[: len(names)]
    try:
        yield
    finally:
        cursor.execute(f"SELECT {changed}", list(before))


_SEARCH_SETTINGS = {
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    "jit": "off",
    "work_mem": WORK_MEM,
}
