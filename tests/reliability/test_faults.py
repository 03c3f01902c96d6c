"""Fault injection: a full disk, oversized bodies, stale files, concurrent edits and imports.

Each test provokes one fault the reliability audit found (issue 16) and checks that the
catalogue survives it: a clear answer, nothing partial left behind, nothing lost.

- disk full: a real tmpfs when it can be mounted, else a patched disk (``conftest.py``):
  atomic writes, attachments, a folder ``ingest``, the upload and import pages;
- stale files: ``manage.py cleanup``;
- the same work twice at once: one upload batch, two ingest saves, two parallel
  ``import_citations`` processes (PostgreSQL);
- oversized bodies: a real gunicorn answering 413 from the headers;
- concurrent edits of one piece version (PostgreSQL; the web form and admin flows are in
  ``tests/catalogue/test_concurrency.py``, request-body limits in ``tests/test_uploads.py``);
- a killed worker (PostgreSQL: the worker is a second process on the same database): mid
  import (nothing written, the retry writes it all) and mid PDF batch (whole pieces only,
  the retry goes on without creating any twice, cleanup removes the orphaned attachment).

The Whoosh engine's faults (a held index lock, a killed rebuild) are in
``test_index_faults.py``.
"""

from __future__ import annotations

import errno
import os
import random
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from library.catalogue.models import Piece
from library.storage import TEMP_PREFIX, write_atomically
from tests.ingest.pdfmaker import commentary_pdf, sample_commentary

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "mosul-operation.txt"


def ingest(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    return out.getvalue(), err.getvalue()


# --- disk full ---------------------------------------------------------------------------------


def test_a_write_to_a_full_disk_raises_and_leaves_no_file(small_disk):
    small_disk.fill()
    with pytest.raises(OSError, match="No space left") as failed:
        write_atomically(small_disk.path / "staged.upload", b"x" * 100_000)
    assert failed.value.errno == errno.ENOSPC
    assert small_disk.files() == []


@pytest.mark.django_db
def test_an_attachment_on_a_full_disk_leaves_no_partial_file(small_disk, settings):
    settings.MEDIA_ROOT = str(small_disk.path)
    small_disk.fill()
    with pytest.raises(OSError, match="No space left"):
        default_storage.save("attachments/a.pdf", ContentFile(b"%PDF-1.4 " + b"x" * 100_000))
    assert small_disk.files() == []


@pytest.mark.django_db
def test_a_folder_ingest_on_a_full_disk_counts_each_failure_and_goes_on(
    small_disk, settings, vocabulary, tmp_path
):
    settings.MEDIA_ROOT = str(small_disk.path)
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(commentary_pdf(sample_commentary(1)))
    (folder / "b.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "c.pdf").write_bytes(commentary_pdf(sample_commentary(3)))
    small_disk.fill()

    out, err = ingest(str(folder))

    assert "CommandError: 2 of 3 file(s) could not be ingested." in err
    assert err.count("the server's disk is full") == 2
    assert "Created               1" in out
    assert "Failed                2" in out
    # The text file (no attachment to store) was saved; no piece and no file for the PDFs.
    assert list(Piece.objects.values_list("source_file", flat=True)) == [str(folder / "b.txt")]
    assert small_disk.files() == []


@pytest.fixture
def media_on(small_disk, settings):
    settings.MEDIA_ROOT = str(small_disk.path)
    return small_disk


@pytest.mark.django_db
def test_the_upload_page_on_a_full_disk_says_so_and_stages_nothing(
    media_on, vocabulary, editor_client
):
    media_on.fill()
    response = editor_client.post(
        reverse("catalogue:piece_upload"),
        {"files": [SimpleUploadedFile("a.pdf", commentary_pdf())]},
    )
    assert response.status_code == 200
    assert "the server&#x27;s disk is full" in response.content.decode()
    assert media_on.files() == []


@pytest.mark.django_db
def test_saving_an_upload_when_the_disk_fills_keeps_nothing_and_says_why(
    media_on, vocabulary, editor_client
):
    from tests.catalogue.test_pdf_ingest import review_data

    response = editor_client.post(
        reverse("catalogue:piece_upload"),
        {"files": [SimpleUploadedFile("a.pdf", commentary_pdf())]},
    )
    drafts = [r for r in response.context["results"] if r.form]
    media_on.fill()
    saved = editor_client.post(
        reverse("catalogue:piece_upload_save"), review_data(drafts), follow=True
    )
    assert "not saved: the server&#x27;s disk is full" in saved.content.decode()
    assert Piece.objects.count() == 0
    assert media_on.files() == []  # no attachment, no partial file; the staged file removed


@pytest.mark.django_db
def test_the_import_page_on_a_full_disk_answers_507_and_keeps_no_preview(media_on, editor_client):
    (media_on.path / "imports").mkdir()
    media_on.fill()
    bib = b"@article{a, title={A title}, author={Doe, Jane}, year={2020}, journal={J}}\n"
    response = editor_client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("a.bib", bib), "on_duplicate": "skip"},
    )
    assert response.status_code == 507
    assert "disk is full" in response.content.decode()
    assert media_on.files() == []


