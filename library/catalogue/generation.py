"""Caching what the catalogue pages compute, until the next write to the catalogue.

Facet counts, the home page's tallies and a piece's related pieces change only when a
piece, its byline or tags, a topic, a region or an author is written. Every such write
changes one database row, :class:`~library.catalogue.models.CatalogueGeneration`, in its
own transaction (signal handlers below), and cached values are keyed on that row. So:

* a page reads the row once (one primary-key lookup) and uses any value cached under it;
* the moment a write commits, every app instance reads the new row, and the old values
  are never looked up again (they age out of the cache): invalidation is shared through
  the database, with no cache server and no message between instances;
* the value is random per write, not only counted: a rolled-back write's value is never
  seen again, so a value computed inside a transaction that then rolled back can never be
  served.

The values themselves live in Django's cache (``CACHES``: per-process LocMem by default,
which is enough, since the key says which catalogue state a value belongs to).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

from library.catalogue.models import CatalogueGeneration

T = TypeVar("T")

#: Values are only ever stale by key, never by age; the timeout frees memory of keys no
#: generation will ask for again.
CACHE_SECONDS = 24 * 3600
_MISSING = object()


def _table() -> str:
    return CatalogueGeneration._meta.db_table


#: ``(token, transaction id)`` this connection last wrote, on PostgreSQL (see ``bump``).
_WRITTEN = "_catalogue_generation_written"


def bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """Mark the catalogue changed, in the caller's transaction (one single-row UPDATE).

    On PostgreSQL, once per transaction: a save sends several signals and an import saves
    thousands of pieces in one transaction, and every UPDATE of one row inside a single
    transaction adds a row version that the next UPDATE must walk past. The connection
    remembers the token it wrote with its transaction's id (64-bit, never reused); a later
    bump in the same transaction that still finds that token stops there. After a
    rollback the row no longer holds it, so the next write bumps again. SQLite updates the
    row in place, so it simply writes every time.
    """
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        written = getattr(connection, _WRITTEN, None)
        if postgres and written is not None:
            cursor.execute(
                f"SELECT token, pg_current_xact_id_if_assigned()::text FROM {_table()} WHERE id = 1"
            )
            if cursor.fetchone() == written:
                return
        token = secrets.token_hex(16)
        returning = " RETURNING pg_current_xact_id()::text" if postgres else ""
        cursor.execute(
            f"UPDATE {_table()} SET number = number + 1, token = %s WHERE id = 1{returning}",
            [token],
        )
        if cursor.rowcount == 0:  # a flushed test database: start again
            CatalogueGeneration.objects.using(using).get_or_create(pk=1, defaults={"token": token})
        elif postgres:
            setattr(connection, _WRITTEN, (token, cursor.fetchone()[0]))


def current(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The catalogue's generation as a cache-key part, or ``None``: do not cache now.

    ``None`` when there is no row (a flushed test database), and on PostgreSQL inside a
    transaction that has itself written to the catalogue: later writes in the same
    transaction do not change the row again (see :func:`bump`), so a value cached now
    could outlive the state it was computed from. (On SQLite every write changes the row,
    so a value cached mid-transaction is keyed on exactly the state it saw.)
    """
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    transaction_id = ", pg_current_xact_id_if_assigned()::text" if postgres else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number, token{transaction_id} FROM {_table()} WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return None
    if postgres and getattr(connection, _WRITTEN, None) == (row[1], row[2]):
        return None
    return f"{row[0]}.{row[1]}"


@dataclass(frozen=True)
class PageCache:
    """Values cached for one catalogue generation; read the generation once per request."""

    generation: str | None

    @classmethod
    def now(cls) -> PageCache:
        return cls(current())

    def get(self, name: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T:
        """``compute()``, or the value it gave for the same ``parts`` in this generation."""
        if self.generation is None:
            return compute()
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        key = f"catalogue:{name}:{self.generation}:{digest}"
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            cache.set(key, value, CACHE_SECONDS)
        return value  # type: ignore[return-value]


def changed(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_save / post_delete of a piece, authorship, author, topic or region."""
    bump(using)


def tags_changed(sender, action: str, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """m2m_changed of a piece's topics or regions, from either side."""
    if action in ("post_add", "post_remove", "post_clear"):
        bump(using)
