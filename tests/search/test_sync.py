"""The index follows the catalogue: in the same transaction (database), after commit (Whoosh)."""

from __future__ import annotations

import datetime
import multiprocessing

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from library.catalogue.models import Author, Piece, Topic
from library.search import documents, service
from library.search.backends.base import IndexUnavailable
from library.search.backends.database.postgres.schema import DOC_TABLE
from library.search.backends.database.sqlite.compiler import FTS_TABLE
from library.search.documents import PieceDocument
from library.search.maintenance import check

pytestmark = pytest.mark.django_db


def index_table() -> tuple[str, str]:
    """The database engine's index table and its piece id column, for this database."""
    return (DOC_TABLE, "piece_id") if connection.vendor == "postgresql" else (FTS_TABLE, "rowid")


def indexed_ids() -> set[int]:
    table, column = index_table()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        return {row[0] for row in cursor.fetchall()}


def test_a_rolled_back_save_leaves_no_index_row(database_engine, make_piece):
    seen_inside: list[set[int]] = []

    def save_then_fail() -> None:
        with transaction.atomic():
            make_piece("Rolled back")
            seen_inside.append(indexed_ids())  # written inside the transaction…
            raise RuntimeError("the save fails after the index write")

    with pytest.raises(RuntimeError):
        save_then_fail()
    assert len(seen_inside[0]) == 1
    assert indexed_ids() == set()  # …and gone with it


def test_every_kind_of_change_reaches_the_index(database_engine, make_piece):
    piece = make_piece("Original title", topics=("terrorism",))
    assert check(database_engine).ok
    piece.title = "Changed title"
    piece.save()
    Topic.objects.filter(slug="terrorism").get().save()  # unchanged: still in step
    topic = Topic.objects.get(slug="terrorism")
    topic.name = "Political terrorism"
    topic.save()
    author = Author.objects.get()
    author.family = "Renamed"
    author.save()
    assert check(database_engine).ok
    assert service.search("renamed political changed").total == 1
    topic.pieces.clear()
    assert check(database_engine).ok
    piece.delete()
    assert indexed_ids() == set()


def test_check_index_fails_on_drift_and_rebuild_repairs_it(database_engine, make_piece, capsys):
    one = make_piece("One")
    make_piece("Two")
    call_command("check_index")
    table, column = index_table()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET digest = 'stale' WHERE {column} = %s", [one.pk])
    with pytest.raises(CommandError, match="drifted"):  # manage.py exits 1 on CommandError
        call_command("check_index")
    assert "out of date in the index: 1" in capsys.readouterr().out
    call_command("rebuild_index")
    assert "Indexed 2 pieces" in capsys.readouterr().out
    call_command("check_index")


def test_an_index_from_another_analysis_version_is_stale_until_rebuilt(
    database_engine, make_piece, monkeypatch, capsys
):
    # Pieces indexed before the engines split words differently must be reported, since
    # their rows hold the old words: the digest carries the analysis version.
    make_piece("Israel/Palestine")
    make_piece("Two")
    call_command("check_index")
    monkeypatch.setattr(documents, "ANALYSIS", documents.ANALYSIS + "-next")
    with pytest.raises(CommandError, match="drifted"):
        call_command("check_index")
    assert "out of date in the index: 2" in capsys.readouterr().out
    call_command("rebuild_index")
    call_command("check_index")


def test_whoosh_updates_after_commit_only(
    whoosh_engine, make_piece, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        piece = make_piece("After commit")
        assert whoosh_engine.indexed_digests() == {}
    assert len(callbacks) == 1  # one batch for the piece, however many signals fired
    callbacks[0]()
    assert set(whoosh_engine.indexed_digests()) == {piece.pk}


def test_a_broken_whoosh_index_never_blocks_a_save(
    whoosh_engine, make_piece, django_capture_on_commit_callbacks, caplog
):
    from library.search.models import PendingIndexWrite

    for path in whoosh_engine.index_folder().iterdir():
        path.write_bytes(b"garbage")
    with django_capture_on_commit_callbacks(execute=True):
        piece = make_piece("Saved anyway")
    assert Piece.objects.filter(pk=piece.pk).exists()
    assert "kept in the outbox" in caplog.text
    assert list(PendingIndexWrite.objects.values_list("piece_id", flat=True)) == [piece.pk]
    result = service.search("saved")
    assert "rebuilding" in result.index_error


def test_a_missing_whoosh_index_says_it_needs_rebuilding(settings, tmp_path, db, client):
    settings.SEARCH_BACKEND = "whoosh"
    settings.WHOOSH_INDEX_DIR = tmp_path / "never-built"
    response = client.get("/search/", {"q": "mosul"})
    assert response.status_code == 200
    assert "rebuild_index" in response.content.decode()


def _doc(pk: int) -> PieceDocument:
    return PieceDocument(
        pk, f"Title {pk}", "Author", "", "Synopsis", "Body", 2016, "report", f"k{pk}"
    )


def _add_many(location: str, start: int) -> None:
    from library.search.backends.whoosh import WhooshBackend

    backend = WhooshBackend(location)
    for pk in range(start, start + 15):
        backend.add(_doc(pk))


def test_two_processes_writing_whoosh_at_once_lose_nothing(whoosh_engine):
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_add_many, args=(str(whoosh_engine.location), start))
        for start in (1, 101)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert set(whoosh_engine.indexed_digests()) == set(range(1, 16)) | set(range(101, 116))


