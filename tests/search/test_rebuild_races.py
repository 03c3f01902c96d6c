"""Saves while ``rebuild_index`` runs: every piece ends indexed as it was last saved.

A rebuild writes the catalogue in chunks, one transaction each, while editors go on
saving. Each test puts another request's save (or deletion) of a piece at one moment of
the rebuild, on its own connection, and checks the index against the catalogue after:

- before the rebuild reaches the piece (its chunk comes later);
- after the rebuild has read the chunk's documents, before the chunk's transaction;
- after the chunk has written the piece's rows, before it commits.

On the code before these tests (run against it): on SQLite a save at the first or second
moment failed the rebuild on a duplicate row, and a deletion at the second left a row for
a piece no longer there; on PostgreSQL a save at the second moment was written over by the
copy the chunk had read (a stale row), one at the third failed on a duplicate key (the
editor's save lost), and a deletion at either left a row. The last test is PostgreSQL's
one way left for a chunk and a save to wait for each other, and what the rebuild does.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from library.catalogue.authors import parse_name
from library.catalogue.models import Piece
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.search import documents, maintenance
from library.search.backends import get_backend
from library.search.query import parse_query

pytestmark = pytest.mark.django_db(transaction=True)


class OtherRequest:
    """A save or deletion of one piece on a thread of its own (its own connection), as
    another request would make it while the rebuild runs."""

    def __init__(self, change: Callable[[], None]) -> None:
        self.change = change
        self.pid: int | None = None
        self.waited = False  # seen waiting for a lock (PostgreSQL only: SQLite cannot say)
        self.errors: list[BaseException] = []
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    self.pid = cursor.fetchone()[0]
            self.started.set()
            self.change()
        except BaseException as exc:  # reported by finish(), on the test's thread
            self.errors.append(exc)
        finally:
            self.started.set()
            connections.close_all()

    def start_and_let_it_run(self) -> None:
        """Start it, and return once it has finished or waits for a lock (the rebuild's).

        PostgreSQL says when a connection waits for a lock; SQLite does not, so there a
        second without finishing counts as waiting (an unhindered save takes milliseconds).
        """
        self.thread.start()
        assert self.started.wait(30)
        deadline = time.monotonic() + (30 if self.pid else 1)
        while self.thread.is_alive() and time.monotonic() < deadline:
            if self.pid and _waits_for_a_lock(self.pid):
                self.waited = True
                return
            time.sleep(0.02)
        if self.pid:
            assert not self.thread.is_alive(), "the other request neither ended nor waited"

    def finish(self) -> None:
        self.thread.join(60)
        assert not self.thread.is_alive()
        assert self.errors == []


def _waits_for_a_lock(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        # Asked inside a transaction, PostgreSQL would answer from its first snapshot.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def _until_it_waits_for_a_lock(pid: int) -> None:
    deadline = time.monotonic() + 30
    while not _waits_for_a_lock(pid):
        assert time.monotonic() < deadline, f"connection {pid} never waited for a lock"
        time.sleep(0.02)


def edit(piece_id: int, title: str) -> Callable[[], None]:
    def change() -> None:
        piece = Piece.objects.get(pk=piece_id)
        piece.title = title
        contributors = PieceContributors(authors=[parse_name("Abdul Basit")])
        save_piece(piece, contributors, PieceTags(topics=[], regions=[]))

    return change


def delete(piece_id: int) -> Callable[[], None]:
    def change() -> None:
        with transaction.atomic():
            Piece.objects.get(pk=piece_id).delete()

    return change


@pytest.fixture
def own_connections(tmp_path: Path) -> Iterator[None]:
    """On SQLite, the test database copied to a file for the test's length.

    The test database is one in memory, shared between connections in SQLite's shared
    cache, where a second writer fails at once ("database table is locked") instead of
    waiting as it does on a file: the rebuild and the other request would never overlap.
    """
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    memory, name = connection.connection, connection.settings_dict["NAME"]
    path = tmp_path / "catalogue.sqlite3"
    copy = sqlite3.connect(path)
    memory.backup(copy)
    copy.close()
    connection.connection = None  # the next use opens the file, as every thread's does
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = memory


@pytest.fixture
def catalogue(own_connections, empty_index, make_piece, monkeypatch) -> list[Piece]:
    """Three pieces, each its own chunk (a chunk holds whole spans of ids)."""
    monkeypatch.setattr(type(empty_index), "rebuild_span", 1)
    return [make_piece(f"Piece {word}", body=f"{word} text") for word in ("one", "two", "three")]


def titles_found(word: str) -> list[str]:
    found = get_backend().search(parse_query(word), limit=10)
    titles = dict(Piece.objects.values_list("pk", "title"))
    return sorted(titles.get(hit.piece_id, f"(deleted piece {hit.piece_id})") for hit in found.hits)


def assert_index_matches_the_catalogue() -> None:
    status = maintenance.check()
    assert (status.missing, status.extra, status.stale) == ([], [], [])


def when_the_rebuild_reads(piece: Piece, request: OtherRequest, monkeypatch) -> None:
    """Run ``request`` right after the rebuild has read the chunk holding ``piece``."""
    real = maintenance.documents_for

    def reading(ids):
        found = real(ids)
        ids = list(ids)
        # Once, on the rebuild's read (not the other request's own, on its thread).
        if piece.pk in ids and request.thread.ident is None:
            request.start_and_let_it_run()
        return found

    # Where the rebuild reads (and ``iter_documents``, where the last stop's code did).
    for module in (documents, maintenance):
        monkeypatch.setattr(module, "documents_for", reading)


def when_the_rebuild_has_written(piece: Piece, request: OtherRequest, monkeypatch) -> None:
    """Run ``request`` right after the rebuild's chunk holding ``piece`` wrote its rows,
    before that chunk's transaction commits."""
    backend = get_backend()
    real = backend.add_bulk

    def writing(batch):
        batch = list(batch)
        written = real(batch)
        if any(d.piece_id == piece.pk for d in batch) and request.thread.ident is None:
            request.start_and_let_it_run()  # once, the first time the piece is written
        return written

    monkeypatch.setattr(backend, "add_bulk", writing)


def test_a_piece_saved_before_the_rebuild_reaches_it_is_indexed_as_saved(catalogue, monkeypatch):
    first, _second, last = catalogue
    request = OtherRequest(edit(last.pk, "Piece falcon"))
    when_the_rebuild_reads(first, request, monkeypatch)  # the first chunk; the piece's is last
    assert maintenance.rebuild(chunk=1) == 3
    request.finish()
    assert titles_found("falcon") == ["Piece falcon"]
    assert titles_found("three") == ["Piece falcon"]  # the body, still indexed
    assert_index_matches_the_catalogue()


@pytest.mark.parametrize("moment", [when_the_rebuild_reads, when_the_rebuild_has_written])
def test_a_piece_saved_while_its_chunk_is_written_is_indexed_as_saved(
    catalogue, monkeypatch, moment
):
    piece = catalogue[1]
    request = OtherRequest(edit(piece.pk, "Piece falcon"))
    moment(piece, request, monkeypatch)
    assert maintenance.rebuild(chunk=1) == 3
    request.finish()
    if moment is when_the_rebuild_has_written:
        # It waited for the chunk's commit, then replaced the rows the chunk wrote.
        assert request.waited or connection.vendor == "sqlite"
    assert titles_found("falcon") == ["Piece falcon"]
    assert titles_found("two") == ["Piece falcon"]
    assert_index_matches_the_catalogue()


@pytest.mark.parametrize("moment", [when_the_rebuild_reads, when_the_rebuild_has_written])
def test_a_piece_deleted_while_its_chunk_is_written_leaves_no_row(catalogue, monkeypatch, moment):
    piece = catalogue[1]
    request = OtherRequest(delete(piece.pk))
    moment(piece, request, monkeypatch)
    written = maintenance.rebuild(chunk=1)
    request.finish()
    if moment is when_the_rebuild_has_written:
        assert request.waited or connection.vendor == "sqlite"
    assert written in (2, 3)  # whether the chunk read the piece before it was deleted
    assert titles_found("two") == []
    assert titles_found("text") == ["Piece one", "Piece three"]
    assert_index_matches_the_catalogue()


@pytest.mark.postgresql
def test_a_chunk_cancelled_to_break_a_deadlock_with_a_save_runs_again(catalogue, monkeypatch):
    """A transaction that writes the index twice holds the word counts of its first write
    while its second waits for a chunk's span; the chunk, meanwhile, waits for those
    counts. PostgreSQL cancels the one that waited first, here the chunk: it runs again
    once the save has committed, and writes the piece as saved."""
    first, second, _third = catalogue
    wrote_first, cancelled = threading.Event(), []
    chunk: list[int] = []  # the connection writing the second piece's chunk

    def two_writes() -> None:
        with transaction.atomic():
            # A word of the second piece's too: its count is now held to the end.
            edit(first.pk, "Piece two kestrel")()
            wrote_first.set()
            _until_it_waits_for_a_lock(chunk[0])  # the chunk, for that count
            edit(second.pk, "Piece falcon")()  # waits for the chunk's span: a deadlock

    request = OtherRequest(two_writes)
    real = maintenance.documents_for

    def reading(ids):
        found = real(ids)
        if second.pk in ids and request.thread.ident is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                chunk.append(cursor.fetchone()[0])
            request.thread.start()
            assert wrote_first.wait(30)  # the chunk goes on to write while it holds them
        return found

    monkeypatch.setattr(maintenance, "documents_for", reading)
    retryable = type(get_backend()).retryable

    def noting(self, error):
        cancelled.append(error)
        return retryable(self, error)

    monkeypatch.setattr(type(get_backend()), "retryable", noting)
    assert maintenance.rebuild(chunk=1) == 3
    request.finish()
    assert len(cancelled) == 1
    assert "deadlock" in str(cancelled[0])
    assert titles_found("kestrel") == ["Piece two kestrel"]
    assert titles_found("falcon") == ["Piece falcon"]
    assert_index_matches_the_catalogue()
