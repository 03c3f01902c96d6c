"""Every piece's type, year, topics, regions and authors as per-process numpy arrays.

Browse facets, browse totals and the home page's tallies are counts over these: a mask per
active filter and a ``bincount`` per facet, a few milliseconds at 100,000 pieces, where the
SQL counts cost 0.3-2.6 s on SQLite at 100,000 the first time after each write (any write
invalidated every cached count). The arrays stay exact across writes: triggers (migration
0010) log, in the writer's transaction, each piece whose values change, and a reader
re-reads just those pieces before it counts.

Exactness: bringing the arrays up to date is **one SQL statement** (the log's new rows,
the changed pieces' values and the epoch token), so what it reads is one snapshot of
committed data on both databases; the full load is one statement too. Which log rows are
new is decided as each database's commit order allows (see the migration): ids above the
last one applied on SQLite, rows not visible in the last snapshot on PostgreSQL.

Only a request outside any transaction uses (and updates) the shared arrays: a
transaction may have written rows no one else can see. :func:`arrays` returns ``None``
then and the callers count in SQL, which stays the reference the tests compare with.

The log is pruned of rows older than :data:`PRUNE_SECONDS` (:func:`prune_log`) by the
request that reloads (every :data:`MAX_AGE_SECONDS`), the worker's ``maintain_index`` and
``manage.py cleanup``, so a process never needs a pruned row, unless a writing transaction
stays open longer than the difference of the two (45 minutes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from library.catalogue import generation
from library.catalogue.models import Authorship, CatalogueEpoch, Piece, Role

LOG_TABLE = "catalogue_piece_change"
#: Opens the statements that load or update the arrays (so tests can tell them apart).
SQL_MARK = "/* facet arrays */"
NO_DATE = np.iinfo(np.int32).min
# Unix seconds on SQLite, without strftime('%s'): Django reads a bare %s as a placeholder.
SQLITE_NOW = "CAST((julianday('now') - 2440587.5) * 86400 AS integer)"
MAX_AGE_SECONDS = 15 * 60
PRUNE_SECONDS = 60 * 60
TAGS = ("topic", "region", "author")
_TAG_SQL = {
    "topic": (3, Piece.topics.through._meta.db_table, "topic_id", ""),
    "region": (4, Piece.regions.through._meta.db_table, "region_id", ""),
    "author": (5, Authorship._meta.db_table, "author_id", f" AND role = '{Role.AUTHOR.value}'"),
}
# UNION ALL branches resolve their column types pairwise on PostgreSQL: no bare NULLs.
_NULL_ID = "CAST(NULL AS bigint)"
_NULL_TEXT = "CAST(NULL AS text)"
_lock = threading.Lock()
_Pieces = list[tuple[str, np.ndarray]]  # (type, (piece id, day) pairs) per type
_loaded: dict[str, FacetArrays] = {}


@dataclass
class FacetArrays:
    """Facet values of every piece, indexed by piece id (dense: ids are small integers).

    ``day`` is the date as days since 1970 (:data:`NO_DATE` for an undated piece) and
    ``year`` its year (0 undated); ``type`` is -1 where no piece is; each tag facet is a
    pair of arrays, the owning piece's id and the tag's id, one entry per tag row.
    """

    token: str
    mark: str  # SQLite: the last log id applied; PostgreSQL: the snapshot read at
    loaded: float
    alive: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=bool))
    year: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int32))
    day: np.ndarray = field(default_factory=lambda: np.full(1, NO_DATE, dtype=np.int32))
    type: np.ndarray = field(default_factory=lambda: np.full(1, -1, dtype=np.int16))
    types: list[str] = field(default_factory=list)
    tags: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    # --- counting ---------------------------------------------------------------------

    def tagged(self, name: str, tag_id: int) -> np.ndarray:
        """A mask of the pieces carrying ``tag_id`` in facet ``name``."""
        owner, code = self.tags[name]
        mask = np.zeros(len(self.alive), dtype=bool)
        mask[owner[code == tag_id]] = True
        return mask

    def type_code(self, value: str) -> int:
        return self.types.index(value) if value in self.types else -2  # -2: no piece

    def tally(
        self, name: str, mask: np.ndarray, keep: int | None = None, also: int | None = None
    ) -> dict[object, int]:
        """{value: pieces} for facet ``name`` over the pieces in ``mask`` (none zero).

        ``keep``: only the values with at least the ``keep``-th largest count (ties at the
        cut stay), and ``also`` if it counts any: an author facet has tens of thousands of
        values, and a page shows a dozen.
        """
        if name in TAGS:
            owner, code = self.tags[name]
            counts = np.bincount(code[mask[owner]])
        elif name == "year":
            counts = np.bincount(self.year[mask & (self.year > 0)])
        else:
            found = np.bincount(self.type[mask & (self.type >= 0)], minlength=len(self.types))
            return {self.types[n]: int(c) for n, c in enumerate(found) if c}
        values = np.nonzero(counts)[0]
        if keep is not None and len(values) > keep:
            cut = np.partition(counts[values], len(values) - keep)[len(values) - keep]
            chosen = values[counts[values] >= cut]
            if also is not None and 0 <= also < len(counts) and counts[also]:
                chosen = np.union1d(chosen, [also])
            values = chosen
        return dict(zip(values.tolist(), counts[values].tolist(), strict=True))

    def shared(
        self, piece_id: int, topic_ids: list[int], region_ids: list[int], limit: int
    ) -> list[tuple[int, int, int]]:
        """(piece id, topics shared, regions shared) of the ``limit`` pieces sharing most.

        The order of ``search.service.shared_tags``' SQL: most topics, then regions, then
        dated before undated, newest first, then by id.
        """
        size = len(self.alive)
        counts = []
        for name, wanted in (("topic", topic_ids), ("region", region_ids)):
            owner, code = self.tags[name]
            counts.append(np.bincount(owner[_among(code, wanted)], minlength=size))
        topics, regions = counts
        found = np.nonzero((topics + regions > 0) & self.alive)[0]
        found = found[found != piece_id]
        if len(found) > limit:
            # Only the pieces tied with or above the limit-th by (topics, regions) can be
            # listed: sorting just those by date and id gives the same rows (a lexsort of
            # every piece sharing a tag took ~8 ms at 100,000 pieces).
            score = topics[found] * (len(region_ids) + 1) + regions[found]
            kth = np.partition(score, len(score) - limit)[len(score) - limit]
            found = found[score >= kth]
        day = self.day[found].astype(np.int64)
        order = np.lexsort((found, -day, day == NO_DATE, -regions[found], -topics[found]))
        best = found[order[:limit]]
        return [(int(pk), int(topics[pk]), int(regions[pk])) for pk in best]

    # --- keeping up to date -----------------------------------------------------------

    def apply(self, pieces: _Pieces, tags: dict[str, np.ndarray], changed: list[int]) -> None:
        """Replace the values of the ``changed`` piece ids with the rows read for them."""
        ids = np.fromiter(changed, dtype=np.int64)
        self._grow(int(ids.max()) + 1 if len(ids) else 1)
        self.alive[ids] = False
        self.year[ids] = 0
        self.day[ids] = NO_DATE
        self.type[ids] = -1
        self._set_pieces(pieces)
        gone = np.zeros(len(self.alive), dtype=bool)  # a look-up table: np.isin sorted
        gone[ids] = True  # every tag row, ~1.4 ms a table at 100,000 pieces
        for name in TAGS:
            owner, code = self.tags[name]
            keep = ~gone[owner]
            fresh = tags[name]
            self.tags[name] = (
                np.concatenate([owner[keep], fresh[:, 0]]),
                np.concatenate([code[keep], fresh[:, 1]]),
            )

    def _grow(self, size: int) -> None:
        if size <= len(self.alive):
            return
        size = max(size, len(self.alive) * 5 // 4)
        extra = size - len(self.alive)
        self.alive = np.concatenate([self.alive, np.zeros(extra, dtype=bool)])
        self.year = np.concatenate([self.year, np.zeros(extra, dtype=np.int32)])
        self.day = np.concatenate([self.day, np.full(extra, NO_DATE, dtype=np.int32)])
        self.type = np.concatenate([self.type, np.full(extra, -1, dtype=np.int16)])

    def _set_pieces(self, pieces: _Pieces) -> None:
        """Set the pieces read: (type, array of (id, day) pairs) per type."""
        for value, pairs in pieces:
            if not len(pairs):
                continue
            if value not in self.types:
                self.types.append(value)
            ids, day = pairs[:, 0], pairs[:, 1].astype(np.int32)
            self._grow(int(ids.max()) + 1)
            self.alive[ids] = True
            self.day[ids] = day
            self.year[ids] = np.where(day == NO_DATE, 0, _years(day))
            self.type[ids] = self.types.index(value)


def arrays(using: str = DEFAULT_DB_ALIAS) -> FacetArrays | None:
    """This process's arrays, brought up to date with every commit; ``None`` in a transaction.

    Call it with the lock held by :func:`counting` (the arrays change in place).
    """
    connection = connections[using]
    if connection.in_atomic_block or not connection.get_autocommit():
        return None
    current = _loaded.get(using)
    if current is None or time.monotonic() - current.loaded > MAX_AGE_SECONDS:
        current = _loaded[using] = _load(using)
        return current
    if not _refresh(current, using):
        current = _loaded[using] = _load(using)
    return current


@contextmanager
def counting(using: str = DEFAULT_DB_ALIAS) -> Iterator[FacetArrays | None]:
    """``with counting() as data:`` the up-to-date arrays (or ``None``), held for this thread."""
    with _lock:
        yield arrays(using)


def reset() -> None:
    """Forget every process's loaded arrays (tests swap databases under one process)."""
    with _lock:
        _loaded.clear()


