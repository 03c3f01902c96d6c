"""Large PDF batches from ``/pieces/upload/`` are read and saved by a worker (``db_worker``).

Reading a PDF takes up to ``PDF_TIMEOUT_SECONDS`` (30 s by default), so a batch of more than
``UPLOAD_BACKGROUND_FILES`` files, or more than ``UPLOAD_BACKGROUND_BYTES`` in all, would risk
gunicorn's 60-second timeout. Such a batch is staged (``staging``, each file written whole or
not at all) and becomes a :class:`~library.jobs.models.Job` with one
:class:`~library.jobs.models.JobItem` per file; the editor is sent to the job's page.

The worker saves each file as ``manage.py ingest`` does (``drafts.save_draft``: suggested
topics and regions accepted, keywords kept as suggestions to accept on the edit page); a
file the parser had to guess on is left for the editor to upload on its own and check, as
``ingest`` leaves it. Every file ends in exactly one of created, duplicate, needs attention
or failed, so the counts add up to the files planned.

Semantics when the worker is killed: each created piece commits in one transaction with
its item's outcome, so the batch stops between two files, never inside one. A retry goes on
with the items still planned and cannot create a piece twice (an item already created is
never read again, and a file saved meanwhile by someone else is found as a duplicate). An
attachment stored just before a kill, whose piece never committed, is a complete file no
piece names; ``manage.py cleanup`` removes such files once they are older than its age.
"""

from __future__ import annotations

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import task

from library.catalogue.concurrency import DuplicateWork
from library.catalogue.drafts import draft_from_bytes, pdf_limits, save_draft
from library.catalogue.staging import Staging
from library.catalogue.statistics import refresh_planner_statistics
from library.ingest.pdf import MB, PdfExtractor, PdfProblem, file_name_problem
from library.ingest.types import NotACommentary
from library.jobs import progress
from library.jobs.kinds import JobKind
from library.jobs.models import ItemStatus, Job, JobItem, JobStatus
from library.search import outbox
from library.storage import failure_reason, is_storage_failure

KIND = "pdf-batch"

# Files kept for the worker: the upload page's folder, but not in anyone's session.
STAGED = Staging(session_key="dossier_upload_jobs", folder="ingest-staging", suffix=".upload")


def runs_in_background(files: list) -> bool:
    """More files, or more bytes, than one request should read."""
    return (
        len(files) > settings.DOSSIER_UPLOAD_BACKGROUND_FILES
        or sum(f.size for f in files) > settings.DOSSIER_UPLOAD_BACKGROUND_BYTES
    )


def start(request: HttpRequest, files: list) -> Job:
    """Stage the batch, one item per file, and hand it to a worker.

    A file refused on its name or size, or that cannot be staged (the disk is full), is
    recorded as failed at once, so the page accounts for every file chosen.
    """
    owner = request.user
    assert owner.is_authenticated  # the upload views are editor_required
    job = Job.objects.create(kind=KIND, label=_label(files), owner=owner, planned=len(files))
    limit = max(settings.DOSSIER_MAX_PDF_BYTES, settings.DOSSIER_MAX_INGEST_BYTES)
    for position, uploaded in enumerate(files, start=1):
        problem = file_name_problem(uploaded.name or "")
        item = JobItem(job=job, position=position, name=(uploaded.name or "")[:300])
        if not problem and uploaded.size > limit:
            problem = f"the file is {uploaded.size / MB:.1f} MB, over the limit"
        if not problem:
            try:
                item.token = STAGED.keep(uploaded.read())
            except OSError as exc:
                problem = f"{failure_reason(exc)}; upload it again later"
        if problem:
            item.status, item.reason = ItemStatus.FAILED, problem
        item.save()
    enqueue(job)
    return job


def _label(files: list) -> str:
    first = files[0].name or "file"
    return f"{len(files)} files ({first}, …)"[:300]


def enqueue(job: Job) -> None:
    result = run_upload_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


