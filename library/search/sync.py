"""Keep the index in step with the catalogue: one path, from the signals to the engine.

Every change reaches the index the same way: the signal handlers in ``signals.py``
(registered for the indexed models only, in ``apps.py``) call :func:`index_pieces`, and
nothing else does. Signals rather than calls from the saving code, because they also see
the doors that do not go through ``services.save_piece``: the admin, a renamed topic or
author, a deleted piece, a tag removed from the other side. ``save_piece`` only wraps its
writes in :func:`deferred`, so the dozen signals of one save (the piece, each tag change,
each byline row) become one index write per piece.

Where the write happens follows ``../shared/DESIGN.md`` (the database is the source of
truth; an index write never blocks or loses a save). The database engine (FTS5,
``tsvector``) writes inside the transaction that saves the piece, so the index commits or
rolls back with it. Engines outside the database (Whoosh) are written after commit, once
per piece per transaction however many signals fired, and a failure there never undoes or
blocks the save: the pieces are recorded in the outbox (``outbox.py``) and written by the
next write that succeeds, by the worker, or by ``rebuild_index`` (:func:`retry_pending`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from django.db import transaction
from django.db.models import QuerySet

from library.search import outbox
from library.search.backends import get_backend
from library.search.backends.base import IndexUnavailable, SearchBackend
from library.search.documents import documents_for
from library.search.tasks import request_upkeep

log = logging.getLogger(__name__)


def index_piece(piece_id: int) -> None:
    """Bring the index up to date for one piece (added, changed or deleted)."""
    index_pieces([piece_id])


def index_pieces(piece_ids: Iterable[int]) -> None:
    backend = get_backend()
    ids = sorted(set(piece_ids))
    if not ids:
        return
    if backend.transactional:
        pending = _deferred.get(transaction.get_connection())
        if pending is not None:
            pending.update(ids)
        else:
            _write(backend, ids)
    else:
        _Batch.schedule(ids)


# The ids noted inside a deferred() block, kept with the database connection whose
# transaction they belong to (Django gives each thread its own connection).
_deferred: WeakKeyDictionary[object, set[int]] = WeakKeyDictionary()


@contextmanager
def deferred() -> Iterator[None]:
    """Collect the pieces that signals mark as changed and index each once, on exit.

    One ``save_piece`` fires a signal for the piece, every tag change and every byline
    row; inside this block they only note the piece id, and the index is written once
    when the block ends. Use it inside the saving transaction, so the index rows still
    commit or roll back with the piece. An exception discards the pending ids (the
    transaction is rolling back anyway). Nested blocks write when the outermost one ends.
    Engines outside the database already write once per transaction, after commit.
    """
    connection = transaction.get_connection()
    if connection in _deferred:
        yield
        return
    _deferred[connection] = set()
    try:
        yield
        ids = _deferred[connection]
    finally:
        del _deferred[connection]
    index_pieces(ids)


def index_queryset(pieces: QuerySet) -> None:
    """Reindex every piece in ``pieces`` (a renamed topic, author or region)."""
    index_pieces(pieces.values_list("pk", flat=True))


def _write(backend, ids: list[int]) -> None:
    documents = documents_for(ids)
    gone = sorted(set(ids) - {d.piece_id for d in documents})
    if not backend.transactional:
        backend.write(documents, gone)  # one writer (one lock, one commit) for all of them
        return
    if len(ids) > 1:
        # All at once, before any piece's rows (see SearchBackend.reserve); a single piece
        # is reserved by add or delete itself.
        backend.reserve(ids)
    for document in documents:
        backend.add(document)
    for piece_id in gone:
        backend.delete(piece_id)
    # Work FTS5 and SQLite's WAL would do in this commit goes to the worker (tasks.py).
    request_upkeep(backend)


RETRY_BATCH = 500


def retry_pending(backend: SearchBackend | None = None) -> tuple[int, int]:
    """Write the pieces the outbox holds, as they are now; returns (written, still pending).

    Stops at the first failure (the index is still locked or missing), counting it against
    the rows it tried. Under the database engine the rows are Whoosh's, left from before a
    switch of engines: that engine indexes in the saving transaction and owes nothing, and
    going back to Whoosh needs ``rebuild_index`` anyway, so they are dropped (and logged).
    """
    backend = backend or get_backend()
    written = last = 0
    if backend.transactional:
        dropped = outbox.clear()
        if dropped:
            log.warning(
                "Dropped %d pending Whoosh index writes: the %s engine is in use",
                dropped,
                backend.name,
            )
        return 0, 0
    while rows := outbox.batch_after(last, RETRY_BATCH):
        try:
            _write(backend, [piece_id for _, piece_id, _ in rows])
        except (IndexUnavailable, TimeoutError, OSError) as exc:  # kept on the rows
            outbox.failed_again(rows, outbox.describe(exc))
            log.warning("Retrying %d pending index writes failed: %s", len(rows), exc)
            break
        outbox.done(rows)
        written += len(rows)
        last = rows[-1][0]
    return written, outbox.count()


class _Batch:
    """Piece ids to write after the current transaction commits, one callback per batch."""

    _open: dict[int, _Batch] = {}

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.flushed = False

    @classmethod
    def schedule(cls, ids: list[int]) -> None:
        connection = transaction.get_connection()
        batch = cls._open.get(id(connection))
        queued = (
            batch is not None
            and not batch.flushed
            and any(
                getattr(entry[1], "__self__", None) is batch for entry in connection.run_on_commit
            )
        )
        if batch is not None and queued:
            batch.ids.update(ids)
            return
        batch = cls()
        batch.ids.update(ids)
        cls._open[id(connection)] = batch
        # Outside a transaction this runs at once, which is why the ids go in first.
        transaction.on_commit(batch.flush, robust=True)

    def flush(self) -> None:
        self.flushed = True
        ids, self.ids = sorted(self.ids), set()
        backend = get_backend()
        for start in range(0, len(ids), WRITE_CHUNK):  # a 100,000-piece import: in chunks
            try:
                _write(backend, ids[start : start + WRITE_CHUNK])
            except Exception as exc:
                # The save has committed and must not become an error: this chunk and the
                # rest (the lock would only be waited for again) are kept in the outbox,
                # whatever stopped them: a held lock, a rebuild, a missing index, or a bug.
                _keep(ids[start:], exc)
                return
        retry_pending(backend)  # the next writer drains what earlier ones could not write


WRITE_CHUNK = 500


def _keep(ids: list[int], exc: Exception) -> None:
    expected = isinstance(exc, IndexUnavailable | TimeoutError | OSError)
    log.warning(
        "Search index not updated for %d piece(s) (%s); kept in the outbox",
        len(ids),
        exc,
        exc_info=not expected,  # a bug: its traceback
    )
    first = outbox.count() == 0
    outbox.record(ids, outbox.describe(exc))
    if first:
        from library.search.tasks import schedule_retry

        schedule_retry()
