"""Facet counting for the PostgreSQL dialect: over the catalogue's per-process facet arrays.

Counting topics, regions, authors, years and types with SQL over the matching set cost
~500 ms at 100,000 matching pieces (joins, or ``unnest`` of per-piece arrays); a mask and
a sum per value over arrays held in the process costs a few milliseconds. The arrays are
the catalogue's (library/catalogue/facet_arrays.py), in the layout the SQLite dialect
counts over too (``FacetData``): one set per process, brought up to date before each
count from the catalogue's change log: a one-row statement asks whether anything is new
since the arrays' snapshot, and if so one statement reads the pieces logged since then
and their values in that same snapshot (facet_read.py). The
triggers that write that log fire on every change of a piece's type, date, topics,
regions or byline, whoever makes it, not only on an index write.

Only a transaction that has not written anything uses (and updates) the shared arrays:
in ``READ COMMITTED`` each of its statements sees committed rows alone. A writing
transaction could see its own uncommitted rows, which must never reach other requests;
the ranking statement counts its facets in SQL then (ranking.py, a test's transaction, a
save's own request), over the same snapshot as its matches.
"""

from __future__ import annotations

import numpy as np

from library.catalogue import facet_arrays
from library.search.backends.database.facet_data import FacetData
from library.search.results import FacetCounts


def facet_counts(cursor, alias: str, ids: np.ndarray) -> FacetCounts:
    """Facet counts over ``ids``, from this process's arrays brought up to date first.

    The caller has checked that its transaction has written nothing (backend.search).
    """
    with facet_arrays.counting(alias, cursor, unwritten=True) as arrays:
        if arrays is None:  # the connection is not PostgreSQL's: no caller does that
            raise ValueError(f"the connection {alias!r} is not a PostgreSQL one")
        return FacetData.of(arrays).count(ids)
