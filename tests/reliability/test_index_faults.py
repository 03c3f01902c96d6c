"""Fault injection for the Whoosh engine (issue 16, item 6): a held lock, a killed rebuild.

- Another process holds Whoosh's write lock while ``import_citations`` runs: the pieces are
  saved, their index writes are recorded in the outbox (``search.PendingIndexWrite``), the
  command says so and exits 0, ``check_index`` lists them and fails, and the next writer
  (or the worker) writes them.
- ``rebuild_index`` is killed with SIGKILL half-way (a real process, stopped at a known
  point, then killed): the index in use is untouched, a long-lived reader and a fresh one
  still answer from it, and after a re-run the long-lived reader answers from the new one
  (each piece once, the catalogue's count).

The database engines index in the saving transaction, so they have no outbox to test.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from library.catalogue.models import Piece
from library.search.backends import get_backend
from library.search.models import IndexOperation, PendingIndexWrite
from library.search.query import parse_query
from tests.reliability.test_faults import works

ROOT = Path(__file__).resolve().parents[2]

LOCK_HOLDER = """
import sys
from whoosh import index
writer = index.open_dir(sys.argv[1]).writer()  # takes the write lock and keeps it
print("locked", flush=True)
sys.stdin.readline()
writer.cancel()
"""


@pytest.fixture
def whoosh(settings, tmp_path):
    pytest.importorskip("whoosh")
    settings.SEARCH_BACKEND = "whoosh"
    settings.WHOOSH_INDEX_DIR = tmp_path / "whoosh-index"
    settings.WHOOSH_LOCK_TIMEOUT = 1
    backend = get_backend()
    backend.clear()
    return backend


@pytest.fixture
def held_lock(whoosh):
    """A second process holding the index's write lock until ``release()``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(whoosh.index_folder())],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked", holder.stderr.read()

    def release() -> None:
        if holder.poll() is None:
            holder.stdin.write("done\n")
            holder.stdin.flush()
            holder.wait(timeout=30)

    try:
        yield release
    finally:
        release()


def check_index() -> tuple[str, str]:
    out = StringIO()
    try:
        call_command("check_index", stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), ""


@pytest.mark.django_db(transaction=True)  # real commits: the index is written after them
def test_a_held_lock_during_an_import_keeps_the_writes_and_the_next_writer_drains_them(
    whoosh, held_lock, tmp_path, make_piece
):
    count = 30
    bib = tmp_path / "works.bib"
    bib.write_text(works(count)[0], encoding="utf-8")
    out, err = StringIO(), StringIO()

    call_command("import_citations", str(bib), stdout=out, stderr=err)  # no CommandError

    assert f"created {count}, 0 duplicate(s), 0 rejected." in out.getvalue()
    assert Piece.objects.count() == count
    rows = list(PendingIndexWrite.objects.all())
    assert sorted(r.piece_id for r in rows) == sorted(Piece.objects.values_list("pk", flat=True))
    assert {(r.operation, r.attempts) for r in rows} == {(IndexOperation.UPDATE, 1)}
    assert all("stayed locked for 1.0s" in r.last_error for r in rows)
    assert (
        f"{count} of the {count} piece(s) saved are not in the search index yet" in err.getvalue()
    )
    assert whoosh.indexed_digests() == {}

    report, failure = check_index()
    assert f"index writes pending: {count} (piece ids" in report
    assert f"{count} index write(s) are waiting" in failure

    held_lock()
    late = make_piece("Written after the lock was let go")  # the next writer

    assert not PendingIndexWrite.objects.exists()
    assert set(whoosh.indexed_digests()) == set(Piece.objects.values_list("pk", flat=True))
    assert len(whoosh.indexed_digests()) == count + 1
    assert late.pk in whoosh.indexed_digests()
    assert check_index()[1] == ""


@pytest.mark.django_db(transaction=True)
def test_with_no_other_writer_the_worker_writes_what_the_lock_kept_out(
    whoosh, held_lock, make_piece
):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    piece = make_piece("Saved while the index was locked")
    assert list(PendingIndexWrite.objects.values_list("piece_id", flat=True)) == [piece.pk]
    # (The save also queued its Cite box texts, catalogue/citation_jobs.py.)
    task = DBTaskResult.objects.get(task_path="library.search.tasks.retry_index_writes")
    # Later (3 × the lock timeout): the lock that stopped the write is usually let go soon.
    assert task.run_after - task.enqueued_at >= datetime.timedelta(seconds=2.5)
    held_lock()
    DBTaskResult.objects.update(run_after=timezone.now() - datetime.timedelta(seconds=1))

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    assert not PendingIndexWrite.objects.exists()
    assert set(whoosh.indexed_digests()) == {piece.pk}
    task.refresh_from_db()
    assert (task.status, task.return_value) == ("SUCCESSFUL", 0)


