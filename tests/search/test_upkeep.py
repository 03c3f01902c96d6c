"""Saves leave merging and checkpointing to the worker, and write only what changed."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.db import connection

from library.catalogue.authors import parse_name
from library.catalogue.models import Piece
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.search import service, tasks
from library.search.backends.database.postgres import backend as pg_backend
from library.search.backends.database.sqlite import backend as sqlite_backend
from library.search.maintenance import check, rebuild
from library.search.tasks import maintain_index

pytestmark = pytest.mark.django_db


def word_counts() -> dict[str, int]:
    """The engine's table of catalogue words and their document counts, as stored."""
    table = "search_pg_word" if connection.vendor == "postgresql" else "search_word"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word, docs FROM {table}")
        return dict(cursor.fetchall())


def resave(piece: Piece, *, authors: tuple[str, ...], title: str | None = None) -> Piece:
    piece = Piece.objects.get(pk=piece.pk)
    if title is not None:
        piece.title = title
    return save_piece(
        piece,
        PieceContributors(authors=[parse_name(a) for a in authors]),
        PieceTags(topics=list(piece.topics.all()), regions=list(piece.regions.all())),
    )


def test_word_counts_kept_by_edits_equal_a_rebuilds(database_engine, make_piece):
    first = make_piece("Jihadist networks in Sahel", authors=("Abdul Basit",))
    second = make_piece("Networks of patronage", authors=("Zoë Ng", "Abdul Basit"))
    gone = make_piece("Maritime piracy", authors=("Ana Ruiz",))
    resave(first, authors=("Abdul Basit",), title="Jihadist cells in Sahel")  # -networks +cells
    resave(second, authors=("Zoë Ng",))  # Basit leaves one byline
    gone.delete()
    kept = word_counts()
    assert (kept["networks"], kept["cells"], kept["basit"]) == (1, 1, 1)
    assert not {"piracy", "ruiz"} & set(kept)  # no piece uses them now
    rebuild()
    assert word_counts() == kept
    assert check(database_engine).ok


