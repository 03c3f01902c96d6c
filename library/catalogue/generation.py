"""Caching what the catalogue pages compute, until the next committed write to the catalogue.

Facet counts, the home page's tallies, browse totals and a piece's related pieces change
only when a piece, its byline or tags, a topic, a region or an author is written. Database
triggers (migration 0009) record every such write in the writer's own transaction, however
it is made (ORM, bulk command, raw SQL), and cached values are keyed on that record:

* **PostgreSQL**: each writing transaction inserts one :class:`CatalogueChange` row
  (``ON CONFLICT (txid) DO NOTHING`` keeps it to one per transaction). Rows are only
  inserted, so concurrent writers never wait for one another. The key is the *number* of
  rows, not the largest id: ids come from a sequence and commit out of order (a reader can
  see id 101 while 100 is still uncommitted), but every commit adds exactly one row, so
  the count grows with each commit, late ones included.
* **SQLite**: writers take turns on the database's write lock, so a single counter
  (``CatalogueEpoch.writes``) that the triggers increase costs no extra waiting.

Both keys also carry ``CatalogueEpoch.token``, random, which changes whenever change rows
are deleted (:func:`prune`, in the same transaction) or the row is made again, so a key
can never repeat: between two prunes the set of rows only grows, hence equal counts mean
equal sets. Reading the key is one single-statement query (one snapshot for token and
count) over at most :data:`PRUNE_AT` index entries.

Nothing is cached inside a transaction (``atomic`` block): it may have written, and what it
sees would be keyed on a state no one else has. Outside one, a request reads the key
before it reads anything else, so whatever it computes is at least as new as its key.

The values live in the ``pages`` cache (settings ``PAGE_CACHE``): per process by default,
which is correct for any number of instances since the key comes from the database; the
database cache table shares computed values between instances too.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from library.catalogue.models import CatalogueChange, CatalogueEpoch

T = TypeVar("T")

#: Values are only ever stale by key, never by age; the timeout frees memory of keys no
#: request will ask for again.
CACHE_SECONDS = 24 * 3600
#: Change rows kept before a reader prunes them (PostgreSQL): counting them stays ~0.1 ms.
PRUNE_AT = 1000
_MISSING = object()


def _tables() -> tuple[str, str]:
    return CatalogueChange._meta.db_table, CatalogueEpoch._meta.db_table


def current(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The catalogue's cache key as text, or ``None``: do not cache now.

    ``None`` inside a transaction, without an epoch row (one is made for the next
    request), and on the request that prunes the change log.
    """
    connection = connections[using]
    if connection.in_atomic_block or not connection.get_autocommit():
        return None
    row = record(using)
    if row is None:
        new_epoch(using)
        return None
    token, number = row
    if connection.vendor == "postgresql" and number >= PRUNE_AT:
        prune(using)
        return None
    return f"{token}.{number}"


def record(using: str = DEFAULT_DB_ALIAS) -> tuple[str, int] | None:
    """The catalogue's write record as this connection sees it now, in a transaction or
    not: it differs after any write to the catalogue committed since (the search
    rebuild's test that what it read is still current). ``None`` without an epoch row."""
    connection = connections[using]
    changes, epoch = _tables()
    postgres = connection.vendor == "postgresql"
    count = f"(SELECT count(*) FROM {changes})" if postgres else "writes"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, {count} FROM {epoch} WHERE id = 1")
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def new_epoch(using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the epoch row if it is missing (a flushed test database), with a fresh token."""
    CatalogueEpoch.objects.using(using).bulk_create(
        [CatalogueEpoch(pk=1, token=secrets.token_hex(16))], ignore_conflicts=True
    )


def prune(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Delete the change rows and change the token, in one transaction; ``False`` if busy.

    Only another prune holds the epoch row (writers never touch it on PostgreSQL), and a
    second one skips rather than waits. The ``DELETE`` removes the rows committed before
    it; a row committed later stays and counts in the new epoch. Every cached value is
    invalidated, which is harmless once per :data:`PRUNE_AT` writing transactions.
    """
    changes, epoch = _tables()
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        lock = " FOR UPDATE SKIP LOCKED" if connections[using].vendor == "postgresql" else ""
        cursor.execute(f"SELECT 1 FROM {epoch} WHERE id = 1{lock}")
        if cursor.fetchone() is None:
            return False
        cursor.execute(f"UPDATE {epoch} SET token = %s WHERE id = 1", [secrets.token_hex(16)])
        cursor.execute(f"DELETE FROM {changes}")
    return True


@dataclass(frozen=True)
class PageCache:
    """Values cached under one catalogue key; read the key once per request."""

    generation: str | None

    @classmethod
    def now(cls) -> PageCache:
        return cls(current())

    def get(self, name: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T:
        """``compute()``, or the value it gave for the same ``parts`` under this key."""
        if self.generation is None:
            return compute()
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        key = f"catalogue:{name}:{self.generation}:{digest}"
        cache = caches["pages"]
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            cache.set(key, value, CACHE_SECONDS)
        return value