@pytest.mark.django_db(transaction=True)
def test_the_worker_backs_off_while_the_lock_is_still_held(whoosh, held_lock, make_piece):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    make_piece("Saved while the index was locked")
    DBTaskResult.objects.update(run_after=timezone.now() - datetime.timedelta(seconds=1))

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    row = PendingIndexWrite.objects.get()
    assert row.attempts == 2  # the save's own try, then the worker's
    again = DBTaskResult.objects.get(status="READY")
    assert again.args_kwargs["args"] == [6.0]  # twice the first delay (3 × the lock timeout)


@pytest.mark.django_db(transaction=True)
def test_a_background_upload_under_a_held_lock_says_its_pieces_wait_for_the_index(
    whoosh, held_lock, editor_client, vocabulary, settings, tmp_path
):
    from library.jobs.models import Job
    from tests.catalogue.test_pdf_ingest import upload
    from tests.ingest.pdfmaker import commentary_pdf, sample_commentary

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DOSSIER_UPLOAD_BACKGROUND_FILES = 1
    upload(editor_client, *[(f"{n}.pdf", commentary_pdf(sample_commentary(n))) for n in range(2)])

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    job = Job.objects.get(kind="pdf-batch")
    assert job.message == (
        "2 file(s): 2 created, 0 duplicate(s), 0 need(s) attention, 0 failed. 2 of them are "
        "not in the search index yet (it was busy); the writes are kept and retried."
    )
    assert PendingIndexWrite.objects.count() == 2


# --- a killed rebuild ----------------------------------------------------------------------------

SETUP = """
import sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("import_citations", sys.argv[1], verbosity=0)
call_command("rebuild_index", verbosity=0)
"""

# A real rebuild (the function rebuild_index runs), stopped after some chunks are written so
# the test can kill it at a known point rather than at a time it guesses.
STOPPED_REBUILD = """
import sys
import django
django.setup()
from library.search.maintenance import rebuild

def pause(done, total, started):
    if done >= 200:
        print(f"paused at {done} of {total}", flush=True)
        sys.stdin.readline()  # never answered: killed here

rebuild(chunk=50, progress=pause)
"""

FORGET_SOME = """
import django
django.setup()
from library.catalogue.models import Piece
doomed = list(Piece.objects.order_by("pk").values_list("pk", flat=True)[:100])
Piece.objects.filter(pk__in=doomed).delete()
print(Piece.objects.count())
"""


def run(script: str, *args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def hits(backend, word: str = "tan") -> list[int]:
    found = backend.search(parse_query(word), limit=2000)
    ids = [hit.piece_id for hit in found.hits]
    assert found.total == len(ids)
    return ids


@pytest.mark.django_db
def test_a_killed_rebuild_leaves_the_index_in_use_and_a_rerun_reaches_long_lived_readers(
    tmp_path,
):
    pytest.importorskip("whoosh")
    from library.search.backends.whoosh import CURRENT, WhooshBackend

    count = 500
    location = tmp_path / "whoosh-index"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "library.settings",  # its own database and index
        "DATABASE_URL": f"sqlite:///{tmp_path / 'catalogue.sqlite3'}",
        "SEARCH_BACKEND": "whoosh",
        "WHOOSH_INDEX_DIR": str(location),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    bib = tmp_path / "works.bib"
    bib.write_text(works(count)[0], encoding="utf-8")
    run(SETUP, str(bib), env=env)

    reader = WhooshBackend(str(location))  # a web worker's engine, kept for its lifetime
    assert sorted(set(hits(reader))) == sorted(hits(reader))
    assert len(hits(reader)) == count
    pointer = (location / CURRENT).read_text()

    rebuild = subprocess.Popen(
        [sys.executable, "-c", STOPPED_REBUILD],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = rebuild.stdout.readline()
        assert line.startswith("paused at 200 of 500"), rebuild.stderr.read()
        rebuild.send_signal(signal.SIGKILL)
        rebuild.wait(timeout=30)
    finally:
        rebuild.kill()
    assert rebuild.returncode == -signal.SIGKILL

    # The half-built generation is there, but nobody reads it: CURRENT never moved.
    assert (location / CURRENT).read_text() == pointer
    assert len([p for p in location.iterdir() if p.name.startswith("gen-")]) == 2
    for backend in (reader, WhooshBackend(str(location))):
        found = hits(backend)
        assert len(found) == len(set(found)) == count

    # The catalogue loses 100 pieces without the index hearing of it (the database engine
    # is configured for this step), then the rebuild is run again to the end.
    left = int(run(FORGET_SOME, env=env | {"SEARCH_BACKEND": "database"}).stdout)
    assert left == count - 100
    done = subprocess.run(
        [sys.executable, "manage.py", "rebuild_index", "--chunk-size", "50"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert f"Indexed {left} pieces." in done.stdout

    found = hits(reader)  # the same long-lived reader, no restart
    assert len(found) == len(set(found)) == left
    # The killed rebuild's folder is gone; the new generation and the one before remain.
    assert len([p for p in location.iterdir() if p.name.startswith("gen-")]) == 2