def test_an_unchanged_byline_is_not_rewritten(database_engine, make_piece):
    piece = make_piece("Byline kept", authors=("Abdul Basit", "Zoë Ng"))
    rows = list(piece.authorships.order_by("role", "position").values_list("pk", "author_id"))
    resave(piece, authors=("Abdul Basit", "Zoë Ng"), title="Byline kept, title changed")
    assert list(piece.authorships.order_by("role", "position").values_list("pk", "author_id")) == (
        rows
    )
    resave(piece, authors=("Zoë Ng", "Abdul Basit"))  # the order is part of the byline
    assert [a.family for a in Piece.objects.get(pk=piece.pk).authors] == ["Ng", "Basit"]
    resave(piece, authors=("Zoë Ng", "Abdul BASIT"))  # other capitals: the same author row
    assert [a.pk for a in Piece.objects.get(pk=piece.pk).authors] == [rows[1][1], rows[0][1]]
    resave(piece, authors=("Zoe Ng", "Abdul Basit"))  # another name: another author
    assert Piece.objects.get(pk=piece.pk).authors[0].given == "Zoe"
    assert service.search("title changed").total == 1
    assert check(database_engine).ok


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when it ends
def test_saves_are_found_before_the_upkeep_runs_and_after_it(
    empty_index, make_piece, monkeypatch, settings
):
    from django_tasks_db.models import DBTaskResult

    database_engine = empty_index

    # Due after every write (a test database has no WAL file to measure; PostgreSQL asks
    # every SEARCH_UPKEEP_EVERY writes).
    monkeypatch.setattr(sqlite_backend, "UPKEEP_WAL_BYTES", 0)
    settings.SEARCH_UPKEEP_EVERY = 1
    # The next run's delay, past the worker's batch: however slow the machine, the batch
    # runs one task (at 0.25 s a slow run found the next one ready and ran it too).
    monkeypatch.setattr(tasks, "MERGE_PACE", 3600)
    titles = [f"Upkeep piece {word}" for word in ("alpha", "bravo", "charlie", "delta", "echo")]
    pieces = [make_piece(title) for title in titles]
    resave(pieces[0], authors=("Abdul Basit",), title="Upkeep piece alpha revised")
    queued = DBTaskResult.objects.filter(task_path=maintain_index.module_path)
    sqlite = connection.vendor == "sqlite"
    assert queued.count() == 1  # once while one waits
    before = {title: [p.pk for p, _ in service.search(title).entries] for title in titles}
    assert all(before[title] for title in titles)  # the worker has not run

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    done = database_engine.upkeep()  # and once more, directly: nothing left to merge
    if sqlite:
        result = queued.get(status="SUCCESSFUL")
        assert result.return_value["merge_steps"] >= 1  # six segments per table to merge
        # It merged, so it asked to run again a little later, once more.
        assert queued.filter(status="READY").count() == 1
        assert done["merge_steps"] == 0
    else:
        # The saves' entries were in the text indexes' pending lists; the task merged them.
        result = queued.get(status="SUCCESSFUL")
        assert result.return_value["gin_indexes"] == 4
        assert result.return_value["pending_pages"] >= 4  # a page at least on each index
        assert done == {"pending_pages": 0, "gin_indexes": 4}
    assert {title: [p.pk for p, _ in service.search(title).entries] for title in titles} == before
    assert check(database_engine).ok


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when it ends
def test_cleanup_removes_old_finished_upkeep_runs_only(empty_index, monkeypatch):
    """Every upkeep run leaves a task row nothing reads again; ``cleanup`` removes those of
    successful runs past its age and keeps recent ones and failures."""
    import datetime
    from io import StringIO

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    monkeypatch.setattr(tasks, "MERGE_PACE", 3600)  # a run that merged queues one for later
    monkeypatch.setattr(tasks, "PRUNE_PACE", 3600)
    runs = DBTaskResult.objects.filter(task_path=maintain_index.module_path)
    runs.delete()
    for _ in range(4):
        maintain_index.enqueue()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    finished = list(runs.filter(status="SUCCESSFUL").order_by("finished_at"))
    assert len(finished) == 4
    day_ago = timezone.now() - datetime.timedelta(hours=25)
    old, failed = [run.pk for run in finished[:2]], finished[2].pk
    runs.filter(pk__in=[*old, failed]).update(finished_at=day_ago)
    runs.filter(pk=failed).update(status="FAILED")

    out = StringIO()
    call_command("cleanup", "--max-age-hours", "24", stdout=out)

    assert "and 2 finished index upkeep run(s)" in out.getvalue()
    assert not runs.filter(pk__in=old).exists()
    assert runs.filter(pk__in=[failed, finished[3].pk]).count() == 2


def test_a_rebuild_asks_the_worker_to_merge_what_it_wrote(database_engine, make_piece):
    from django_tasks_db.models import DBTaskResult

    make_piece("Rebuilt piece")
    rebuild()
    queued = DBTaskResult.objects.filter(task_path=maintain_index.module_path)
    assert queued.count() == (1 if database_engine.merges_in_upkeep else 0)
    assert check(database_engine).ok


@pytest.mark.sqlite
def test_a_rebuild_leaves_nothing_for_saves_to_merge(database_engine, make_piece):
    # A chunk a commit: 20 segments, which the bulk load's automerge (16) leaves on two
    # levels; merged to one at the end, the first saves meet no crisis merge.
    for n in range(20):
        make_piece(f"Segment piece {n}")
    rebuild(chunk=1)
    assert database_engine.upkeep()["merge_steps"] == 0
    assert check(database_engine).ok


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)  # each merge step commits, as in the worker
def test_upkeep_leaves_the_write_lock_free_after_each_merge_step(
    empty_index, make_piece, monkeypatch
):
    """A save waiting in SQLite's busy handler tries again 1, 3, 8 ... ms on: the worker's
    next write must not take the lock again before that save's next try."""
    for word in ("alpha", "bravo", "charlie", "delta", "echo"):
        make_piece(f"Merged piece {word}")  # a segment a save in each table: both merge
    monkeypatch.setattr(sqlite_backend, "_MERGE_STEPS", 1)  # else a step finding nothing follows
    events: list[tuple[str, float]] = []

    def noted(name: str, call):
        def run(*args):
            if name == "begin":
                events.append((name, time.perf_counter()))
            result = call(*args)
            if name == "commit":
                events.append((name, time.perf_counter()))
            return result

        return run

    connection.ensure_connection()
    monkeypatch.setattr(connection, "_commit", noted("commit", connection._commit))
    monkeypatch.setattr(
        connection,
        "_start_transaction_under_autocommit",
        noted("begin", connection._start_transaction_under_autocommit),
    )
    started = time.perf_counter()
    done = empty_index.upkeep()
    ended = time.perf_counter()

    assert done["merge_steps"] == 2  # one step per table
    assert [name for name, _ in events] == ["begin", "commit", "begin", "commit"]
    (_, first_commit), (_, second_begin) = events[1], events[2]
    pause = sqlite_backend._MERGE_PAUSE
    assert second_begin - first_commit >= pause  # between the tables' steps
    assert ended - events[3][1] >= pause  # and before the caller's next write (the prune)
    assert ended - started >= 2 * pause
    assert empty_index.upkeep()["merge_steps"] == 0  # nothing left to merge
    assert check(empty_index).ok


