"""The default engine: the catalogue's own database.

SQLite uses FTS5 (``sqlite_fts5``). The backend picks its dialect from the connection's
vendor, so a PostgreSQL dialect (weighted ``tsvector`` + GIN) slots in beside it without
changing callers. Index rows are written on the saving connection, inside the transaction
that saves the piece: a rolled-back save leaves no index row behind.
"""

from __future__ import annotations

from django.db import connection

from library.search.backends.base import EngineUnavailable, SearchBackend


class DatabaseBackend(SearchBackend):
    name = "database"
    transactional = True

    def __new__(cls) -> SearchBackend:  # type: ignore[misc]
        if connection.vendor == "sqlite":
            from library.search.backends.sqlite_fts5 import SQLiteFTS5Backend

            return super().__new__(SQLiteFTS5Backend)
        if connection.vendor == "postgresql":
            from library.search.backends.postgres import PostgresBackend

            return super().__new__(PostgresBackend)
        return super().__new__(NoDialectBackend)


class NoDialectBackend(DatabaseBackend):
    """A database without a search dialect (neither SQLite nor PostgreSQL).

    Saving pieces must keep working, so writes do nothing; every read says plainly that
    search is unavailable and what to do, rather than answering "no matches".
    """

    def _unavailable(self) -> EngineUnavailable:
        return EngineUnavailable(
            f"Full-text search has no {connection.vendor} dialect yet; "
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