@task()
def run_upload_job(job_id: int) -> None:
    """Read and save every file still planned, one at a time; the items say how each ended."""
    job = Job.objects.select_related("owner").get(pk=job_id)
    if job.finished:
        return  # a retry raced a worker that finished it
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    items = list(job.items.filter(status=ItemStatus.PLANNED).order_by("position"))
    with PdfExtractor(pdf_limits()) as extractor:
        for done, item in enumerate(items):
            progress.report(job_id, phase="reading", file=item.name, done=done, left=len(items))
            _process(item, job, extractor)
    refresh_planner_statistics()
    counts = {s: job.items.filter(status=s).count() for s in ItemStatus.values}
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.DONE,
        finished_at=timezone.now(),
        written=counts[ItemStatus.CREATED],
        duplicates=counts[ItemStatus.DUPLICATE],
        rejected=counts[ItemStatus.ATTENTION] + counts[ItemStatus.FAILED],
        message=(
            f"{job.planned} file(s): {counts[ItemStatus.CREATED]} created, "
            f"{counts[ItemStatus.DUPLICATE]} duplicate(s), "
            f"{counts[ItemStatus.ATTENTION]} need(s) attention, "
            f"{counts[ItemStatus.FAILED]} failed."
            + outbox.unindexed_note(
                job.items.filter(status=ItemStatus.CREATED).values_list("piece_id", flat=True)
            )
        ),
    )
    progress.forget(job_id)


def _process(item: JobItem, job: Job, extractor: PdfExtractor) -> None:
    """Decide one file's outcome and record it (with its piece, in one transaction)."""
    data = STAGED.read(item.token) if item.token else None
    if data is None:
        _finish(item, ItemStatus.FAILED, "the uploaded file is no longer on the server")
        return
    try:
        draft = draft_from_bytes(data, source=item.name, extractor=extractor)
    except PdfProblem as exc:
        status = ItemStatus.ATTENTION if exc.attention else ItemStatus.FAILED
        _finish(item, status, exc.reason)
        return
    except NotACommentary as exc:
        _finish(item, ItemStatus.FAILED, f"this does not read as a commentary: {exc.reason}")
        return
    if draft.duplicate is not None:
        duplicate = draft.duplicate
        _finish(item, ItemStatus.DUPLICATE, duplicate.reason, piece=duplicate.piece)
        return
    if draft.warnings:
        reason = "the parser had to guess: " + " ".join(draft.warnings)
        _finish(item, ItemStatus.ATTENTION, reason + " Upload it on its own to check it.")
        return
    try:
        with transaction.atomic():
            piece = save_draft(draft, data=data, user=job.owner)  # source_file: the name
            _finish(item, ItemStatus.CREATED, "", piece=piece, forget=False)
    except DuplicateWork as exc:  # another editor or job saved the same work a moment ago
        _finish(item, ItemStatus.DUPLICATE, exc.reason, piece=exc.existing)
        return
    except (OSError, OperationalError) as exc:
        if not isinstance(exc, OSError) and not is_storage_failure(exc):
            raise
        _finish(item, ItemStatus.FAILED, f"not saved: {failure_reason(exc)}")
        return
    STAGED.path(item.token).unlink(missing_ok=True)  # after the commit: the piece keeps a copy


def _finish(item: JobItem, status: str, reason: str, *, piece=None, forget: bool = True) -> None:
    item.status, item.reason, item.piece = status, reason, piece
    item.save(update_fields=["status", "reason", "piece"])
    if forget and item.token:
        STAGED.path(item.token).unlink(missing_ok=True)


def _retry_blocker(job: Job) -> str:
    return ""  # files whose staged copy is gone are recorded as failed, one by one


JOB_KIND = JobKind(
    title="Upload",
    enqueue=enqueue,
    retry_blocker=_retry_blocker,
    stalled_note="The files listed as created are saved; the others are still waiting.",
)
