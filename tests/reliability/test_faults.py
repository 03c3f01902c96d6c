"""Fault injection: a full disk, oversized bodies, stale files, concurrent edits and imports.

Each test provokes one fault the reliability audit found (issue 16) and checks that the
catalogue survives it: a clear answer, nothing partial left behind, nothing lost.
"""

from __future__ import annotations

import errno
import os
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
def test_cleanup_removes_stale_previews_staged_and_partial_files_only(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    old = time.time() - 25 * 3600
    stale = [
        tmp_path / "ingest-staging" / "abc.upload",
        tmp_path / "imports" / "token123",
        tmp_path / "attachments" / f"{TEMP_PREFIX}1234-x.pdf",
    ]
    fresh = [tmp_path / "ingest-staging" / "new.upload", tmp_path / "imports" / "newtoken"]
    kept = [tmp_path / "attachments" / "old-but-real.pdf"]
    for path in stale + fresh + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"data")
    for path in stale + kept:
        os.utime(path, (old, old))

    out = StringIO()
    call_command("cleanup", "--max-age-hours", "24", stdout=out)

    assert "Removed 3 stale file(s)" in out.getvalue()
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in fresh + kept)
