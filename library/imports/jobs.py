"""Large web imports run as background jobs (django-tasks, ``manage.py db_worker``).

Confirming an import whose plan writes more than ``IMPORT_BACKGROUND_ENTRIES`` pieces would
outlast gunicorn's timeout, so :func:`start` records a :class:`~library.jobs.models.Job`,
enqueues :func:`run_import_job` and sends the editor to the job's page: its state, the
entries planned, written, duplicated and rejected, and the result; reloading it is safe.
The import keeps its one transaction, so a worker killed half-way leaves the catalogue as
it was; the job's page (``library.jobs.views``) then offers to run it again.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import task

from library.catalogue.staging import Staging
from library.catalogue.statistics import refresh_planner_statistics
from library.imports.service import ImportStopped, apply_plan, plan_import
from library.jobs import progress
from library.jobs.kinds import JobKind
from library.jobs.models import Job, JobStatus
from library.search import outbox

KIND = "import"
REPORT_EVERY = 50


# Where the import page keeps uploaded files between preview and confirmation
# (``imports/views.py``); a confirmed background import reads its file from here.
STAGED = Staging(session_key="dossier_imports", folder="imports")


def runs_in_background(writes: int) -> bool:
    return writes > settings.DOSSIER_IMPORT_BACKGROUND_ENTRIES


def start(request: HttpRequest, token: str, info: dict) -> Job:
    """Hand the confirmed import (its staged file stays) to a worker."""
    owner = request.user
    assert owner.is_authenticated  # the confirm view is editor_required
    job = Job.objects.create(
        kind=KIND, label=info["name"], owner=owner, payload={**info, "token": token}
    )
    enqueue(job)
    return job


def enqueue(job: Job) -> None:
    result = run_import_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


def _finish(job_id: int, status: str, message: str, **counts: int) -> None:
    Job.objects.filter(pk=job_id).update(
        status=status, message=message, finished_at=timezone.now(), **counts
    )
    progress.forget(job_id)


@task()
def run_import_job(job_id: int) -> None:
    """Plan and write one confirmed import; the job row says how it ended."""
    job = Job.objects.select_related("owner").get(pk=job_id)
    if job.finished:
        return  # a retry raced a worker that finished it
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    info = job.payload
    path = STAGED.path(info["token"])
    progress.report(job_id, phase="planning")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _finish(job_id, JobStatus.FAILED, "The uploaded file is no longer on the server.")
        return
    plan = plan_import(
        [(info["name"], data)],
        on_duplicate=info["on_duplicate"],
        encoding=info["encoding"] or None,
        fmt=info["format"] or None,
    )
    file_plan = plan.files[0]
    rejected = len(file_plan.rejected)

    def report(done: int, total: int) -> None:
        if done == total or done % REPORT_EVERY == 0:
            progress.report(job_id, phase="writing", planned=total, written=done)

    try:
        written = apply_plan(plan, user=job.owner, progress=report)
    except ImportStopped as exc:
        _finish(job_id, JobStatus.FAILED, f"Nothing was imported: {exc}", rejected=rejected)
        return
    refresh_planner_statistics()  # a thousand rows or more: as import_citations does
    path.unlink(missing_ok=True)
    _finish(
        job_id,
        JobStatus.DONE,
        f"Imported {info['name']}: {len(file_plan.created)} new, "
        f"{len(file_plan.duplicates)} duplicate(s), {rejected} rejected."
        + outbox.unindexed_note(piece.pk for piece in written),
        planned=len(written),
        written=len(written),
        duplicates=len(file_plan.duplicates),
        rejected=rejected,
    )


def _retry_blocker(job: Job) -> str:
    if not STAGED.path(job.payload["token"]).exists():
        return "The uploaded file is gone; upload it again."
    return ""


JOB_KIND = JobKind(
    title="Import",
    enqueue=enqueue,
    retry_blocker=_retry_blocker,
    stalled_note="Nothing of this import was written.",
)