# --- stale files -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cleanup_removes_stale_previews_staged_and_partial_files_only(
    settings, tmp_path, make_piece
):
    settings.MEDIA_ROOT = str(tmp_path)
    old = time.time() - 25 * 3600
    stale = [
        tmp_path / "ingest-staging" / "abc.upload",
        tmp_path / "imports" / "token123",
        tmp_path / "attachments" / f"{TEMP_PREFIX}1234-x.pdf",
        tmp_path / "attachments" / "stored-but-its-piece-never-committed.pdf",
    ]
    fresh = [
        tmp_path / "ingest-staging" / "new.upload",
        tmp_path / "imports" / "newtoken",
        tmp_path / "attachments" / "stored-a-moment-ago.pdf",
    ]
    kept = [tmp_path / "attachments" / "old-but-real.pdf"]
    piece = make_piece("Has an attachment")
    Piece.objects.filter(pk=piece.pk).update(attachment="attachments/old-but-real.pdf")
    for path in stale + fresh + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"data")
    for path in stale + kept:
        os.utime(path, (old, old))

    out = StringIO()
    call_command("cleanup", "--max-age-hours", "24", stdout=out)

    assert "Removed 4 stale file(s)" in out.getvalue()
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in fresh + kept)


# --- the same work twice at once ---------------------------------------------------------------


@pytest.mark.django_db
def test_one_upload_batch_with_the_same_work_twice_creates_it_once(
    settings, tmp_path, vocabulary, editor_client
):
    from tests.catalogue.test_pdf_ingest import review_data

    settings.MEDIA_ROOT = str(tmp_path)
    pdf = commentary_pdf()
    files = [
        SimpleUploadedFile("first.pdf", pdf),
        SimpleUploadedFile("second.pdf", pdf + b"\n% the same text, other bytes\n"),
    ]
    response = editor_client.post(reverse("catalogue:piece_upload"), {"files": files})
    drafts = [r for r in response.context["results"] if r.form]
    assert len(drafts) == 2  # neither is in the catalogue yet
    saved = editor_client.post(
        reverse("catalogue:piece_upload_save"), review_data(drafts), follow=True
    )
    page = saved.content.decode()
    assert Piece.objects.count() == 1
    key = Piece.objects.get().citation_key
    assert f"second.pdf: not saved: the same text was saved meanwhile as {key}" in page


def test_two_ingest_saves_of_the_same_text_write_one_piece(db, seed_text, vocabulary):
    from library.catalogue.concurrency import DuplicateWork
    from library.catalogue.drafts import prepare_draft, save_draft

    first, second = prepare_draft(seed_text), prepare_draft(seed_text)  # both see no piece
    assert first.duplicate is None
    assert second.duplicate is None
    save_draft(first)
    with pytest.raises(DuplicateWork, match="same text was saved meanwhile"):
        save_draft(second)
    assert Piece.objects.count() == 1


IMPORTER = """
import sys
import django
django.setup()
from django.core.management import call_command
print("ready", flush=True)
sys.stdin.readline()
call_command("import_citations", sys.argv[1])
"""


