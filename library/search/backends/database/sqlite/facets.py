"""Facet counting and result caching for the SQLite engine, fast for the common-word case.

Counting topics, regions, authors, years and types with SQL joins costs ~30 ms for 10,000
matching pieces, and ~60 ms in pure Python for 40,000. Instead each process keeps the
pieces' facet values as numpy arrays and counts with a mask and a sum per value.

**Kept up to date from the catalogue's change log**, not reloaded: triggers (catalogue
migration 0010) log, in the writer's own transaction, every piece whose type, date, byline,
topics or regions are written (``catalogue_piece_change``, which the catalogue's own arrays
in library/catalogue/facet_arrays.py read too). The first search after a write reads the
log rows above the arrays' ``mark`` (the last log id they include) and those pieces'
values, and replaces their pairs: ~2-10 ms at 100,000 pieces where reloading every
piece after every index write took ~410 ms a process. The arrays are loaded whole instead
when the log cannot say what changed: rows above the mark are missing (pruned, or
deleted), the log was made again (its sequence is below the mark), the catalogue's epoch
token differs (another database), or a piece type appears that the arrays have no code for.

**One snapshot.** Each read, whole or of the changes, is one SQL statement, which SQLite
runs in one read transaction: the log's position and the values it reads are of the same
commits, and a piece an editor commits meanwhile is in neither (it is read next time).
Separate statements let a piece committed between two of them have tags but no id row
(``IndexError``, 500s under locust); one ``IMMEDIATE`` transaction instead held the write
lock for the ~0.4 s load.

**Shared only outside a transaction**: a transaction may have written rows no one else
can see, so inside one the arrays are brought up to date for that search alone and this
process's copy is left as it was. A ``FacetData`` is never changed in place (an update
makes a new one), so a thread counting on the old one is undisturbed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from django.db import connections

from library.catalogue.facet_arrays import LOG_TABLE, parse_numbers
from library.catalogue.models import Authorship, CatalogueEpoch, Piece, Role
from library.search import state

TOPIC_TABLE = Piece.topics.through._meta.db_table
REGION_TABLE = Piece.regions.through._meta.db_table
PIECE_TABLE = Piece._meta.db_table
AUTHORSHIP_TABLE = Authorship._meta.db_table
EPOCH_TABLE = CatalogueEpoch._meta.db_table
FACETS = ("topic", "region", "author", "year", "type")
_lock = threading.Lock()  # guards replacing this process's arrays (state.sqlite_facets)


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each run of equal values starts in sorted ``values``, its value and length."""
    if not len(values):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return starts, values[starts], np.diff(starts, append=len(values))


def _offsets(owners: np.ndarray, size: int) -> np.ndarray:
    """Where each piece id's pairs start among pairs ordered by piece id (one more at the end)."""
    counts = np.bincount(owners, minlength=size) if len(owners) else np.zeros(size, np.int64)
    return np.concatenate(([0], np.cumsum(counts)))