# --- reading ------------------------------------------------------------------------------


def _postgres(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def _day_sql(using: str) -> str:
    """The piece's date as days since 1970-01-01 (NULL when undated)."""
    if _postgres(using):
        return "(date - DATE '1970-01-01')::bigint"
    return "CAST(julianday(date) - 2440587.5 AS integer)"


def _years(days: np.ndarray) -> np.ndarray:
    """The calendar year of each day number (the sentinel's result is discarded)."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int32) + 1970


def _values_sql(using: str, where_piece: str, where_tag: str) -> str:
    """Rows (kind, NULL, NULL, text) of the pieces' and their tag rows' values.

    Each row's text is every (piece, value) pair of a table (of one type, for pieces) as
    ``"id,value,id,value…"``: at 100,000 pieces, ~900,000 rows fetched one by one into
    Python cost ~1 s of CPU; one text per table is built by the database and parsed by
    numpy (``np.fromstring``) in C.
    """
    aggregate = "string_agg({}, ',')" if _postgres(using) else "group_concat({}, ',')"

    def pairs(first: str, second: str) -> str:
        return aggregate.format(f"CAST({first} AS text) || ',' || CAST({second} AS text)")

    piece = Piece._meta.db_table
    day = f"coalesce({_day_sql(using)}, {NO_DATE})"
    parts = [
        f"SELECT 2, {_NULL_ID}, {_NULL_ID}, CAST(type AS text) || ':' || {pairs('id', day)} "
        f"FROM {piece}{where_piece} GROUP BY type"
    ]
    for kind, table, column, extra in _TAG_SQL.values():
        # Changed pieces are found by piece id: "role || ''" keeps SQLite from choosing the
        # (role, author, piece) index instead, which read every byline (~25 ms at 100,000).
        refresh = extra.replace("role =", "role || '' =")
        where = f"{where_tag}{refresh}" if where_tag else (f" WHERE {extra[5:]}" if extra else "")
        found = pairs("piece_id", column)
        parts.append(f"SELECT {kind}, {_NULL_ID}, {_NULL_ID}, {found} FROM {table}{where}")
    return " UNION ALL ".join(parts)


def parse_numbers(text: str | None) -> np.ndarray:
    """``"1,2,3"`` (a ``group_concat``/``string_agg`` of ids) as an integer array, parsed
    in C; empty for no rows (the aggregate's NULL)."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def _parse(text: str | None) -> np.ndarray:
    """``"a,b,c,d"`` as the pairs [[a, b], [c, d]]."""
    return parse_numbers(text).reshape(-1, 2)


def _token_sql() -> str:
    epoch = CatalogueEpoch._meta.db_table
    return f"SELECT 1, {_NULL_ID}, {_NULL_ID}, CAST(token AS text) FROM {epoch} WHERE id = 1"


def _split(rows) -> tuple[dict[int, list], _Pieces, dict[str, np.ndarray]]:
    """Rows of :func:`_values_sql` and the markers, by kind."""
    markers: dict[int, list] = {0: [], 1: [], 6: []}
    pieces: _Pieces = []
    tags = {name: _parse(None) for name in TAGS}
    by_kind = {_TAG_SQL[name][0]: name for name in TAGS}
    for kind, pk, value, text in rows:
        if kind == 2:
            piece_type, _, found = text.partition(":")
            pieces.append((piece_type, _parse(found)))
        elif kind in by_kind:
            tags[by_kind[kind]] = _parse(text)
        else:
            markers[kind].append((pk, value, text))
    return markers, pieces, tags


def _load(using: str) -> FacetArrays:
    """Read every piece's values, the log's position and the token in one statement."""
    token = _token(using)
    prune_log(using)
    if _postgres(using):
        mark = f"SELECT 0, {_NULL_ID}, {_NULL_ID}, pg_current_snapshot()::text"
    else:
        mark = f"SELECT 0, {_NULL_ID}, (SELECT coalesce(max(id), 0) FROM {LOG_TABLE}), {_NULL_TEXT}"
    sql = f"{SQL_MARK} {mark} UNION ALL {_token_sql()} UNION ALL {_values_sql(using, '', '')}"
    with connections[using].cursor() as cursor:
        cursor.execute(sql)
        markers, pieces, tags = _split(cursor.fetchall())
    found = FacetArrays(token=token, mark=_mark(markers, using, ""), loaded=time.monotonic())
    read_token = markers[1][0][2] if markers[1] else None
    if read_token != token:
        found.token = ""  # changed under us: the next request loads again
    found._set_pieces(pieces)
    for name in TAGS:
        pairs = tags[name]
        found._grow(int(pairs[:, 0].max()) + 1 if len(pairs) else 1)
        found.tags[name] = (pairs[:, 0].copy(), pairs[:, 1].copy())
    return found


def _refresh(current: FacetArrays, using: str) -> bool:
    """Apply the pieces logged since ``current.mark``; ``False``: load afresh instead."""
    if _postgres(using):
        changed = (
            f"SELECT DISTINCT piece_id FROM {LOG_TABLE} "
            "WHERE xid >= pg_snapshot_xmin(%s::pg_snapshot) "
            "AND NOT pg_visible_in_snapshot(xid, %s::pg_snapshot)"
        )
        params = [current.mark, current.mark]
        mark = f"SELECT 0, {_NULL_ID}, {_NULL_ID}, pg_current_snapshot()::text"
    else:
        changed = f"SELECT DISTINCT piece_id FROM {LOG_TABLE} WHERE id > %s"
        params = [int(current.mark)]
        mark = f"SELECT 0, {_NULL_ID}, (SELECT max(id) FROM {LOG_TABLE}), {_NULL_TEXT}"
    within = "IN (SELECT piece_id FROM c)"
    values = _values_sql(using, f" WHERE id {within}", f" WHERE piece_id {within}")
    sql = (
        f"{SQL_MARK} WITH c AS ({changed}) {mark} UNION ALL {_token_sql()} "
        f"UNION ALL SELECT 6, piece_id, {_NULL_ID}, {_NULL_TEXT} FROM c UNION ALL {values}"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        markers, pieces, tags = _split(cursor.fetchall())
    read_token = markers[1][0][2] if markers[1] else None
    changed_ids = [pk for pk, _, _ in markers[6]]
    if read_token != current.token or not current.token or 0 in changed_ids:
        return False  # a flushed or pruned database, or a TRUNCATE (piece 0)
    if changed_ids:
        current.apply(pieces, tags, changed_ids)
    current.mark = _mark(markers, using, current.mark)
    return True


def _mark(markers: dict[int, list], using: str, before: str) -> str:
    _, value, text = markers[0][0]
    if _postgres(using):
        return str(text)
    return str(value) if value is not None else (before or "0")


def _token(using: str) -> str:
    """The epoch token (made if missing: a flushed database), read outside the big statement."""
    token = CatalogueEpoch.objects.using(using).filter(pk=1).values_list("token", flat=True).first()
    if token is None:
        generation.new_epoch(using)
        token = CatalogueEpoch.objects.using(using).values_list("token", flat=True).get(pk=1)
    return token


def prune_log(using: str = DEFAULT_DB_ALIAS) -> int:
    """Delete log rows no process can still need (see the module's docstring); how many.

    Called by the request that reloads these arrays, by the worker's ``maintain_index`` and
    by ``manage.py cleanup``, so the log stays bounded even where no page reloads them.
    The search engine's SQLite facet arrays need no row either: they load whole when rows
    above their mark are gone.
    """
    if _postgres(using):
        where = f"at < clock_timestamp() - interval '{PRUNE_SECONDS} seconds'"
    else:
        where = f"at < {SQLITE_NOW} - {PRUNE_SECONDS}"
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {LOG_TABLE} WHERE {where} LIMIT 1")
        if cursor.fetchone() is None:
            return 0  # nothing to prune: no write, so no wait for SQLite's write lock
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"DELETE FROM {LOG_TABLE} WHERE {where}")
        return max(cursor.rowcount, 0)


def _among(code: np.ndarray, wanted: list[int]) -> np.ndarray:
    """``np.isin(code, wanted)`` for a few small non-negative ids, by table look-up
    (``isin`` sorts the codes: ~2 ms at 100,000 pieces for a piece's tags)."""
    if not wanted or not len(code):
        return np.zeros(len(code), dtype=bool)
    table = np.zeros(int(code.max()) + 1, dtype=bool)
    ids = np.asarray(wanted, dtype=np.int64)
    table[ids[(ids >= 0) & (ids < len(table))]] = True
    return table[code]
