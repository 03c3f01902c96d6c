"""Every process-global cache of the search package, in one place, with one ``reset()``.

Each cache is keyed so that a stale entry is never served: engines by name and index
location, vocabularies by a fingerprint of their rows. Both dialects of the database
engine count their facets over the catalogue's per-process arrays
(``library.catalogue.facet_arrays``), which ``reset()`` forgets too. The engine instances
hold the rest: the SQLite result cache and Whoosh's reused searcher. ``reset()`` exists
for tests, which swap settings and databases under one long-lived process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from library.search.backends.base import SearchBackend
    from library.search.vocab import Vocabulary

# (engine name, index location) -> the engine (its result cache and searcher live in it).
backends: dict[tuple[str, str], SearchBackend] = {}
# connection alias -> (fingerprint of the topic and region rows, the vocabulary).
vocabularies: dict[str, tuple[tuple, Vocabulary]] = {}


def reset() -> None:
    """Forget every cache and engine instance (the next search builds them afresh)."""
    from library.catalogue import facet_arrays

    facet_arrays.reset()
    backends.clear()
    vocabularies.clear()