@pytest.fixture
def commit_after_listing(whoosh_engine, monkeypatch):
    """Arms a commit by another writer to land just after Whoosh's ``at``-th TOC listing.

    That is the window two processes writing at once hit now and then: the commit deletes
    the TOC just listed, before the open reads it. Holding it open makes the race certain.
    ``arm(at)`` returns the generations listed just before that commit (empty if it never
    came).
    """
    from whoosh.index import TOC

    from library.search.backends.whoosh import WhooshBackend

    latest_generation = TOC._latest_generation
    other_writer = WhooshBackend(str(whoosh_engine.location))
    listings: list[int] = []
    interleaved: list[int] = []

    def arm(at: int) -> list[int]:
        def list_then_let_another_writer_commit(storage, indexname):
            generation = latest_generation(storage, indexname)
            listings.append(generation)
            if len(listings) == at:
                interleaved.append(generation)
                other_writer.add(_doc(2))
            return generation

        monkeypatch.setattr(TOC, "_latest_generation", list_then_let_another_writer_commit)
        return interleaved

    return arm


def test_a_whoosh_writer_opens_past_a_commit_that_removed_the_toc_it_listed(
    whoosh_engine, commit_after_listing
):
    interleaved = commit_after_listing(at=1)  # opening the index, before the writer's lock
    whoosh_engine.add(_doc(1))
    assert interleaved  # the other writer's commit did land in the window
    assert set(whoosh_engine.indexed_digests()) == {1, 2}


# The second listing is the searcher's: Whoosh's FileIndex.reader retries that one itself.
@pytest.mark.parametrize("at", [1, 2], ids=["opening the index", "opening its searcher"])
def test_a_whoosh_search_opens_past_a_commit_that_removed_the_toc_it_listed(
    whoosh_engine, commit_after_listing, at
):
    interleaved = commit_after_listing(at=at)
    assert set(whoosh_engine.indexed_digests()) == {2}
    assert interleaved


def test_the_whoosh_lock_times_out_instead_of_waiting_forever(whoosh_engine, settings):
    from whoosh import index

    whoosh_engine.lock_timeout = 0.2
    holder = index.open_dir(str(whoosh_engine.index_folder())).writer()
    try:
        with pytest.raises(TimeoutError, match="stayed locked"):
            whoosh_engine.add(_doc(1))
    finally:
        holder.cancel()
    whoosh_engine.add(_doc(1))
    assert set(whoosh_engine.indexed_digests()) == {1}


def test_pieces_saved_before_the_search_app_existed_are_indexed_by_migrate(
    database_engine, make_piece
):
    from library.search.apps import index_existing_pieces

    make_piece("Old piece", date=datetime.date(2001, 1, 1))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {index_table()[0]}")
    index_existing_pieces(sender=None, verbosity=0)
    assert service.search("old piece").total == 1


def test_a_database_without_a_search_dialect_keeps_saving_and_says_search_is_unavailable(db):
    from library.search.backends.database import NoDialectBackend

    backend = NoDialectBackend("oracle")  # what a database without a dialect gets
    backend.add(_doc(1))  # writes are no-ops: saving must keep working
    backend.delete(1)
    result = service.search("mosul", backend=backend)
    assert "no" in result.index_error
    assert "SEARCH_BACKEND=whoosh" in result.index_error
    with pytest.raises(IndexUnavailable):
        backend.indexed_digests()


