"""Facet counting and result caching for the SQLite engine, fast for the common-word case.

Counting topics, regions, authors, years and types with SQL joins costs ~30 ms for 10,000
matching pieces, and ~60 ms in pure Python for 40,000. Instead each process keeps the
pieces' facet values as numpy arrays, keyed by the index *generation* (a value every index
write changes inside its transaction), and counts with a mask and ``bincount``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from library.catalogue.models import Authorship, Piece, Role
from library.search import state

TOPIC_TABLE = Piece.topics.through._meta.db_table
REGION_TABLE = Piece.regions.through._meta.db_table
PIECE_TABLE = Piece._meta.db_table
AUTHORSHIP_TABLE = Authorship._meta.db_table
FACETS = ("topic", "region", "author", "year", "type")


@dataclass
class _Groups:
    """One facet's (piece, value) pairs grouped two ways: by value and by piece."""

    rows: np.ndarray  # each pair's piece row, the pairs ordered by value
    starts: np.ndarray  # where each value's pairs start in ``rows``
    values: np.ndarray  # the distinct value codes, ascending
    whole: np.ndarray  # each value's count over the whole catalogue
    codes: np.ndarray  # each pair's value, the pairs ordered by piece row
    offsets: np.ndarray  # where each piece row's pairs start in ``codes`` (one more at the end)

    def tally(self, mask: np.ndarray, selected: np.ndarray | None) -> np.ndarray:
        """How many pairs of each value (``values``) belong to the rows ``mask`` marks.

        ``selected`` (the marked rows, when they are few) reads just those rows' pairs;
        otherwise one gather of the mask over every pair and a sum per value.
        """
        if selected is None:
            return np.add.reduceat(mask[self.rows], self.starts, dtype=np.int64)
        begin, end = self.offsets[selected], self.offsets[selected + 1]
        sizes = end - begin
        # The selected rows' slices of ``codes`` concatenated, without a Python loop.
        index = np.repeat(begin - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        found = np.bincount(self.codes[index], minlength=int(self.values[-1]) + 1)
        return found[self.values]


@dataclass
class FacetData:
    """Every piece's facet values as numpy arrays: counting is a mask and a sum per value.

    Pure-Python counting cost ~60 ms for 40,000 matching pieces; this costs a few.
    ``rows`` maps a piece id to its row; each facet is a pair of arrays (row of each value,
    value code), grouped by value by ``prepare``; ``labels`` turns a type code back into
    its name.
    """

    generation: int
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    types: list[str] = field(default_factory=list)
    groups: dict[str, _Groups] = field(default_factory=dict)

    def prepare(self) -> FacetData:
        """Group each facet's pairs by value, once per load: a count is then one gather
        of the mask and one ``add.reduceat`` per facet (measured at 100,000 pieces, half of
        them wanted: 4.4 ms with a compress and a ``bincount`` per facet, 1.7 ms so)."""
        for name, (owner, code) in self.pairs.items():
            # Values under 65,536 (topic, region and author ids, years, types in practice)
            # sort as 16-bit numbers, which numpy sorts by radix (7.7 ms for 450,339
            # topic pairs at 100,000 pieces). Grouping adds ~55 ms to the arrays' load,
            # paid once per process after each index write (341 -> ~400 ms).
            small = bool(len(code)) and code.min() >= 0 and code.max() < 2**16
            order = np.argsort(code.astype(np.uint16) if small else code, kind="stable")
            by_value = code[order]
            starts = np.flatnonzero(np.diff(by_value, prepend=-1))  # where a value begins
            whole = np.diff(starts, append=len(by_value))
            if len(owner) and np.any(owner[1:] < owner[:-1]):
                by_row = np.argsort(owner, kind="stable")
                owner_sorted, codes = owner[by_row], code[by_row]
            else:  # the tables are read in piece order, usually
                owner_sorted, codes = owner, code
            offsets = np.searchsorted(owner_sorted, np.arange(len(self.ids) + 1))
            self.groups[name] = _Groups(
                owner[order], starts, by_value[starts], whole, codes, offsets
            )
        self.pairs = {}  # grouped both ways now; the ungrouped copy would only take memory
        return self

    def count(self, ids: Iterable[int]) -> dict[str, list[tuple[object, int]]]:
        """(value, count) pairs per facet over the given piece ids.

        A common word matches most of the catalogue, so when more than half the pieces are
        wanted the pieces *not* wanted are counted and subtracted from the whole
        catalogue's counts. The counts are the same either way.
        """
        wanted = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64)
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[self._rows(wanted)] = True
        marked = int(np.count_nonzero(mask))
        complement = 2 * marked > len(self.ids)
        if complement:
            np.logical_not(mask, out=mask)
            marked = len(self.ids) - marked
        # Few rows to count (a rare word, or a word in nearly every piece): read only
        # theirs; otherwise every pair once (the cost of either, measured at 100,000
        # pieces, meets near an eighth of the catalogue).
        selected = np.flatnonzero(mask) if marked * _FEW < len(self.ids) else None
        counts: dict[str, list[tuple[object, int]]] = {}
        for name, group in self.groups.items():
            if not len(group.values):
                counts[name] = []
                continue
            tally = group.tally(mask, selected)
            if complement:
                tally = group.whole - tally
            found = np.nonzero(tally)[0]
            if name in ("author", "topic", "region") and len(found) > _KEEP:
                found = found[np.argpartition(-tally[found], _KEEP)[:_KEEP]]
            counts[name] = [
                (self.types[v] if name == "type" else int(v), int(n))
                for v, n in zip(group.values[found], tally[found], strict=True)
            ]
        return counts

    def _rows(self, wanted: np.ndarray) -> np.ndarray:
        """Rows of the catalogued ids among ``wanted`` (ids no longer catalogued dropped).

        Piece ids are usually 1..n without gaps, where a row is the id minus the first
        (searchsorted over 100,000 ids took 1.5 ms of a common word's 6.5).
        """
        if not len(self.ids):
            return np.zeros(0, dtype=np.int64)
        first = int(self.ids[0])
        if int(self.ids[-1]) - first == len(self.ids) - 1:
            rows = wanted - first
            return rows[(rows >= 0) & (rows < len(self.ids))]
        rows = np.searchsorted(self.ids, wanted)
        return rows[
            (rows < len(self.ids)) & (self.ids[np.minimum(rows, len(self.ids) - 1)] == wanted)
        ]


