"""Every process-global cache of the search package, in one place, with one ``reset()``.

Each cache is keyed so that a stale entry is never served: engines by name and index
location, vocabularies by a fingerprint of their rows, SQLite facet arrays by the catalogue
change-log id they include, PostgreSQL facet arrays by the snapshot they were brought up
to date at (see each dialect's ``facets.py``). The engine instances hold the rest: the
SQLite result cache and Whoosh's reused searcher. ``reset()`` exists for tests, which swap
settings and databases under one long-lived process.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from library.search.backends.base import SearchBackend
    from library.search.backends.database.postgres.facets import FacetArrays
    from library.search.backends.database.sqlite.facets import FacetData
    from library.search.vocab import Vocabulary

# (engine name, index location) -> the engine (its result cache and searcher live in it).
backends: dict[tuple[str, str], SearchBackend] = {}
# connection alias -> (fingerprint of the topic and region rows, the vocabulary).
vocabularies: dict[str, tuple[tuple, Vocabulary]] = {}
# connection alias -> the SQLite dialect's facet arrays.
sqlite_facets: dict[str, FacetData] = {}
# connection alias -> the PostgreSQL dialect's facet arrays; updated in place under the lock.
postgres_facets: dict[str, FacetArrays] = {}
postgres_facets_lock = threading.Lock()


def reset() -> None:
    """Forget every cache and engine instance (the next search builds them afresh)."""
    with postgres_facets_lock:
        postgres_facets.clear()
    backends.clear()
    vocabularies.clear()
    sqlite_facets.clear()