def works(count: int) -> tuple[str, str]:
    """The same works as BibTeX and as RIS (a DOI each, as exported by two managers)."""
    vocabulary = (
        "maritime port strait naval coastal piracy smuggling patrol insurgency border "
        "alliance deterrence cyber militia ceasefire refugee drone nuclear treaty sanctions "
        "election protest policing energy pipeline fisheries island archipelago monsoon "
        "famine water river dam corridor railway telecom satellite doctrine logistics"
    ).split()
    bibtex, ris = [], []
    for n in range(count):
        title = " ".join(random.Random(n).sample(vocabulary, 6)).capitalize()
        bibtex.append(
            f"@article{{w{n}, author={{Tan, Wei}}, title={{{title}}}, journal={{J}}, "
            f"year=2019, doi={{10.5555/w{n}}}}}"
        )
        ris.append(
            f"TY  - JOUR\nAU  - Tan, Wei\nTI  - {title}\nJO  - J\nPY  - 2019\n"
            f"DO  - 10.5555/w{n}\nER  - \n"
        )
    return "\n".join(bibtex) + "\n", "\n".join(ris)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_parallel_imports_of_the_same_works_create_each_once(tmp_path):
    import subprocess
    import sys

    from django.db import connection

    count = 40
    bibtex, ris = works(count)
    (tmp_path / "works.bib").write_text(bibtex, encoding="utf-8")
    (tmp_path / "works.ris").write_text(ris, encoding="utf-8")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    root = Path(__file__).resolve().parents[2]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", IMPORTER, str(tmp_path / name)],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("works.bib", "works.ris")
    ]
    for run in runs:
        assert run.stdout.readline().strip() == "ready", run.stderr.read()
    for run in runs:  # both go at once
        run.stdin.write("go\n")
        run.stdin.flush()
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        outputs.append(out)
    assert Piece.objects.count() == count
    assert len(set(Piece.objects.values_list("doi", flat=True))) == count
    # Whichever ran second reports every work as a duplicate, as if run one after the other.
    assert any(f"{count} duplicate(s)" in out for out in outputs), outputs


# --- oversized bodies, through a real gunicorn ---------------------------------------------------


