"""The piece change log is pruned in short batches, oldest first, on both databases.

One prune transaction deletes at most ``PRUNE_BATCH`` rows: on SQLite it holds the write
lock every save waits for, and a 100,000-piece catalogue's 750,000 rows took 0.4-1.1 s
in one ``DELETE`` (a save waited that long behind it in the save benchmark). The worker
asks to run again while a batch comes back full; ``manage.py cleanup`` goes on until done,
with a pause between batches.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from library.catalogue import facet_arrays
from library.catalogue.facet_arrays import LOG_TABLE, PRUNE_SECONDS, SQLITE_NOW, prune_log
from library.search import tasks
from library.search.tasks import maintain_index

pytestmark = pytest.mark.django_db

BATCH = 3


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(facet_arrays, "PRUNE_BATCH", BATCH)


def _age(pieces: list[int], seconds: int) -> None:
    """Date the log rows of ``pieces`` ``seconds`` ago (a piece's rows, one age each)."""
    if connection.vendor == "postgresql":
        at = "clock_timestamp() - make_interval(secs => %s)"
    else:
        at = f"{SQLITE_NOW} - %s"
    with connection.cursor() as cursor:
        for piece_id in pieces:
            sql = f"UPDATE {LOG_TABLE} SET at = {at} WHERE piece_id = %s"
            cursor.execute(sql, [seconds, piece_id])


def _logged() -> list[int]:
    """The piece ids in the log, one per row, sorted."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT piece_id FROM {LOG_TABLE} ORDER BY piece_id")
        return [row[0] for row in cursor.fetchall()]


def _clear_log() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LOG_TABLE}")


@pytest.fixture
def aged(make_piece):
    """Five pieces logged two to six hours ago (one row each), one logged just now."""
    _clear_log()
    old = [make_piece(f"Old piece {n}", authors=()).pk for n in range(5)]
    recent = make_piece("Recent piece", authors=()).pk
    assert _logged() == [*old, recent]  # a piece with no byline or tags: one row
    for hours, piece_id in zip(range(6, 1, -1), old, strict=True):
        _age([piece_id], hours * 3600)
    return old, recent


def test_one_prune_deletes_one_batch_of_the_oldest_rows(aged, small_batches):
    old, recent = aged
    assert prune_log() == BATCH
    assert _logged() == [*old[BATCH:], recent]  # the oldest went first
    assert prune_log() == len(old) - BATCH  # less than a batch: the last of the old rows
    assert _logged() == [recent]
    assert prune_log() == 0


def test_a_prune_with_no_bound_goes_on_until_no_old_row_is_left(aged, small_batches):
    _old, recent = aged
    assert prune_log(batches=None) == 5
    assert _logged() == [recent]


def test_rows_younger_than_the_prune_age_stay(make_piece, small_batches):
    _clear_log()
    pieces = [make_piece(f"Piece {n}", authors=()).pk for n in range(4)]
    _age(pieces, PRUNE_SECONDS - 60)
    assert prune_log(batches=None) == 0
    assert _logged() == pieces


def test_cleanup_prunes_every_old_row_in_batches(aged, small_batches):
    out = StringIO()
    call_command("cleanup", stdout=out)
    assert "5 piece change log row(s) older than 60 minutes" in out.getvalue()
    assert len(_logged()) == 1


@pytest.mark.django_db(transaction=True)  # the task queue's rows, as the worker reads them
def test_the_worker_runs_again_while_a_batch_comes_back_full(aged, small_batches, monkeypatch):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    _old, recent = aged
    # Far apart, so the next run stays queued and says which pace asked for it.
    monkeypatch.setattr(tasks, "PRUNE_PACE", 3600)
    monkeypatch.setattr(tasks, "MERGE_PACE", 7200)
    queued = DBTaskResult.objects.filter(task_path=maintain_index.module_path)
    queued.delete()
    done = maintain_index.call()
    assert done["changes_pruned"] == BATCH
    (next_run,) = queued.filter(status="READY")  # a full batch: more may be left
    pace = 7200 if done.get("merge_steps") else 3600
    assert abs((next_run.run_after - timezone.now()).total_seconds() - pace) < 60
    queued.delete()
    done = maintain_index.call()
    assert done["changes_pruned"] == 2
    if not done.get("merge_steps"):
        assert not queued.exists()  # the last of them: nothing asks for another run
    assert _logged() == [recent]
