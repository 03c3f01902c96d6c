"""The default engine: the catalogue's own database, in the dialect of its vendor.

SQLite uses FTS5 (``sqlite/``), PostgreSQL a weighted ``tsvector`` with GIN indexes
(``postgres/``). ``database_backend`` picks the dialect from the connection's vendor, so
callers never name one. Index rows are written on the saving connection, inside the
transaction that saves the piece: a rolled-back save leaves no index row behind.
"""

from __future__ import annotations

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from library.search.backends.base import EngineUnavailable, SearchBackend
from library.search.backends.database.postgres.backend import PostgresBackend
from library.search.backends.database.sqlite.backend import SQLiteFTS5Backend

DIALECTS: dict[str, type[SQLiteFTS5Backend | PostgresBackend]] = {
    "sqlite": SQLiteFTS5Backend,
    "postgresql": PostgresBackend,
}


def database_backend(
    connection: BaseDatabaseWrapper | None = None,
) -> SQLiteFTS5Backend | PostgresBackend | NoDialectBackend:
    """A new backend in the dialect of the connection's vendor (default: the default one)."""
    vendor = (connection or default_connection).vendor
    dialect = DIALECTS.get(vendor)
    return dialect() if dialect is not None else NoDialectBackend(vendor)


class NoDialectBackend(SearchBackend):
    """A database without a search dialect (neither SQLite nor PostgreSQL).

    Saving pieces must keep working, so writes do nothing; every read says plainly that
    search is unavailable and what to do, rather than answering "no matches".
    """

    name = "database"
    transactional = True

    def __init__(self, vendor: str = "") -> None:
        self.vendor = vendor or default_connection.vendor

    def _unavailable(self) -> EngineUnavailable:
        return EngineUnavailable(
            f"Full-text search has no {self.vendor} dialect yet; "
            "set SEARCH_BACKEND=whoosh and run python manage.py rebuild_index."
        )

    def add(self, document) -> None:
        """No index to write to (see the class docstring)."""

    def delete(self, piece_id: int) -> None:
        """No index to write to (see the class docstring)."""

    def clear(self) -> None:
        raise self._unavailable()

    def search(self, query, **kwargs):
        raise self._unavailable()

    def suggest(self, word: str) -> str:
        raise self._unavailable()

    def document_count(self, word: str) -> int:
        raise self._unavailable()

    def related(self, document, limit: int = 5):
        raise self._unavailable()

    def indexed_digests(self) -> dict[int, str]:
        raise self._unavailable()

    def problems(self) -> list[str]:
        return [str(self._unavailable())]