@pytest.fixture
def small_limit_server(tmp_path):
    """gunicorn (DEBUG=0) with a 64 KiB body limit and its temporary files in tmp_path."""
    import socket
    import subprocess
    import sys

    from tests.test_deployment import GUNICORN, free_port, production_env

    if not GUNICORN.exists():
        pytest.skip("gunicorn: pip install -r requirements.txt")
    uploads = tmp_path / "upload-tmp"
    uploads.mkdir()
    env = production_env(tmp_path) | {"MAX_UPLOAD_BYTES": "65536", "TMPDIR": str(uploads)}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "gunicorn.log").read_text())
                time.sleep(0.2)
        yield port, uploads
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_a_body_ten_times_the_limit_is_refused_by_a_real_server_before_reaching_disk(
    small_limit_server,
):
    import socket

    port, uploads = small_limit_server
    limit = 65536
    boundary = "dossierboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f'{"a" * 32}\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = 10 * limit
    request = (
        "POST /pieces/upload/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: csrftoken={'a' * 32}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        answer = sock.recv(4096).decode("latin-1")  # it answers from the headers alone
        sent = 0
        try:
            sock.sendall(head)
            while sent < size - len(head) - len(tail):
                sent += sock.send(b"x" * 16384)
        except OSError:  # the server closed the connection: expected
            pass
    assert answer.startswith("HTTP/1.1 413"), answer
    on_disk = sum(p.stat().st_size for p in uploads.rglob("*") if p.is_file())
    assert on_disk < limit


# --- concurrent edits --------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_version_save_one_and_refuse_the_other(make_piece):
    from library.catalogue.authors import parse_name
    from library.catalogue.concurrency import StalePiece
    from library.catalogue.services import PieceContributors, PieceTags, save_piece
    from tests.test_postgresql import run_together

    piece = make_piece("Edited twice", synopsis="Old", note="Old")

    def edit(field: str):
        def work() -> None:
            mine = Piece.objects.get(pk=piece.pk)
            setattr(mine, field, "changed")
            save_piece(
                mine,
                PieceContributors(authors=[parse_name("Abdul Basit")]),
                PieceTags(),
                expected_version=1,
            )

        return work

    errors = run_together([edit("synopsis"), edit("note")])
    assert [type(e) for e in errors] == [StalePiece]
    piece.refresh_from_db()
    assert piece.version == 2
    assert sorted([piece.synopsis, piece.note]) == ["Old", "changed"]  # nothing half-applied


# --- a killed worker ---------------------------------------------------------------------------

WORKER = """
import sys
import django
django.setup()
from django.conf import settings
settings.MEDIA_ROOT = sys.argv[1]  # the test's, where the import page staged the file
from django.core.management import call_command
call_command("db_worker", startup_delay=False, reload=False, interval=0.2)
"""


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_writes_nothing_and_the_job_can_be_retried(
    editor_client, settings, tmp_path
):
    import signal
    import subprocess
    import sys

    from django.db import connection

    from library.jobs import progress
    from library.jobs.models import Job, JobStatus
    from tests.imports.test_views import token_of, upload

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DOSSIER_IMPORT_BACKGROUND_ENTRIES = 3
    count = 1500
    preview = upload(editor_client, "works.bib", works(count)[0].encode())
    editor_client.post(reverse("imports:confirm"), {"token": token_of(preview)})
    job = Job.objects.get()

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, settings.MEDIA_ROOT],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while progress.read(job.pk).get("written", 0) < 100:
            assert worker.poll() is None, "the worker stopped by itself"
            assert time.monotonic() < deadline, "the worker never started writing"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)  # mid-import, no chance to clean up
    finally:
        worker.kill()
        worker.wait(timeout=30)

    assert Piece.objects.count() == 0  # its transaction died with it
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    settings.DOSSIER_JOB_STALL_SECONDS = 10
    heartbeat = Path(settings.MEDIA_ROOT) / "jobs" / f"{job.pk}.json"
    os.utime(heartbeat, (time.time() - 60, time.time() - 60))
    page = editor_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Run the import again" in page

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    editor_client.post(reverse("jobs:retry", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert Piece.objects.count() == count


# A real worker, stopped at a known point: the second file's piece is written inside its
# transaction, not yet committed. The test kills it there (SIGKILL) rather than at a guessed time.
PAUSING_WORKER = """
import sys
import django
django.setup()
from django.conf import settings
settings.MEDIA_ROOT = sys.argv[1]
from library.catalogue import upload_jobs
real_save = upload_jobs.save_draft
saved = []

def save_then_pause(*args, **kwargs):
    piece = real_save(*args, **kwargs)
    saved.append(piece.pk)
    if len(saved) == 2:
        print("paused", flush=True)
        sys.stdin.readline()  # never answered: killed here
    return piece

upload_jobs.save_draft = save_then_pause
from django.core.management import call_command
call_command("db_worker", startup_delay=False, reload=False, interval=0.2)
"""


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_keeps_whole_pieces_and_the_retry_goes_on_once(
    editor_client, settings, tmp_path, vocabulary
):
    import signal
    import subprocess
    import sys

    from django.db import connection

    from library.jobs.models import ItemStatus, Job, JobStatus
    from tests.catalogue.test_pdf_ingest import upload

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DOSSIER_UPLOAD_BACKGROUND_FILES = 3
    files = [(f"commentary-{n}.pdf", commentary_pdf(sample_commentary(n))) for n in range(5)]
    upload(editor_client, *files)
    job = Job.objects.get()
    attachments = Path(settings.MEDIA_ROOT) / "attachments"

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-c", PAUSING_WORKER, settings.MEDIA_ROOT],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "paused", (tmp_path / "worker.log").read_text()
        # Mid-file: the first piece is committed, the second written but not committed.
        assert Piece.objects.count() == 1
        assert len(list(attachments.glob("*.pdf"))) == 2
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.kill()
        worker.wait(timeout=30)
        log.close()

    first = Piece.objects.get()  # the second file's piece died with its transaction
    assert first.source_file == "commentary-0.pdf"
    assert (
        list(job.items.values_list("status", flat=True))
        == [ItemStatus.CREATED] + [ItemStatus.PLANNED] * 4
    )
    assert job.items.get(position=1).piece == first
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    settings.DOSSIER_JOB_STALL_SECONDS = 10
    heartbeat = Path(settings.MEDIA_ROOT) / "jobs" / f"{job.pk}.json"
    os.utime(heartbeat, (time.time() - 60, time.time() - 60))
    page = editor_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "The files listed as created are saved" in page
    assert "Run the upload again" in page

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    editor_client.post(reverse("jobs:retry", args=[job.pk]))

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert job.message == "5 file(s): 5 created, 0 duplicate(s), 0 need(s) attention, 0 failed."
    items = list(job.items.order_by("position"))
    assert [i.status for i in items] == [ItemStatus.CREATED] * 5
    assert len({i.piece_id for i in items}) == 5  # each file once, none twice
    assert sorted(Piece.objects.values_list("source_file", flat=True)) == [n for n, _ in files]
    assert items[0].piece == first  # the retry went on; it did not start again
    # The killed transaction's attachment is a whole file no piece names; cleanup removes it.
    named = {Path(p.attachment.name).name for p in Piece.objects.all()}
    unnamed = [p for p in attachments.glob("*.pdf") if p.name not in named]
    assert len(unnamed) == 1
    call_command("cleanup", "--max-age-hours", "0", stdout=StringIO())
    assert {p.name for p in attachments.glob("*.pdf")} == named
