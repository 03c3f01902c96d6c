"""Every piece's type, year, topics, regions and authors as per-process numpy arrays.

Browse facets, browse totals, the home page's tallies and related pieces' shared tags are
counts over these: a mask per active filter and a sum per value, a few milliseconds at
100,000 pieces, where the SQL counts cost 0.3-2.6 s on SQLite at 100,000 the first time
after each write. Both dialects of the search engine count their facets over the same
arrays (their ``FacetData`` is derived from them and shares their tag groups): one set per
process and database, loaded and brought up to date by one reader (facet_read.py), once per write.

The arrays stay exact across writes: triggers (migration 0010) log, in the writer's
transaction, each piece whose values change, and a reader re-reads just those pieces
before it counts, in one statement (one snapshot of committed data on both databases: see
facet_read.py). An update makes new arrays (the changed pairs moved in one copy of each
array: facet_groups.py), so a thread still counting on the old ones is undisturbed.

Only a request outside any transaction uses (and updates) the shared arrays: a
transaction may have written rows no one else can see. :func:`arrays` returns ``None``
then and the catalogue counts in SQL, which stays the reference the tests compare with;
the SQLite search brings a private copy up to date for its own count
(:func:`brought_up_to_date`), the PostgreSQL search counts in SQL. The PostgreSQL search
also shares them inside a transaction that has written nothing (``unwritten``).

The log is pruned of rows older than :data:`PRUNE_SECONDS` (:func:`prune_log`) by the
request that reloads (every :data:`MAX_AGE_SECONDS`), the worker's ``maintain_index`` and
``manage.py cleanup``. On SQLite a read sees rows missing above its mark and loads whole;
on PostgreSQL (where the log cannot show a gap) a process never needs a pruned row unless
a writing transaction stays open longer than the difference of the two (45 minutes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, cast, overload

import numpy as np
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from library.catalogue import generation
from library.catalogue.facet_groups import Groups, Selection
from library.catalogue.facet_read import (
    LOG_TABLE,
    NO_DATE,
    SQL_MARK,
    TAGS,
    Mark,
    Read,
    parse_numbers,
    read,
    unchanged,
)

__all__ = [
    "LOG_TABLE",
    "MAX_AGE_SECONDS",
    "NO_DATE",
    "PRUNE_BATCH",
    "PRUNE_PAUSE",
    "PRUNE_SECONDS",
    "SQLITE_NOW",
    "SQL_MARK",
    "TAGS",
    "FacetArrays",
    "arrays",
    "brought_up_to_date",
    "counting",
    "derived",
    "parse_numbers",
    "prune_log",
    "reset",
    "shared_arrays",
]

# Unix seconds on SQLite, without strftime('%s'): Django reads a bare %s as a placeholder.
SQLITE_NOW = "CAST((julianday('now') - 2440587.5) * 86400 AS integer)"
MAX_AGE_SECONDS = 15 * 60
PRUNE_SECONDS = 60 * 60
#: Log rows one prune transaction deletes at most. On SQLite a prune holds the write lock
#: that every save waits for: a big import leaves ~7 rows a piece, and the 750,000 rows of a
#: 100,000-piece catalogue took 0.4-1.1 s in one DELETE beside a burst of saves (a save
#: waited that long behind it); 1,000 take a few ms, about what the worker's task claim holds.
PRUNE_BATCH = 1_000
#: Seconds between two batches of a prune that goes on until done (``manage.py cleanup``):
#: a save waiting in SQLite's busy handler tries again at least every 25 ms in its first
#: 100 ms, so it takes the lock between two batches rather than after all of them.
PRUNE_PAUSE = 0.05
_lock = threading.RLock()  # an update reads ``views`` while a search may add its own
_loaded: dict[str, FacetArrays] = {}


V = TypeVar("V", bound="View")


class View(Protocol):
    """Another layout derived from the arrays (the search engines' ``FacetData``), carried
    along each update from the same read rather than read and updated on its own."""

    def applied(self, found: Read, arrays: FacetArrays) -> View: ...


@dataclass(frozen=True)
class FacetArrays:
    """Facet values of every piece, indexed by piece id (dense: ids are small integers).

    ``day`` is the date as days since 1970 (:data:`NO_DATE` for an undated piece) and
    ``year`` its year (0 undated); ``type`` is -1 where no piece is, else a code into
    ``types``; each tag facet's (piece id, tag id) pairs are grouped by tag and by piece
    (:class:`Groups`, each as long as ``alive``). Never changed in place (``views`` only
    gains entries): an update makes new arrays.
    """

    token: str
    mark: Mark  # SQLite: the last log id included; PostgreSQL: the snapshot read at
    loaded: float
    alive: np.ndarray
    year: np.ndarray
    day: np.ndarray
    type: np.ndarray
    types: tuple[str, ...]
    tags: dict[str, Groups]
    views: dict[str, View] = field(default_factory=dict, compare=False, repr=False)

    # --- counting ---------------------------------------------------------------------

    def tagged(self, name: str, tag_id: int) -> np.ndarray:
        """A mask of the pieces carrying ``tag_id`` in facet ``name``."""
        mask = np.zeros(len(self.alive), dtype=bool)
        mask[self.tags[name].run(tag_id)] = True
        return mask

    def type_code(self, value: str) -> int:
        return self.types.index(value) if value in self.types else -2  # -2: no piece

    @overload
    def tally(
        self,
        name: Literal["topic", "region", "author", "year"],
        mask: np.ndarray,
        keep: int | None = None,
        also: int | None = None,
    ) -> dict[int, int]: ...
    @overload
    def tally(
        self,
        name: Literal["type"],
        mask: np.ndarray,
        keep: int | None = None,
        also: int | None = None,
    ) -> dict[str, int]: ...
    @overload
    def tally(
        self, name: str, mask: np.ndarray, keep: int | None = None, also: int | None = None
    ) -> dict[Any, int]: ...
    def tally(
        self, name: str, mask: np.ndarray, keep: int | None = None, also: int | None = None
    ) -> dict[Any, int]:
        """{value: pieces} for facet ``name`` over the pieces in ``mask`` (none zero).

        ``keep``: only the values with at least the ``keep``-th largest count (ties at the
        cut stay), and ``also`` if it counts any: an author facet has tens of thousands of
        values, and a page shows a dozen.
        """
        if name in TAGS:
            group = self.tags[name]
            counts = Selection.of(mask, self.alive).tally(group)
            values = group.values[counts > 0]
            counts = counts[counts > 0]
        elif name == "year":
            counts = np.bincount(self.year[mask & (self.year > 0)])
            values = np.flatnonzero(counts)
            counts = counts[values]
        else:
            found = np.bincount(self.type[mask & (self.type >= 0)], minlength=len(self.types))
            return {self.types[n]: int(c) for n, c in enumerate(found) if c}
        if keep is not None and len(values) > keep:
            cut = np.partition(counts, len(values) - keep)[len(values) - keep]
            chosen = counts >= cut
            if also is not None:
                chosen |= values == also
            values, counts = values[chosen], counts[chosen]
        return dict(zip(values.tolist(), counts.tolist(), strict=True))

    def shared(
        self, piece_id: int, topic_ids: list[int], region_ids: list[int], limit: int
    ) -> list[tuple[int, int, int]]:
        """(piece id, topics shared, regions shared) of the ``limit`` pieces sharing most.

        The order of ``search.service.shared_tags``' SQL: most topics, then regions, then
        dated before undated, newest first, then by id.
        """
        size = len(self.alive)
        topics, regions = (
            np.bincount(self.tags[name].pieces_with(wanted), minlength=size)
            for name, wanted in (("topic", topic_ids), ("region", region_ids))
        )
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

    # --- made and kept up to date -------------------------------------------------------

    @classmethod
    def whole(cls, found: Read, token: str) -> FacetArrays:
        """The arrays of a whole read."""
        every = [*found.tags.values(), *(pairs for _, pairs in found.pieces)]
        size = max((int(p[:, 0].max()) + 1 for p in every if len(p)), default=1)
        dense = _Dense.empty(size)
        types = dense.set(found.pieces, ())
        tags = {name: Groups.build(p[:, 0], p[:, 1], size) for name, p in found.tags.items()}
        return cls(token, found.mark, time.monotonic(), *dense.arrays(), types, tags)

    def applied(self, found: Read) -> FacetArrays:
        """These arrays at the read's mark, the changed pieces' values replaced by those
        read for them, and every derived view brought along from the same read."""
        changed = found.changed if found.changed is not None else np.zeros(0, dtype=np.int64)
        if len(changed):
            needed, size = int(changed.max()) + 1, len(self.alive)
            if needed > size:
                size = max(needed, size * 5 // 4)  # room for the next few new pieces
            dense = _Dense.of(self, size)
            dense.clear(changed)
            types = dense.set(found.pieces, self.types)
            gone = np.zeros(size, dtype=bool)
            gone[changed] = True
            tags = {
                name: group.replaced(gone, found.tags[name][:, 0], found.tags[name][:, 1])
                for name, group in self.tags.items()
            }
            columns = dense.arrays()
        else:
            columns, types, tags = (
                (self.alive, self.year, self.day, self.type),
                self.types,
                self.tags,
            )
        updated = FacetArrays(self.token, found.mark, self.loaded, *columns, types, tags)
        views = tuple(self.views.items())  # one copy, taken at once: a view may be added
        updated.views.update({key: view.applied(found, updated) for key, view in views})
        return updated


@dataclass
class _Dense:
    """The per-piece arrays while new ones are made (copies: the old ones stay as they were)."""

    alive: np.ndarray
    year: np.ndarray
    day: np.ndarray
    type: np.ndarray

    @classmethod
    def empty(cls, size: int) -> _Dense:
        return cls(
            np.zeros(size, dtype=bool),
            np.zeros(size, dtype=np.int32),
            np.full(size, NO_DATE, dtype=np.int32),
            np.full(size, -1, dtype=np.int16),
        )

    @classmethod
    def of(cls, arrays: FacetArrays, size: int) -> _Dense:
        dense, before = cls.empty(size), len(arrays.alive)
        dense.alive[:before] = arrays.alive
        dense.year[:before] = arrays.year
        dense.day[:before] = arrays.day
        dense.type[:before] = arrays.type
        return dense

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.alive, self.year, self.day, self.type

    def clear(self, ids: np.ndarray) -> None:
        self.alive[ids] = False
        self.year[ids] = 0
        self.day[ids] = NO_DATE
        self.type[ids] = -1

    def set(self, pieces: list[tuple[str, np.ndarray]], types: tuple[str, ...]) -> tuple[str, ...]:
        """Set the pieces read, (type, (id, day) pairs) per type; the types, a new one last
        (codes already given keep their meaning)."""
        for value, pairs in pieces:
            if not len(pairs):
                continue
            if value not in types:
                types = (*types, value)
            ids, day = pairs[:, 0], pairs[:, 1].astype(np.int32)
            self.alive[ids] = True
            self.day[ids] = day
            self.year[ids] = np.where(day == NO_DATE, 0, _years(day))
            self.type[ids] = types.index(value)
        return types


def _years(days: np.ndarray) -> np.ndarray:
    """The calendar year of each day number (the sentinel's result is discarded)."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int32) + 1970


def brought_up_to_date(
    cursor, current: FacetArrays | None, using: str = DEFAULT_DB_ALIAS
) -> FacetArrays:
    """``current`` with the changes logged since its mark (one statement), or loaded whole
    (one more) when the log cannot say what they are; ``current`` itself when nothing was
    logged (on PostgreSQL asked first by a statement cheaper to plan than the read: one
    more when something was). Stores nothing: :func:`arrays` shares the result, a
    transaction's search not."""
    vendor = connections[using].vendor
    if current is not None:
        postgres = isinstance(current.mark, str)  # ask first: cheaper to plan than the read
        if postgres and current.token and unchanged(cursor, str(current.mark), current.token):
            return current
        found = read(cursor, vendor, current.mark)
        if found.follows(current.mark, current.token):
            if found.mark == current.mark:
                return current
            return current.applied(found)
    found = read(cursor, vendor, None)
    if not found.token:
        generation.new_epoch(using)  # a flushed database; token "": the next read loads again
    return FacetArrays.whole(found, found.token or "")


def arrays(
    using: str = DEFAULT_DB_ALIAS, cursor=None, unwritten: bool = False
) -> FacetArrays | None:
    """This process's arrays, brought up to date with every commit; ``None`` in a transaction.

    Call it with the lock held by :func:`counting`. ``cursor``: the caller's (the search
    reads through its own), else one of the connection's. ``unwritten``: the caller is in
    a PostgreSQL transaction that it has asked has written nothing
    (``pg_current_xact_id_if_assigned()`` NULL), whose every statement sees committed rows
    alone (``READ COMMITTED``, Django's default): its read may be shared like one outside
    a transaction. The log is pruned only outside one (a prune is a write).
    """
    connection = connections[using]
    outside = not connection.in_atomic_block and connection.get_autocommit()
    if not outside and not (unwritten and _postgres(using)):
        return None
    current = _loaded.get(using)
    if current is not None and time.monotonic() - current.loaded > MAX_AGE_SECONDS:
        current = None
    if current is None and outside:
        prune_log(using)
    if cursor is None:
        with connection.cursor() as own:
            found = brought_up_to_date(own, current, using)
    else:
        found = brought_up_to_date(cursor, current, using)
    _loaded[using] = found
    return found


@contextmanager
def counting(
    using: str = DEFAULT_DB_ALIAS, cursor=None, unwritten: bool = False
) -> Iterator[FacetArrays | None]:
    """``with counting() as data:`` the up-to-date arrays (or ``None``), held for this thread."""
    with _lock:
        yield arrays(using, cursor, unwritten)


def derived(arrays: FacetArrays, key: str, make: Callable[[FacetArrays], V]) -> V:
    """``arrays``' view ``key`` (made by ``make`` the first time), kept with them: each
    update of the arrays brings it along."""
    with _lock:
        found = arrays.views.get(key)
        if found is None:
            found = arrays.views[key] = make(arrays)
        return cast(V, found)


def shared_arrays(using: str = DEFAULT_DB_ALIAS) -> FacetArrays | None:
    """This process's arrays as they are, not brought up to date (a transaction's search
    starts from them)."""
    with _lock:
        return _loaded.get(using)


def reset() -> None:
    """Forget every process's loaded arrays (tests swap databases under one process)."""
    with _lock:
        _loaded.clear()


def _postgres(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def prune_log(using: str = DEFAULT_DB_ALIAS, *, batches: int | None = 1) -> int:
    """Delete log rows no process can still need (see the module's docstring); how many.

    At most ``batches`` transactions of :data:`PRUNE_BATCH` rows each, oldest first
    (``None``: until none is left, :data:`PRUNE_PAUSE` apart). Called with one batch by
    the request that reloads these arrays and by the worker's ``maintain_index`` (which runs
    again while a batch comes back full), and until done by ``manage.py cleanup``, so the
    log stays bounded even where no page reloads them.
    """
    if _postgres(using):
        # ``now()`` (the transaction's start: seconds off at most, against an hour) is
        # known when a statement is planned, so both statements read the ``at`` index;
        # with ``clock_timestamp()`` (volatile) the check read the whole log when no row
        # was old: 150 ms at 900,000 rows.
        where = f"at < now() - interval '{PRUNE_SECONDS} seconds'"
        delete = (
            f"DELETE FROM {LOG_TABLE} WHERE ctid = ANY(ARRAY("
            f"SELECT ctid FROM {LOG_TABLE} WHERE {where} ORDER BY at LIMIT %s))"
        )
    else:
        where = f"at < {SQLITE_NOW} - {PRUNE_SECONDS}"
        delete = (
            f"DELETE FROM {LOG_TABLE} WHERE id IN ("
            f"SELECT id FROM {LOG_TABLE} WHERE {where} ORDER BY at LIMIT %s)"
        )
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {LOG_TABLE} WHERE {where} LIMIT 1")
        if cursor.fetchone() is None:
            return 0  # nothing to prune: no write, so no wait for SQLite's write lock
    pruned = done = 0
    while batches is None or done < batches:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(delete, [PRUNE_BATCH])
            deleted = max(cursor.rowcount, 0)
        pruned += deleted
        done += 1
        if deleted < PRUNE_BATCH:
            break
        if batches is None:
            time.sleep(PRUNE_PAUSE)
    return pruned
