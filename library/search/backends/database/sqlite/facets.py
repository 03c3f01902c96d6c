"""Facet counting and result caching for the SQLite engine, fast for the common-word case.

Counting topics, regions, authors, years and types with SQL joins costs ~30 ms for 10,000
matching pieces, and ~60 ms in pure Python for 40,000. Instead the pieces' facet values are
numpy arrays in the process, and a count is a mask and a sum per value.

**The catalogue's arrays, not a second copy.** The values are the catalogue's per-process
facet arrays (library/catalogue/facet_arrays.py), which one reader loads and keeps up to
date from the catalogue's change log, one statement after each write (facet_read.py says
how a read stays one snapshot and when the log cannot say and the arrays load whole). A
``FacetData`` is derived from them the first time a search counts: it shares their topic,
region and author groups (``Groups``, by value and by piece id) and adds years and types
grouped the same way; each update of the arrays brings it along from the same read.

**Shared only outside a transaction**: a transaction may have written rows no one else
can see, so inside one the process's arrays are brought up to date for that search alone
(a copy: they are never changed in place) and this process's are left as they were. A
project transaction is ``IMMEDIATE``: it began after every commit the process's arrays
include, so the log rows it reads above their mark are exactly what it sees beyond them,
its own writes included.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import DEFAULT_DB_ALIAS

from library.catalogue import facet_arrays
from library.catalogue.facet_arrays import FacetArrays
from library.catalogue.facet_groups import Groups, Selection
from library.catalogue.facet_read import Read

FACETS = ("topic", "region", "author", "year", "type")
VIEW = "sqlite search"  # this layout's key among the arrays' views


def _own_pairs(arrays: FacetArrays, ids: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The (piece id, value) pairs of years and types, the facets the catalogue's arrays
    hold per piece: of every piece, or of the pieces ``ids``."""
    ids = np.flatnonzero(arrays.alive) if ids is None else ids[arrays.alive[ids]]
    dated = ids[arrays.year[ids] > 0]
    return {
        "year": np.column_stack((dated, arrays.year[dated])).astype(np.int64),
        "type": np.column_stack((ids, arrays.type[ids])).astype(np.int64),
    }


@dataclass(frozen=True)
class FacetData:
    """Every piece's facet values as numpy arrays, as of change-log id ``mark``.

    Piece ids are positions (they are small integers; ``alive`` marks the catalogued
    ones); each facet's (piece id, value) pairs are grouped by value and by piece id
    (``Groups``); ``types`` turns a type code back into its name. A count is a mask and
    one ``add.reduceat`` per facet. Never changed in place: see the module's docstring.
    """

    mark: object
    token: str | None
    alive: np.ndarray
    types: tuple[str, ...]
    groups: dict[str, Groups]

    @classmethod
    def of(cls, arrays: FacetArrays) -> FacetData:
        """This layout of ``arrays``: made once (~20 ms at 100,000 pieces), then carried
        along each of their updates."""
        return facet_arrays.derived(arrays, VIEW, cls._made)

    @classmethod
    def _made(cls, arrays: FacetArrays) -> FacetData:
        size = len(arrays.alive)
        own = {name: Groups.build(p[:, 0], p[:, 1], size) for name, p in _own_pairs(arrays).items()}
        return cls(arrays.mark, arrays.token, arrays.alive, arrays.types, {**arrays.tags, **own})

    def applied(self, read: Read, arrays: FacetArrays) -> FacetData:
        """This layout of ``arrays``, which are these arrays' source updated by ``read``:
        their tag groups as they are, years and types moved like theirs."""
        groups = {**self.groups, **arrays.tags}
        if read.changed is not None and len(read.changed):
            gone = np.zeros(len(arrays.alive), dtype=bool)
            gone[read.changed] = True
            for name, pairs in _own_pairs(arrays, read.changed).items():
                groups[name] = self.groups[name].replaced(gone, pairs[:, 0], pairs[:, 1])
        return FacetData(arrays.mark, arrays.token, arrays.alive, arrays.types, groups)

    def count(self, ids: Iterable[int]) -> dict[str, list[tuple[object, int]]]:
        """(value, count) pairs per facet over the given piece ids (ids not catalogued: none),
        each facet read the cheapest way (``Selection``: a common word matches most of the
        catalogue)."""
        wanted = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64)
        mask = np.zeros(len(self.alive), dtype=bool)
        mask[wanted[(wanted >= 0) & (wanted < len(mask))]] = True
        selection = Selection.of(mask, self.alive)
        counts: dict[str, list[tuple[object, int]]] = {}
        for name in FACETS:
            group = self.groups[name]
            if not len(group.values):
                counts[name] = []
                continue
            tally = selection.tally(group)
            found = np.nonzero(tally)[0]
            if name in ("author", "topic", "region") and len(found) > _KEEP:
                found = found[np.argpartition(-tally[found], _KEEP)[:_KEEP]]
            counts[name] = [
                (self.types[v] if name == "type" else int(v), int(n))
                for v, n in zip(group.values[found], tally[found], strict=True)
            ]
        return counts


_KEEP = 100  # per facet, enough for the page's top values after ties are ordered


def facet_data(cursor, alias: str = DEFAULT_DB_ALIAS) -> FacetData:
    """The facet values brought up to date with what ``cursor`` can see (read through it).

    Outside a transaction: this process's arrays, brought up to date and shared with the
    catalogue's pages; inside one, a copy for this search only (see the module's docstring).
    """
    with facet_arrays.counting(alias, cursor) as arrays:
        if arrays is not None:
            return FacetData.of(arrays)
    shared = facet_arrays.shared_arrays(alias)
    return FacetData.of(facet_arrays.brought_up_to_date(cursor, shared, alias))


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
