"""Facet counting and result caching for the SQLite engine, fast for the common-word case.

**The catalogue's arrays, not a second copy.** A search counts its facets over the
catalogue's per-process facet arrays (library/catalogue/facet_arrays.py) in the layout
both dialects share (``FacetData``, database/facet_data.py), a mask and a sum per value.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import DEFAULT_DB_ALIAS

from library.catalogue import facet_arrays
from library.search.backends.database.facet_data import FACETS, FacetData

__all__ = ["FACETS", "FacetData", "Ranked", "ResultCache", "facet_data"]


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
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    facets: dict = field(default_factory=dict)
    # Gives the ids (and so the total) when they are still being listed beside the
    # request (sidecar.py) while its page is finished: ``settle`` waits for them, and
    # lists them on ``cursor`` if the side read could not.
    pending: Callable[[Any], np.ndarray] | None = None

    def settle(self, cursor) -> None:
        """Every matching id in hand, and the total counted from them."""
        if self.pending is not None:
            self.ids = self.pending(cursor)
            self.total = len(self.ids)
            self.pending = None


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
