"""Rebuilding and checking the search index: the commands, /health/, benchmarks and tests.

``rebuild_index`` and ``check_index`` only parse options and print; the work is here, so
anything else that rebuilds or checks calls the same functions as the commands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from django.db import DatabaseError, connection, connections, transaction

from library.catalogue import generation
from library.catalogue.models import Piece
from library.search.backends import get_backend
from library.search.backends.base import IndexStatus, SearchBackend
from library.search.documents import documents_for, iter_documents
from library.search.outbox import pending
from library.search.sync import retry_pending
from library.search.tasks import request_upkeep

log = logging.getLogger(__name__)

# Called after each chunk with (pieces done, pieces in all, perf_counter at the start).
Progress = Callable[[int, int, float], None]


def rebuild(chunk: int = 500, progress: Progress | None = None) -> int:
    """Clear the configured index and add every piece, one transaction per chunk.

    An engine outside the database (Whoosh) builds a new index beside the one in use and
    swaps it in at the end, so a rebuild killed half-way changes nothing searchers see.
    """
    backend = get_backend()
    total = Piece.objects.count()
    started = time.perf_counter()
    backend.start_rebuild()
    done = 0
    try:
        for written in _write_chunks(backend, chunk):
            done += written
            if progress:
                progress(done, total, started)
    except BaseException:
        backend.abort_rebuild()
        raise
    backend.finish_rebuild()
    # Writes refused while it ran (and any older ones) go into the new index now.
    retry_pending(backend)
    # The worker checkpoints the WAL the rebuild filled (and merges, for an engine that
    # leaves that to it).
    request_upkeep(backend, always=backend.merges_in_upkeep)
    return done


def _write_chunks(backend: SearchBackend, chunk: int) -> Iterator[int]:
    """Write every piece in chunks, one transaction each; yields each chunk's count.

    On several connections at once when the engine allows it (PostgreSQL computes each
    piece's vectors in the server process of the connection that sends it, so one
    connection used one core). Inside a caller's transaction (a test) other connections
    could not see its pieces: one connection then. Saves made while the rebuild runs are
    never written over (``_write_in_transaction``, tests/search/test_rebuild_races.py).
    """
    workers = 1 if connection.in_atomic_block else backend.rebuild_workers
    ids = list(Piece.objects.order_by("pk").values_list("pk", flat=True))
    chunks = chunked(ids, chunk, backend.rebuild_span)
    if workers <= 1:
        for piece_ids in chunks:
            yield _write_in_transaction(backend, piece_ids)  # after the commit: no lock held
        return
    with ThreadPoolExecutor(workers) as pool:
        yield from pool.map(lambda piece_ids: _write_chunk(backend, piece_ids), chunks)


def chunked(ids: list[int], size: int, span: int = 1, spans: int = 32) -> Iterator[list[int]]:
    """``ids`` (ascending) in runs of ``size`` or more, cut only where ``id // span``
    changes, so that no span of ids is in two runs; with ``span`` above 1, also once a run
    reaches ``spans`` spans (an engine takes a lock for each)."""
    run: list[int] = []
    count = 0  # spans in the run
    for piece_id in ids:
        new_span = not run or piece_id // span != run[-1] // span
        if run and new_span and (len(run) >= size or (span > 1 and count >= spans)):
            yield run
            run, count = [], 0
        run.append(piece_id)
        count += new_span
    if run:
        yield run


def _write_chunk(backend: SearchBackend, piece_ids: list[int]) -> int:
    """One chunk on this thread's own connection, closed after (threads end with the pool)."""
    try:
        return _write_in_transaction(backend, piece_ids)
    finally:
        connections.close_all()


CHUNK_ATTEMPTS = 3


def _write_in_transaction(backend: SearchBackend, piece_ids: list[int]) -> int:
    """One chunk in its own transaction; the pieces written as they are when it commits.

    The documents are read before the transaction, so that SQLite's write lock is not held
    while they are (reading them inside cost ~5 % of a rebuild). Inside it, once the engine
    has locked the chunk against saves (``lock_chunk``), the catalogue's write record says
    whether anything was written since that read; if so they are read again. So no save
    comes between the documents written and their write: before, a save there was written
    over by the older copy, failed the rebuild (SQLite) or was itself lost (PostgreSQL).
    A chunk the database cancelled to break a deadlock with a save runs again
    (``SearchBackend.retryable``): it writes its pieces whole.
    """
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        read_at = generation.record()
        documents = documents_for(piece_ids)
        try:
            with transaction.atomic():
                backend.lock_chunk(piece_ids)
                if read_at is None or generation.record() != read_at:
                    documents = documents_for(piece_ids)
                return backend.add_bulk(documents)
        except DatabaseError as error:
            if attempt == CHUNK_ATTEMPTS or not backend.retryable(error):
                raise
            log.warning("Rebuild chunk from piece %d cancelled (%s); again", piece_ids[0], error)
    raise AssertionError("unreachable")  # the last attempt returns or raises


def check(backend: SearchBackend | None = None) -> IndexStatus:
    """Expected digests from the catalogue against what the backend holds."""
    backend = backend or get_backend()
    indexed = backend.indexed_digests()
    expected: dict[int, str] = {}
    for batch in iter_documents():
        expected.update((d.piece_id, d.digest) for d in batch)
    return IndexStatus(
        missing=sorted(set(expected) - set(indexed)),
        extra=sorted(set(indexed) - set(expected)),
        stale=sorted(pk for pk in set(expected) & set(indexed) if expected[pk] != indexed[pk]),
    )


def health() -> dict[str, object]:
    """For /health/: the engine, whether its index can answer (``problems()``), and how
    many index writes wait in the outbox.

    The problems are logged, not returned: the endpoint is public, and they name tables
    and paths.
    """
    backend = get_backend()
    found = backend.problems()
    for problem in found:
        log.error("Search index problem (%s): %s", backend.name, problem)
    waiting = pending()
    if not waiting.empty:
        log.warning(
            "%d search index write(s) pending since %s: %s",
            waiting.count,
            waiting.oldest,
            waiting.last_error,
        )
    # Pending writes are reported, not failed on: the instance still answers searches, and
    # the next write or the worker catches up (check_index exits non-zero on them).
    return {
        "engine": backend.name,
        "problems": len(found),
        "pending_writes": waiting.count,
        "ok": not found,
    }