def test_one_save_writes_the_index_once_inside_its_transaction(
    database_engine, make_piece, monkeypatch
):
    from library.search import sync

    written: list[list[int]] = []
    original = sync._write

    def counting(backend, ids):
        written.append(list(ids))
        with connection.cursor() as cursor:  # the piece row is visible: same transaction
            cursor.execute("SELECT count(*) FROM catalogue_piece WHERE id IN (%s)", ids[:1])
            assert cursor.fetchone()[0] == 1
        return original(backend, ids)

    monkeypatch.setattr(sync, "_write", counting)
    piece = make_piece("Once only", authors=("Abdul Basit", "Zoë Ng"), topics=("terrorism",))
    assert written == [[piece.pk]]
    assert service.search("once only").total == 1


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_deleting_a_piece_removes_it_without_indexing_it_again_first(
    database_engine, make_piece, monkeypatch, how
):
    """Django deletes the byline rows before the piece; their signal indexed the piece once
    more (without its byline) just before the piece's own signal removed it."""
    kept = make_piece("Kept", authors=("Abdul Basit",))
    gone = make_piece("Gone", authors=("Abdul Basit", "Zoë Ng"))
    added: list[int] = []
    original = type(database_engine).add

    def add(self, document: PieceDocument) -> None:
        added.append(document.piece_id)
        original(self, document)

    monkeypatch.setattr(type(database_engine), "add", add)
    if how == "instance":
        gone.delete()
    else:
        Piece.objects.filter(pk=gone.pk).delete()
    assert added == []
    assert indexed_ids() == {kept.pk}
    assert check(database_engine).ok
    kept.authorships.get().delete()  # a byline row deleted on its own still re-indexes
    assert added == [kept.pk]
    assert service.search("author:basit").total == 0


def test_a_failing_deferred_block_writes_nothing(database_engine, make_piece):
    from library.search import sync

    def save_then_fail() -> None:
        with transaction.atomic(), sync.deferred():
            make_piece("Never indexed")
            raise RuntimeError("fails before the block ends")

    with pytest.raises(RuntimeError):
        save_then_fail()
    assert indexed_ids() == set()
    make_piece("Indexed afterwards")  # the pending set was cleared
    assert len(indexed_ids()) == 1


def test_a_filtered_search_ranks_like_the_unfiltered_one(database_engine, make_piece):
    dates = [datetime.date(y, 1, 1) for y in (2015, 2016, 2020, 2017)]
    make_piece("Coin coin coin", date=dates[0])
    make_piece("Notes", synopsis="A coin.", date=dates[1])
    make_piece("Coin hoard", date=dates[2])
    make_piece("Coin", body="coin " * 50, date=dates[3])
    everything = [p.citation_key for p, _ in service.search("coin").entries]
    filtered = service.search("coin year:2014..2017")
    assert [p.citation_key for p, _ in filtered.entries] == [
        key for key in everything if not key.endswith("2020coin")
    ]
    assert filtered.total == 3
    assert [h.score for _, h in filtered.entries] == sorted(
        (h.score for _, h in filtered.entries), reverse=True
    )


def test_the_outbox_keeps_any_number_of_writes_and_one_retry_writes_them_all(
    whoosh_engine, make_piece
):
    from library.search import outbox
    from library.search.models import IndexOperation, PendingIndexWrite
    from library.search.sync import retry_pending

    pieces = [make_piece(f"Piece {n}") for n in range(3)]  # never committed: not indexed
    gone = list(range(10**6, 10**6 + 1200))  # more ids than SQLite takes in one statement
    ids = [p.pk for p in pieces] + gone
    assert outbox.record(ids, "IndexBusy: locked") == 1203
    assert outbox.record(ids[:2], "IndexBusy: still locked") == 0  # the same rows, again
    rows = PendingIndexWrite.objects.order_by("piece_id")
    assert [(r.attempts, r.last_error) for r in rows[:3]] == [
        (2, "IndexBusy: still locked"),
        (2, "IndexBusy: still locked"),
        (1, "IndexBusy: locked"),
    ]
    assert set(rows.filter(operation=IndexOperation.DELETE).values_list("piece_id", flat=True)) == (
        set(gone)
    )

    assert retry_pending(whoosh_engine) == (1203, 0)
    assert set(whoosh_engine.indexed_digests()) == {p.pk for p in pieces}


def test_a_write_recorded_again_during_a_retry_stays_for_the_next_one(whoosh_engine, make_piece):
    from library.search import outbox
    from library.search.models import PendingIndexWrite

    piece = make_piece("Changed while its retry ran")
    outbox.record([piece.pk], "IndexBusy: locked")
    seen = outbox.batch_after(0, 10)
    outbox.record([piece.pk], "IndexBusy: locked again")  # a newer failure meanwhile
    outbox.done(seen)
    assert PendingIndexWrite.objects.get().attempts == 2


def test_writes_left_from_whoosh_are_dropped_by_a_retry_under_the_database_engine(
    database_engine, make_piece, caplog
):
    from library.search import outbox
    from library.search.models import PendingIndexWrite
    from library.search.sync import retry_pending

    outbox.record([make_piece("Saved under Whoosh").pk], "IndexBusy: locked")
    assert retry_pending(database_engine) == (0, 0)
    assert not PendingIndexWrite.objects.exists()
    assert "Dropped 1 pending Whoosh index writes: the database engine is in use" in caplog.text
