"""The search backend interface, chosen by ``settings.SEARCH_BACKEND``.

Like Django's cache backends: one small class per engine, the same methods, the same
results. An engine that lacks a feature raises ``NotImplementedError`` naming itself and
the feature, never returns an empty answer that would look like "no matches".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import DatabaseError

from library.search.documents import PieceDocument
from library.search.query import ParsedQuery
from library.search.results import Hit, SearchResults, Sort


class IndexUnavailable(Exception):
    """The index is missing or unreadable; ``rebuild_index`` fixes it."""


class EngineUnavailable(IndexUnavailable):
    """The configured engine cannot run here; the message says what to change."""


class IndexBusy(TimeoutError):
    """The index cannot take a write now (its lock is held, or a rebuild is running); the
    write goes to the outbox (``library.search.outbox``) and is retried."""


class QueryRejected(Exception):
    """The engine's own query parser (FTS5 MATCH, ``tsquery``) rejected a compiled query.

    Reader words reach those parsers only quoted, so this should not happen; when it does,
    the service retries with the plain words. Any other error is a bug and propagates.
    """


@dataclass(frozen=True)
class IndexStatus:
    """What check_index reports: ids in the database, in the index, and stale rows."""

    missing: list[int]  # in the database, not in the index
    extra: list[int]  # in the index, not in the database
    stale: list[int]  # in both, but the indexed text is out of date

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale)


class SearchBackend:
    """Base class: subclasses implement every method or raise NotImplementedError."""

    name = "base"
    # Whether writes happen inside the saving transaction (database) or after commit.
    transactional = False

    def add(self, document: PieceDocument) -> None:
        """Index one piece, replacing any previous version of it."""
        raise NotImplementedError(f"{self.name} does not support add")

    def add_bulk(self, documents: Iterable[PieceDocument]) -> int:
        """Index many pieces at once; returns how many were written."""
        count = 0
        for document in documents:
            self.add(document)
            count += 1
        return count

    def delete(self, piece_id: int) -> None:
        """Remove one piece from the index (a no-op if it is not there)."""
        raise NotImplementedError(f"{self.name} does not support delete")

    def write(self, documents: list[PieceDocument], deleted: list[int]) -> None:
        """Index ``documents`` and remove ``deleted`` (engines with a writer lock: at once)."""
        self.add_bulk(documents)
        for piece_id in deleted:
            self.delete(piece_id)

    def optimize(self) -> None:
        """Compact the index after a rebuild (nothing to do for most engines)."""

    # Whether ``upkeep`` merges index segments (then a rebuild asks for it when it ends).
    merges_in_upkeep = False

    def upkeep_due(self) -> bool:
        """Whether index upkeep (``upkeep``) has work waiting; cheap, asked after each write."""
        return False

    def upkeep(self) -> dict[str, int]:
        """Work an engine defers from the saving request (the worker's ``maintain_index``
        task); returns what it did, by name. Nothing for most engines."""
        return {}

    def clear(self) -> None:
        """Empty the index."""
        raise NotImplementedError(f"{self.name} does not support clear")

    # How many connections rebuild_index may write on at once (each its own transactions).
    # One for engines whose writes serialize anyway (SQLite, Whoosh).
    rebuild_workers = 1
    # rebuild_index cuts its chunks only between pieces whose ids differ in ``id //
    # rebuild_span``: an engine that locks pieces against a chunk in spans of ids
    # (PostgreSQL) never has two chunks waiting for one span.
    rebuild_span = 1

    def lock_chunk(self, piece_ids: list[int]) -> None:
        """Keep saves of a rebuild's chunk of pieces waiting until its transaction ends
        (engines whose rebuild writes beside saves on other connections: PostgreSQL).
        SQLite's IMMEDIATE transaction already holds the one write lock."""

    def retryable(self, error: DatabaseError) -> bool:
        """Whether a rebuild's chunk that failed with ``error`` may simply run again: the
        database cancelled it to break a deadlock with a save (PostgreSQL)."""
        return False

    def reserve(self, piece_ids: list[int]) -> None:
        """Keep rebuild chunks off these pieces until the transaction ends.

        For an engine whose rebuild writes beside saves (PostgreSQL's ``add`` and
        ``delete`` reserve their own piece); called before a write of several pieces, so
        that it waits for a chunk, if it must, before it holds any row the chunk needs.
        """

    def start_rebuild(self) -> None:
        """Empty the index before rebuild_index writes every piece again."""
        self.clear()

    def finish_rebuild(self) -> None:
        """Make the rebuilt index ready for searching."""
        self.optimize()

    def abort_rebuild(self) -> None:
        """A rebuild failed half-way: undo what ``start_rebuild`` holds (nothing, mostly)."""

    def problems(self) -> list[str]:
        """What is wrong with the index itself (missing, unreadable, incomplete), for
        check_index and /health/; [] when it can answer searches."""
        return []

    def search(
        self, query: ParsedQuery, *, sort: Sort = Sort.RELEVANCE, offset: int = 0, limit: int = 20
    ) -> SearchResults:
        """Ranked hits for the query with snippets, the total and facet counts."""
        raise NotImplementedError(f"{self.name} does not support search")

    def suggest(self, word: str) -> str:
        """A better-spelt word from the index vocabulary, or "" when none is close."""
        raise NotImplementedError(f"{self.name} does not support suggest")

    def document_count(self, word: str) -> int:
        """How many pieces contain ``word`` (after the engine's stemming and folding)."""
        raise NotImplementedError(f"{self.name} does not support document_count")

    def related(self, document: PieceDocument, limit: int = 5) -> list[Hit]:
        """Pieces most similar in text to ``document`` (the piece itself excluded)."""
        raise NotImplementedError(f"{self.name} does not support related")

    def indexed_digests(self) -> dict[int, str]:
        """piece id -> digest of what the index holds, for check_index."""
        raise NotImplementedError(f"{self.name} does not support indexed_digests")

    def size_bytes(self) -> int:
        """Bytes on disk used by the index (for benchmarks)."""
        raise NotImplementedError(f"{self.name} does not support size_bytes")
