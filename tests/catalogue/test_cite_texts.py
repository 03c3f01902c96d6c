"""The Cite box's texts are stored by the worker after a save, and never shown stale.

Runs on both databases with real commits (the task is queued in the saving transaction)
and the real worker (``db_worker --batch``).
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from library.catalogue import citation_jobs, citation_store
from library.catalogue.citation_store import digest, store_every_style
from library.catalogue.models import FormattedCitation, Piece
from library.citations.from_piece import record_from_piece
from library.citations.styles import STYLES, format_bibliography

pytestmark = pytest.mark.django_db(transaction=True)


def queued() -> list[list[int]]:
    tasks = DBTaskResult.objects.filter(task_path__endswith="store_cite_texts")
    return [task.args_kwargs["args"][0] for task in tasks.order_by("enqueued_at")]


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def inline(piece: Piece, style: str) -> str:
    record = record_from_piece(Piece.objects.with_related().get(pk=piece.pk))
    (html,) = format_bibliography([record], style, "html", numbered=False)
    return html


def stored(piece: Piece, style: str) -> str | None:
    record = record_from_piece(Piece.objects.with_related().get(pk=piece.pk))
    row = FormattedCitation.objects.filter(digest=digest(record, style)).first()
    return row.html if row else None


@pytest.fixture
def no_citeproc(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("citeproc ran: the stored citation was not used")

    monkeypatch.setattr(citation_store, "format_bibliography", refuse)


def cite_page(client, piece: Piece, style: str) -> str:
    response = client.get(piece.get_absolute_url() + f"?style={style}")
    assert response.status_code == 200
    return response.content.decode()


def test_a_saved_piece_is_queued_and_the_worker_stores_what_the_page_would_format(make_piece):
    piece = make_piece("Mosul Operation", subtitle="The Endgame for IS?", number="263/2016")
    assert queued() == [[piece.pk]]
    assert not FormattedCitation.objects.filter(piece_id=piece.pk).exists()
    run_worker()
    assert DBTaskResult.objects.successful().count() == 1
    for style in STYLES:
        assert stored(piece, style) == inline(piece, style)
    assert FormattedCitation.objects.filter(piece_id=piece.pk).count() == len(STYLES)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_first_view_after_the_worker_reads_the_stored_text(make_piece, client, style, request):
    piece = make_piece("Mosul Operation", authors=("Abdul Basit", "Rohan Gunaratna"))
    run_worker()
    expected = stored(piece, style)
    assert expected
    request.getfixturevalue("no_citeproc")
    assert expected in cite_page(client, piece, style)


def test_a_first_view_before_the_worker_formats_inline_and_stores_it(make_piece, client):
    piece = make_piece("Mosul Operation")
    style = sorted(STYLES)[0]
    assert stored(piece, style) is None
    assert inline(piece, style) in cite_page(client, piece, style)
    assert stored(piece, style) == inline(piece, style)


def test_an_edit_after_the_worker_shows_the_piece_as_it_now_is(make_piece, client):
    piece = make_piece("Mosul Operation")
    run_worker()
    style = sorted(STYLES)[0]
    old = stored(piece, style)
    piece = Piece.objects.get(pk=piece.pk)
    piece.title = "Raqqa Operation"
    piece.save()  # outside a transaction: committed, and queued, at once
    assert not FormattedCitation.objects.filter(piece_id=piece.pk).exists()
    assert queued()[-1] == [piece.pk]
    html = cite_page(client, piece, style)  # before the worker: formatted inline
    assert "Raqqa Operation" in html
    assert old not in html
    FormattedCitation.objects.filter(piece_id=piece.pk).delete()
    run_worker()
    for each in STYLES:
        assert stored(piece, each) == inline(piece, each)
        assert "Raqqa Operation" in stored(piece, each)


def test_a_worker_that_formatted_the_previous_version_is_never_shown(make_piece, client):
    piece = make_piece("Mosul Operation")
    before = record_from_piece(Piece.objects.with_related().get(pk=piece.pk))
    piece = Piece.objects.get(pk=piece.pk)
    piece.title = "Raqqa Operation"
    piece.save()
    # A worker that read the piece before the edit stores that version after it.
    store_every_style(before, piece.pk)
    style = sorted(STYLES)[0]
    html = cite_page(client, piece, style)
    assert "Raqqa Operation" in html
    assert "Mosul Operation" not in html


def test_tasks_are_queued_in_the_saving_transaction(make_piece):
    with transaction.atomic():
        ids = [make_piece(f"Piece {n}").pk for n in range(3)]
        # Written in this transaction: the worker sees them when the pieces commit.
        assert queued() == [[pk] for pk in ids]
    run_worker()
    assert FormattedCitation.objects.filter(piece_id__in=ids).count() == 3 * len(STYLES)


def test_a_rolled_back_save_queues_nothing(make_piece):
    def save_then_fail() -> None:
        with transaction.atomic():
            make_piece("Never saved")
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        save_then_fail()
    assert queued() == []
    assert not Piece.objects.filter(title="Never saved").exists()


def test_the_worker_skips_a_piece_deleted_before_it_ran(make_piece):
    kept, gone = make_piece("Kept"), make_piece("Gone")
    Piece.objects.filter(pk=gone.pk).delete()
    run_worker()
    assert DBTaskResult.objects.failed().count() == 0
    assert FormattedCitation.objects.filter(piece_id=kept.pk).count() == len(STYLES)
    assert not FormattedCitation.objects.filter(piece_id=gone.pk).exists()


def test_store_citations_stores_every_piece_that_has_none(make_piece, capsys):
    pieces = [make_piece(f"Piece {n}") for n in range(3)]
    DBTaskResult.objects.all().delete()  # as a catalogue from before the worker stored texts
    FormattedCitation.objects.filter(piece_id=pieces[1].pk).delete()
    first = Piece.objects.with_related().get(pk=pieces[0].pk)
    store_every_style(record_from_piece(first), first.pk)
    call_command("store_citations", limit=1)
    assert "2 pieces lacked a stored citation; stored 1" in capsys.readouterr().out
    call_command("store_citations")
    assert "1 pieces lacked a stored citation; stored 1" in capsys.readouterr().out
    for piece in pieces:
        for style in STYLES:
            assert stored(piece, style) == inline(piece, style)
    call_command("store_citations")
    assert "0 pieces lacked" in capsys.readouterr().out


def test_store_citations_in_the_background_queues_tasks_for_the_worker(make_piece, capsys):
    pieces = [make_piece(f"Piece {n}") for n in range(2)]
    DBTaskResult.objects.all().delete()
    call_command("store_citations", background=True)
    assert "2 pieces lack a stored citation; queued 2 in 1 tasks" in capsys.readouterr().out
    assert queued() == [[p.pk for p in pieces]]
    run_worker()
    assert citation_jobs.pieces_missing_any_style() == []


def test_the_worker_takes_other_jobs_before_cite_box_texts(make_piece):
    from library.search.tasks import retry_index_writes

    make_piece("Saved first")
    retry_index_writes.enqueue(0.0)  # queued after it, at django-tasks' default priority
    first = DBTaskResult.objects.ready().order_by(*DBTaskResult._meta.ordering).first()
    assert first.task_path == "library.search.tasks.retry_index_writes"


def test_cleanup_prunes_old_finished_cite_box_tasks_only(make_piece):
    import datetime
    from io import StringIO

    from django.utils import timezone

    from library.search.tasks import retry_index_writes

    old, recent = make_piece("Old"), make_piece("Recent")
    retry_index_writes.enqueue(0.0)
    run_worker()
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()
    day_ago = timezone.now() - datetime.timedelta(hours=25)
    DBTaskResult.objects.exclude(args_kwargs__args=[[recent.pk]]).update(finished_at=day_ago)

    out = StringIO()
    call_command("cleanup", "--max-age-hours", "24", stdout=out)

    assert "and 1 finished Cite box task(s)" in out.getvalue()
    assert queued() == [[recent.pk]]
    assert DBTaskResult.objects.filter(task_path__endswith="retry_index_writes").exists()
    assert stored(old, "chicago-author-date")  # what the task stored stays


def statements(store) -> list[str]:
    """The first word of each statement ``store()`` ran, transaction control left out."""
    with CaptureQueriesContext(connection) as captured:
        store()
    words = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    return [word for word in words if word not in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}]


def test_every_style_is_stored_in_one_read_and_one_write(make_piece):
    """The worker runs this after every save; on SQLite each write of it is a turn of the
    write lock an editor's save may wait for (a write per style took four)."""
    piece = make_piece("Mosul Operation")
    FormattedCitation.objects.filter(piece_id=piece.pk).delete()
    record = record_from_piece(Piece.objects.with_related().get(pk=piece.pk))
    assert statements(lambda: store_every_style(record, piece.pk)) == ["SELECT", "INSERT"]
    assert {row.style: row.html for row in FormattedCitation.objects.filter(piece_id=piece.pk)} == {
        style: inline(piece, style) for style in STYLES
    }
    FormattedCitation.objects.filter(piece_id=piece.pk, style=sorted(STYLES)[0]).delete()
    # Only the missing style is formatted and written.
    assert statements(lambda: store_every_style(record, piece.pk)) == ["SELECT", "INSERT"]
    assert FormattedCitation.objects.filter(piece_id=piece.pk).count() == len(STYLES)
    # All stored: nothing written.
    assert statements(lambda: store_every_style(record, piece.pk)) == ["SELECT"]