def pending_pages() -> dict[str, int]:
    """Each text index's pending-list pages, as ``gin_clean_pending_list`` merges them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, gin_clean_pending_list(to_regclass(name)) FROM unnest(%s::text[]) name",
            [pg_backend.GIN_INDEX_NAMES],
        )
        return dict(cursor.fetchall())


def gin_options() -> dict[str, list[str] | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
            [pg_backend.GIN_INDEX_NAMES],
        )
        return dict(cursor.fetchall())


@pytest.mark.postgresql
def test_the_text_indexes_keep_their_pending_list_limit_through_a_rebuild(
    database_engine, make_piece
):
    expected = {name: ["gin_pending_list_limit=4096"] for name in pg_backend.GIN_INDEX_NAMES}
    assert gin_options() == expected  # as the migration set them
    make_piece("Rebuilt with its parameters")
    rebuild()  # drops the four indexes and creates them again
    assert gin_options() == expected
    assert check(database_engine).ok


@pytest.mark.postgresql
def test_upkeep_empties_the_pending_lists_saves_filled(database_engine, make_piece):
    pending_pages()  # whatever earlier writes left
    pieces = [make_piece(f"Pending entry {n}", body="insurgency " * 50) for n in range(3)]
    resave(pieces[0], authors=("Abdul Basit",), title="Pending entry revised")
    done = database_engine.upkeep()
    assert done["gin_indexes"] == 4
    assert done["pending_pages"] >= 4  # a page at least on each index
    assert pending_pages() == dict.fromkeys(pg_backend.GIN_INDEX_NAMES, 0)  # nothing left
    assert service.search("revised").total == 1
    assert service.search("insurgency").total == 3
    assert check(database_engine).ok


@pytest.mark.postgresql
def test_a_save_asks_for_upkeep_every_search_upkeep_every_index_writes(
    database_engine, make_piece, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.SEARCH_UPKEEP_EVERY = 3
    queued = DBTaskResult.objects.filter(task_path=maintain_index.module_path)
    asked = []
    for n in range(7):
        make_piece(f"Counted piece {n}")
        with connection.cursor() as cursor:
            # This connection's last write number: the piece's own index write.
            cursor.execute("SELECT currval('search_pg_write_number')")
            logged = cursor.fetchone()[0]
        asked.append((logged % 3 == 0, queued.exists()))
        queued.delete()
    assert [expected for expected, _ in asked].count(True) >= 2  # 7 writes, every third
    assert all(expected == enqueued for expected, enqueued in asked)


@pytest.mark.postgresql
def test_an_edit_is_three_statements_and_an_unchanged_piece_one(database_engine, make_piece):
    from django.test.utils import CaptureQueriesContext

    from library.search.documents import build_document

    piece = make_piece("Statements counted", authors=("Abdul Basit",))
    Piece.objects.filter(pk=piece.pk).update(title="Statements counted again")
    document = build_document(Piece.objects.get(pk=piece.pk))
    with CaptureQueriesContext(connection) as edit:
        database_engine.add(document)  # no word loses its last piece: nothing to drop
    with CaptureQueriesContext(connection) as unchanged:
        database_engine.add(document)
    assert len(edit.captured_queries) == 3  # the old row locked, both rows gone, one insert
    assert len(unchanged.captured_queries) == 1
    assert service.search("again").total == 1
    assert check(database_engine).ok
