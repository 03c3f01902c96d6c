"""Large /pieces/upload/ batches are read and saved by a worker: a page with every file's fate."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from library.catalogue.models import Piece
from library.jobs.models import ItemStatus, Job, JobStatus
from tests.catalogue.test_pdf_ingest import upload
from tests.ingest import pdfmaker
from tests.ingest.pdfmaker import commentary_pdf, sample_commentary

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def staged() -> list[Path]:
    return list((Path(settings.MEDIA_ROOT) / "ingest-staging").glob("*.upload"))


def test_the_upload_page_says_when_a_batch_goes_to_the_background(editor_client, settings):
    settings.DOSSIER_UPLOAD_BACKGROUND_FILES = 3
    page = editor_client.get(reverse("catalogue:piece_upload")).content.decode()
    assert "More than 3 files at once, or more than 10 MB in all, are read and saved" in page


def test_a_few_files_are_still_reviewed_in_the_request(vocabulary, editor_client, settings):
    settings.DOSSIER_UPLOAD_BACKGROUND_FILES = 3
    files = [(f"{n}.pdf", commentary_pdf(sample_commentary(n))) for n in range(3)]
    response = upload(editor_client, *files)
    assert response.status_code == 200
    assert len([r for r in response.context["results"] if r.form]) == 3
    assert not Job.objects.exists()


def test_a_few_large_files_go_to_the_worker(vocabulary, editor_client, settings):
    settings.DOSSIER_UPLOAD_BACKGROUND_BYTES = 1000  # two small PDFs are more than that
    files = [(f"{n}.pdf", commentary_pdf(sample_commentary(n))) for n in range(2)]
    response = upload(editor_client, *files)
    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.planned, job.items.count()) == ("pdf-batch", 2, 2)


@pytest.mark.django_db(transaction=True)  # the worker closes its connections when done
def test_a_large_batch_waits_for_a_worker_then_accounts_for_every_file(
    vocabulary, editor_client, settings
):
    settings.DOSSIER_UPLOAD_BACKGROUND_FILES = 3
    settings.DOSSIER_MAX_PDF_BYTES = settings.DOSSIER_MAX_INGEST_BYTES = 1024 * 1024
    first = commentary_pdf(sample_commentary(0))
    files = [
        ("first.pdf", first),
        ("second.pdf", commentary_pdf(sample_commentary(1))),
        ("first-again.pdf", first + b"\n% the same text, other bytes\n"),
        ("scan.pdf", pdfmaker.scanned_pdf()),
        ("fake.pdf", b"<html>not a pdf</html>"),
        ("huge.pdf", b"%PDF-1.4\n" + b"x" * 1024 * 1024),
    ]
    response = upload(editor_client, *files)
    job = Job.objects.get()
    url = reverse("jobs:detail", args=[job.pk])
    assert response["Location"] == url
    assert Piece.objects.count() == 0
    assert len(staged()) == 5  # the file over the limit was never kept
    for _ in range(2):  # reloading is harmless
        page = editor_client.get(url)
        text = page.content.decode()
        assert "Waiting for a worker" in text
        assert page["Refresh"] == "3"
        assert page.context["counts"] == {
            "planned": 5,
            "created": 0,
            "duplicate": 0,
            "needs_attention": 0,
            "failed": 1,
            "all": 6,
        }
    assert "huge.pdf" in text
    assert "the file is 1.0 MB, over the limit" in text

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    outcomes = dict(job.items.values_list("name", "status"))
    assert outcomes == {
        "first.pdf": ItemStatus.CREATED,
        "second.pdf": ItemStatus.CREATED,
        "first-again.pdf": ItemStatus.DUPLICATE,
        "scan.pdf": ItemStatus.ATTENTION,
        "fake.pdf": ItemStatus.FAILED,
        "huge.pdf": ItemStatus.FAILED,
    }
    assert (job.written, job.duplicates, job.rejected) == (2, 1, 3)
    assert job.message == ("6 file(s): 2 created, 1 duplicate(s), 1 need(s) attention, 2 failed.")
    pieces = {p.source_file: p for p in Piece.objects.all()}
    assert set(pieces) == {"first.pdf", "second.pdf"}
    assert all(p.attachment and p.created_by_id == job.owner_id for p in pieces.values())
    duplicate = job.items.get(name="first-again.pdf")
    assert duplicate.piece == pieces["first.pdf"]
    assert staged() == []  # each staged file went once its outcome was recorded

    page = editor_client.get(url)
    text = page.content.decode()
    assert not page.has_header("Refresh")
    assert page.context["counts"]["all"] == 6
    assert f'href="{pieces["first.pdf"].get_absolute_url()}"' in text
    assert "no text layer; needs OCR" in text
    assert "is not a PDF: its content is an HTML page" in text
    assert "Run the upload again" not in text


def test_someone_elses_batch_is_not_shown(vocabulary, editor_client, settings, client):
    from django.contrib.auth.models import Group, User

    settings.DOSSIER_UPLOAD_BACKGROUND_FILES = 0
    upload(editor_client, ("a.pdf", commentary_pdf()))
    job = Job.objects.get()
    other = User.objects.create_user("other", password="x y z 123 abc")
    other.groups.add(Group.objects.get(name="Editors"))
    client.force_login(other)
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("jobs:retry", args=[job.pk])).status_code == 404