def _slices(begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The positions of the slices ``begin[i]:end[i]`` concatenated, without a Python loop."""
    sizes = end - begin
    return np.repeat(begin - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())


def _regroup(changes: int, pairs: int) -> bool:
    """Whether to group a facet's pairs again rather than move ``changes`` of them one by
    one (``_Groups._places`` loops in Python): a bulk write's many changes."""
    return changes > pairs // 8 + 64


def _moved(array: np.ndarray, out: np.ndarray, at: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``array`` without the items at ``out`` and with ``new[i]`` put at ``at[i]`` (places
    in ``array`` as it was), in one copy of each."""
    out = np.sort(out)
    return np.insert(np.delete(array, out), at - np.searchsorted(out, at), new)


def _recounted(
    values: np.ndarray, whole: np.ndarray, dropped: np.ndarray, added: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each value's pair count after dropping and adding pairs of the given values (values
    no pair has any more left out)."""
    every = np.union1d(values, added)
    counts = np.zeros(len(every), dtype=np.int64)
    counts[np.searchsorted(every, values)] = whole
    np.subtract.at(counts, np.searchsorted(every, dropped), 1)
    np.add.at(counts, np.searchsorted(every, added), 1)
    kept = counts > 0
    return every[kept], counts[kept]


def _same_pairs(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two arrays of (piece id, value) rows hold the same rows, in any order."""
    if first.shape != second.shape:
        return False
    first, second = (p[np.lexsort((p[:, 1], p[:, 0]))] for p in (first, second))
    return bool(np.array_equal(first, second))


@dataclass(frozen=True)
class _Groups:
    """One facet's (piece id, value) pairs grouped two ways: by value and by piece id."""

    rows: np.ndarray  # each pair's piece id, the pairs ordered by value
    starts: np.ndarray  # where each value's pairs start in ``rows``
    values: np.ndarray  # the distinct value codes, ascending
    whole: np.ndarray  # each value's count over the whole catalogue
    codes: np.ndarray  # each pair's value, the pairs ordered by piece id
    offsets: np.ndarray  # where each piece id's pairs start in ``codes`` (one more at the end)

    @classmethod
    def build(cls, owner: np.ndarray, code: np.ndarray, size: int) -> _Groups:
        """Group the pairs (``owner[i]``, ``code[i]``), piece ids below ``size``: by piece
        id, then by value with each value's pieces in id order (what ``replaced`` keeps).

        Values under 65,536 (topic, region and author ids, years, types in practice) sort
        as 16-bit numbers, which numpy sorts by radix (7.7 ms for 450,339 topic pairs at
        100,000 pieces); grouping is ~55 ms of a full load there.
        """
        if len(owner) and np.any(owner[1:] < owner[:-1]):
            by_piece = np.argsort(owner, kind="stable")
            owner, code = owner[by_piece], code[by_piece]
        # else: the tables are read in piece order, usually
        small = bool(len(code)) and code.min() >= 0 and code.max() < 2**16
        order = np.argsort(code.astype(np.uint16) if small else code, kind="stable")
        starts, values, whole = _runs(code[order])
        return cls(owner[order], starts, values, whole, code, _offsets(owner, size))

    @property
    def size(self) -> int:
        return len(self.offsets) - 1

    def replaced(self, gone: np.ndarray, owner: np.ndarray, code: np.ndarray) -> _Groups:
        """These groups without the pairs of the pieces ``gone`` marks (a mask over piece
        ids, as long as the new id range), plus the pairs given: those pieces' current ones.

        The old pairs' places are known (a piece's slice by piece id; a binary search in
        its value's run by value) and so are the new ones', so the arrays are copied once
        with the changes in place, without sorting or passing over every pair; a facet
        whose pairs did not change (most facets of most writes) is left as it is.
        """
        size, before = len(gone), self.size
        changed = np.flatnonzero(gone[:before])
        begin, end = self.offsets[changed], self.offsets[changed + 1]
        dropped = _slices(begin, end)  # the old pairs' places in ``codes``
        old_owner, old_code = np.repeat(changed, end - begin), self.codes[dropped]
        if _same_pairs(np.column_stack((old_owner, old_code)), np.column_stack((owner, code))):
            grown = np.full(size - before, self.offsets[-1], dtype=self.offsets.dtype)
            return replace(self, offsets=np.concatenate((self.offsets, grown)))
        counts = np.zeros(size, dtype=np.int64)
        counts[:before] = np.diff(self.offsets)
        counts[changed] = 0
        counts += np.bincount(owner, minlength=size)
        by_piece = np.argsort(owner, kind="stable")
        slots = self.offsets[np.minimum(owner[by_piece], before)]
        codes = _moved(self.codes, dropped, slots, code[by_piece])
        offsets = np.concatenate(([0], np.cumsum(counts)))
        if _regroup(len(old_code) + len(code), len(self.rows)):
            return _Groups.build(np.repeat(np.arange(size), counts), codes, size)
        by_value = np.lexsort((owner, code))
        owner, code = owner[by_value], code[by_value]
        rows = _moved(
            self.rows, self._places(old_owner, old_code), self._places(owner, code), owner
        )
        values, whole = _recounted(self.values, self.whole, old_code, code)
        starts = np.concatenate(([0], np.cumsum(whole)[:-1])) if len(whole) else whole
        return _Groups(rows, starts, values, whole, codes, offsets)

    def _places(self, owner: np.ndarray, code: np.ndarray) -> np.ndarray:
        """Where each pair (``owner[i]``, ``code[i]``) is, or would go, in ``rows``: its
        value's run, at its piece id's place among the run's ids (which are in order)."""
        found = np.searchsorted(self.values, code)
        places = np.empty(len(code), dtype=np.int64)
        for n, (piece, value, at) in enumerate(zip(owner, code, found, strict=True)):
            if at < len(self.values) and self.values[at] == value:
                start = self.starts[at]
                run = self.rows[start : start + self.whole[at]]
                places[n] = start + np.searchsorted(run, piece)
            else:  # a value no pair has yet: where its run would begin
                places[n] = self.starts[at] if at < len(self.values) else len(self.rows)
        return places

    def tally(self, mask: np.ndarray, selected: np.ndarray | None) -> np.ndarray:
        """How many pairs of each value (``values``) belong to the pieces ``mask`` marks.

        ``selected`` (the marked piece ids, when they are few) reads just those pieces'
        pairs; otherwise one gather of the mask over every pair and a sum per value.
        """
        if selected is None:
            return np.add.reduceat(mask[self.rows], self.starts, dtype=np.int64)
        index = _slices(self.offsets[selected], self.offsets[selected + 1])
        found = np.bincount(self.codes[index], minlength=int(self.values[-1]) + 1)
        return found[self.values]


@dataclass
class _Read:
    """What one statement of :func:`_read` found."""

    mark: int  # the change log's newest id (its AUTOINCREMENT sequence)
    token: str | None  # the catalogue's epoch token
    logged: int = 0  # log rows above the mark asked about (an update's read)
    changed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pieces: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (type, piece ids)
    pairs: dict[str, np.ndarray] = field(default_factory=dict)  # facet -> (piece id, value)

    def type_pairs(self, types: tuple[str, ...]) -> np.ndarray:
        """The pieces read as (piece id, type code) pairs."""
        found = [
            np.column_stack((ids, np.full(len(ids), types.index(t)))) for t, ids in self.pieces
        ]
        return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


@dataclass(frozen=True)
class FacetData:
    """Every piece's facet values as numpy arrays, as of change-log id ``mark``.

    Piece ids are positions (they are small integers; ``alive`` marks the catalogued
    ones); each facet's (piece id, value) pairs are grouped by value and by piece id
    (``_Groups``); ``types`` turns a type code back into its name. A count is a mask and
    one ``add.reduceat`` per facet. Never changed in place: see the module's docstring.
    """

    mark: int
    token: str | None
    alive: np.ndarray
    types: tuple[str, ...]
    groups: dict[str, _Groups]

    @classmethod
    def build(cls, read: _Read) -> FacetData:
        """Arrays from a whole read of the catalogue."""
        types = tuple(sorted(t for t, _ in read.pieces))
        pairs = {**read.pairs, "type": read.type_pairs(types)}
        size = max((int(p[:, 0].max()) + 1 for p in pairs.values() if len(p)), default=1)
        alive = np.zeros(size, dtype=bool)
        alive[pairs["type"][:, 0]] = True
        groups = {name: _Groups.build(p[:, 0], p[:, 1], size) for name, p in pairs.items()}
        return cls(read.mark, read.token, alive, types, groups)

    def applied(self, read: _Read) -> FacetData | None:
        """These arrays with the changed pieces' values replaced by those read for them;
        ``None`` when a piece has a type these arrays have no code for (load them whole:
        the codes are the sorted types)."""
        if any(t not in self.types for t, _ in read.pieces):
            return None
        if not len(read.changed):
            return replace(self, mark=read.mark)
        size = max(len(self.alive), int(read.changed.max()) + 1)
        gone = np.zeros(size, dtype=bool)
        gone[read.changed] = True
        pairs = {**read.pairs, "type": read.type_pairs(self.types)}
        alive = np.concatenate((self.alive, np.zeros(size - len(self.alive), dtype=bool)))
        alive[read.changed] = False
        alive[pairs["type"][:, 0]] = True
        groups = {
            name: group.replaced(gone, pairs[name][:, 0], pairs[name][:, 1])
            for name, group in self.groups.items()
        }
        return FacetData(read.mark, read.token, alive, self.types, groups)

    def count(self, ids: Iterable[int]) -> dict[str, list[tuple[object, int]]]:
        """(value, count) pairs per facet over the given piece ids (ids not catalogued: none).

        A common word matches most of the catalogue, so when more than half the pieces are
        wanted the pieces *not* wanted are counted and subtracted from the whole
        catalogue's counts. The counts are the same either way.
        """
        wanted = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64)
        mask = np.zeros(len(self.alive), dtype=bool)
        mask[wanted[(wanted >= 0) & (wanted < len(mask))]] = True
        mask &= self.alive
        pieces = int(np.count_nonzero(self.alive))
        marked = int(np.count_nonzero(mask))
        complement = 2 * marked > pieces
        if complement:
            np.logical_not(mask, out=mask)
            mask &= self.alive
            marked = pieces - marked
        # Few pieces to count (a rare word, or a word in nearly every piece): read only
        # theirs; otherwise every pair once (the cost of either, measured at 100,000
        # pieces, meets near an eighth of the catalogue).
        selected = np.flatnonzero(mask) if marked * _FEW < pieces else None
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


_FEW = 8  # see FacetData.count
_KEEP = 100  # per facet, enough for the page's top values after ties are ordered


def facet_data(cursor, alias: str) -> FacetData:
    """This process's facet arrays brought up to date with what ``cursor`` can see.

    Outside a transaction the result replaces this process's arrays; inside one it serves
    this search only (see the module's docstring). A project transaction is ``IMMEDIATE``:
    it began after every commit the process's arrays include, so the log rows it reads
    above their mark are exactly what it sees beyond them, its own writes included.
    """
    connection = connections[alias]
    current = state.sqlite_facets.get(alias)
    found = brought_up_to_date(cursor, current)
    if found is not current and connection.get_autocommit() and not connection.in_atomic_block:
        with _lock:
            stored = state.sqlite_facets.get(alias)
            if stored is None or stored.token != found.token or stored.mark <= found.mark:
                state.sqlite_facets[alias] = found
    return found


def brought_up_to_date(cursor, current: FacetData | None) -> FacetData:
    """``current`` with the changes logged since its mark, or a whole load when the log
    cannot say what they are (or there is nothing to update)."""
    if current is not None:
        read = _read(cursor, current.mark)
        if read.token == current.token and read.logged == read.mark - current.mark:
            if not read.logged:
                return current
            updated = current.applied(read)
            if updated is not None:
                return updated
    return FacetData.build(_read(cursor, None))


def _read(cursor, mark: int | None) -> _Read:
    """One statement: the log's newest id and the epoch token, and every piece's values
    (``mark`` None) or those of the pieces logged above ``mark``, with how many log rows
    are there.

    Each table's (piece, value) pairs come as one text the database builds
    (``group_concat``) and numpy parses in C: fetching ~900,000 rows one by one into
    Python took ~0.7 s of CPU at 100,000 pieces.
    """
    pairs = "group_concat(CAST({} AS text) || ',' || CAST({} AS text), ',')"
    within = "IN (SELECT piece_id FROM c)"
    if mark is None:
        start, params, logged, piece, tag, changed = "", [], "0", "", "", []
    else:
        start = f"WITH c AS (SELECT DISTINCT piece_id FROM {LOG_TABLE} WHERE id > %s) "
        params = [mark, mark]
        logged = f"(SELECT count(*) FROM {LOG_TABLE} WHERE id > %s)"
        piece, tag = f" AND id {within}", f" AND piece_id {within}"
        changed = ["SELECT 'changed', NULL, group_concat(piece_id, ',') FROM c"]
    author = f"role || '' = '{Role.AUTHOR.value}'"  # not the (role, author, piece) index
    parts = [
        f"SELECT 'log', (SELECT coalesce(max(seq), 0) FROM sqlite_sequence "
        f"WHERE name = '{LOG_TABLE}') || ',' || {logged}, "
        f"(SELECT token FROM {EPOCH_TABLE} WHERE id = 1)",
        *changed,
        f"SELECT 'type', type, group_concat(id, ',') FROM {PIECE_TABLE} WHERE 1{piece} "
        "GROUP BY type",
        f"SELECT 'year', NULL, {pairs.format('id', 'CAST(substr(date, 1, 4) AS INTEGER)')} "
        f"FROM {PIECE_TABLE} WHERE date IS NOT NULL{piece}",
        f"SELECT 'topic', NULL, {pairs.format('piece_id', 'topic_id')} FROM {TOPIC_TABLE} "
        f"WHERE 1{tag}",
        f"SELECT 'region', NULL, {pairs.format('piece_id', 'region_id')} FROM {REGION_TABLE} "
        f"WHERE 1{tag}",
        f"SELECT 'author', NULL, {pairs.format('piece_id', 'author_id')} "
        f"FROM {AUTHORSHIP_TABLE} WHERE {author}{tag}",
    ]
    rows = cursor.execute(start + " UNION ALL ".join(parts), params).fetchall()
    (_, position, token), *rest = rows
    newest, count = (int(n) for n in position.split(","))
    read = _Read(mark=newest, token=token, logged=count)
    for kind, value, text in rest:
        if kind == "changed":
            read.changed = parse_numbers(text)
        elif kind == "type":
            read.pieces.append((value, parse_numbers(text)))
        else:
            read.pairs[kind] = parse_numbers(text).reshape(-1, 2)
    return read


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
