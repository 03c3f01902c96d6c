"""Large web imports run as background jobs: a page with progress, a result, a retry."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from library.catalogue.models import Piece
from library.jobs.models import Job, JobStatus
from tests.imports.test_views import token_of, upload
from tests.reliability.test_faults import works

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def confirm_large_import(client, count: int = 5):
    bibtex, _ = works(count)
    preview = upload(client, "works.bib", bibtex.encode())
    return client.post(reverse("imports:confirm"), {"token": token_of(preview)})


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


@pytest.fixture
def background(settings):
    settings.DOSSIER_IMPORT_BACKGROUND_ENTRIES = 3  # five entries: a job


def test_a_small_import_is_still_written_in_the_request(editor_client, settings):
    settings.DOSSIER_IMPORT_BACKGROUND_ENTRIES = 10
    response = confirm_large_import(editor_client)
    assert response["Location"] == reverse("catalogue:piece_list")
    assert Piece.objects.count() == 5
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)  # the worker closes its connections when done
def test_a_large_import_waits_for_a_worker_on_a_page_that_survives_a_reload(
    editor_client, background
):
    response = confirm_large_import(editor_client)
    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert Piece.objects.count() == 0
    for _ in range(2):  # reloading is harmless
        page = editor_client.get(response["Location"])
        assert "Waiting for a worker" in page.content.decode()
        assert page["Refresh"] == "3"

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert (job.written, job.duplicates, job.rejected) == (5, 0, 0)
    assert Piece.objects.count() == 5
    page = editor_client.get(response["Location"])
    assert "Imported works.bib: 5 new, 0 duplicate(s), 0 rejected." in page.content.decode()
    assert not page.has_header("Refresh")


def test_a_job_is_shown_only_to_its_owner(editor_client, background, client, django_user_model):
    from django.contrib.auth.models import Group

    confirm_large_import(editor_client)
    job = Job.objects.get()
    other = django_user_model.objects.create_user("other", password="x y z 123 abc")
    other.groups.add(Group.objects.get(name="Editors"))
    client.force_login(other)
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404


def test_a_stalled_job_is_offered_again_and_runs_once_retried(editor_client, background, settings):
    settings.TASKS = IMMEDIATE
    settings.DOSSIER_JOB_STALL_SECONDS = 10
    confirm_large_import(editor_client)  # runs at once: done
    job = Job.objects.get()
    # As a worker killed mid-import leaves it: marked running, its transaction rolled back.
    Piece.objects.all().delete()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at="2020-01-01T00:00Z")
    page = editor_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "may have been stopped" in page
    assert "Run the import again" in page
    # The finished run removed the staged file; a killed one would have left it.
    from library.imports.jobs import STAGED

    STAGED.directory.mkdir(parents=True, exist_ok=True)
    STAGED.path(job.payload["token"]).write_bytes(works(5)[0].encode())

    editor_client.post(reverse("jobs:retry", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.attempts == 2
    assert Piece.objects.count() == 5