_FEW = 8  # see FacetData.count
_KEEP = 100  # per facet, enough for the page's top values after ties are ordered


def facet_data(cursor, alias: str, generation: int) -> FacetData:
    """The cached facet values for this generation of the index, loaded if stale.

    Each table's (piece, value) pairs come as one text the database builds
    (``group_concat``) and numpy parses in C: fetching ~900,000 rows one by one into
    Python took ~0.7 s of CPU at 100,000 pieces, paid by the first search after every
    index write.
    """
    cached = state.sqlite_facets.get(alias)
    if cached is not None and cached.generation == generation:
        return cached
    data = FacetData(generation)
    pairs = "group_concat(CAST({} AS text) || ',' || CAST({} AS text), ',')"
    queries = {
        "topic": f"SELECT {pairs.format('piece_id', 'topic_id')} FROM {TOPIC_TABLE}",
        "region": f"SELECT {pairs.format('piece_id', 'region_id')} FROM {REGION_TABLE}",
        "author": f"SELECT {pairs.format('piece_id', 'author_id')} FROM {AUTHORSHIP_TABLE} "
        f"WHERE role = '{Role.AUTHOR.value}'",
        "year": f"SELECT {pairs.format('id', 'CAST(substr(date, 1, 4) AS INTEGER)')} "
        f"FROM {PIECE_TABLE} WHERE date IS NOT NULL",
    }
    # One transaction, so one snapshot: between two statements outside one, a piece
    # committed by an editor had tags but no row in ``ids``, and counting raised
    # IndexError (500s under locust with an editor writing, 3-5 a minute). The project's
    # SQLite transactions are IMMEDIATE, so this holds the write lock for the load
    # (~0.3 s at 100,000 pieces, once per process per index write); writers wait on the
    # busy timeout, as for any other write.
    with transaction.atomic(using=alias):
        (ids,) = cursor.execute(f"SELECT group_concat(id, ',') FROM {PIECE_TABLE}").fetchone()
        found = {name: cursor.execute(sql).fetchone()[0] for name, sql in queries.items()}
        by_type = cursor.execute(
            f"SELECT type, group_concat(id, ',') FROM {PIECE_TABLE} GROUP BY type"
        ).fetchall()
    data.ids = np.sort(_numbers(ids))
    for name, text in found.items():
        rows = _numbers(text).reshape(-1, 2)
        data.pairs[name] = (np.searchsorted(data.ids, rows[:, 0]), rows[:, 1].copy())
    data.types = sorted(value for value, _ in by_type)
    owners = [_numbers(text) for _, text in by_type]
    codes = [
        np.full(len(o), data.types.index(v), dtype=np.int64)
        for (v, _), o in zip(by_type, owners, strict=True)
    ]
    every = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    data.pairs["type"] = (
        np.searchsorted(data.ids, every),
        np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64),
    )
    state.sqlite_facets[alias] = data.prepare()
    return data


def _numbers(text: str | None) -> np.ndarray:
    """``"1,2,3"`` as an integer array (empty for no rows)."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


@dataclass
class Ranked:
    """One query's outcome: the total, the first rows in order, facet counts."""

    total: int
    rows: list[tuple[int, float]]
    ids: list[int] = field(default_factory=list)
    facets: dict = field(default_factory=dict)


class ResultCache:
    """Recent queries' first ``depth`` ranked rows, totals and facets, per index generation.

    Every index write changes the generation inside its own transaction, so a cached
    answer can never outlive the data it was computed from (a query-result cache in the
    manner of Solr's). A query is ranked as deep as the page asked for, at least
    ``depth`` rows; a later page deeper than the cached rows is ranked afresh (and cached).
    ``depth`` is one page of the search page's default size, not five: ranking 100 rows
    made the body tier (BM25 over every match in the full table) run whenever the head
    tiers held fewer than 100 hits, where 20 would have filled the page (measured at
    100,000 pieces: see library/search/README.md).
    """

    depth = 20

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._lock = threading.Lock()  # one backend instance serves every thread
        self._entries: OrderedDict[tuple, Ranked] = OrderedDict()
        self._generation: dict[str, int] = {}

    def get(self, alias: str, generation: int, key: tuple, need: int) -> Ranked | None:
        with self._lock:
            if self._generation.get(alias) != generation:
                self._drop(alias)
                self._generation[alias] = generation
                return None
            entry = self._entries.get((alias, key))
            if entry is None or (len(entry.rows) < need and len(entry.rows) < entry.total):
                return None
            self._entries.move_to_end((alias, key))
            return entry

    def put(self, alias: str, generation: int, key: tuple, entry: Ranked) -> None:
        with self._lock:
            if self.size <= 0 or self._generation.get(alias) != generation:
                return
            self._entries[(alias, key)] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def _drop(self, alias: str) -> None:
        for cached in [k for k in self._entries if k[0] == alias]:
            del self._entries[cached]
