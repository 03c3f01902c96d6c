"""The one page every background job has: its state, counts and result, and a retry.

It refreshes itself (a ``Refresh`` header, no script) until the job ends, and reloading it
is harmless: everything it shows is read from the job's rows and the worker's progress
file. Only the job's owner sees it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from library.catalogue.views import editor_required
from library.jobs import progress
from library.jobs.kinds import kind_of
from library.jobs.models import ItemStatus, Job, JobStatus

PERMISSION = "catalogue.add_piece"


def _job(request: HttpRequest, pk: int) -> Job:
    return get_object_or_404(Job, pk=pk, owner=request.user)


def _stalled(job: Job) -> bool:
    return progress.is_stalled(job, quiet_seconds=settings.DOSSIER_JOB_STALL_SECONDS)


def item_counts(job: Job) -> dict[str, int]:
    """Files per outcome, zeros included (``needs_attention`` for the template), and ``all``."""
    counts = {status.replace("-", "_"): 0 for status in ItemStatus.values}
    for row in job.items.values("status").annotate(n=Count("pk")):
        counts[row["status"].replace("-", "_")] = row["n"]
    return counts | {"all": sum(counts.values())}


@editor_required(PERMISSION)
@require_GET
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's state and counts; refreshes itself until the job ends."""
    job = _job(request, pk)
    stalled = _stalled(job)
    items = list(job.items.select_related("piece")) if job.kind != "import" else []
    context = {
        "job": job,
        "kind": kind_of(job),
        "progress": progress.read(job.pk),
        "items": items,
        "counts": item_counts(job) if items else {},
        "stalled": stalled,
        "may_retry": stalled or job.status == JobStatus.FAILED,
        "refresh": not job.finished and not stalled,
    }
    response = render(request, "jobs/job.html", context)
    if context["refresh"]:
        response["Refresh"] = "3"  # reloads itself until the job ends (no script needed)
    return response


@editor_required(PERMISSION)
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a failed or stalled job again (an import from the start, a batch where it stopped)."""
    job = _job(request, pk)
    kind = kind_of(job)
    if job.status == JobStatus.DONE or not (_stalled(job) or job.status == JobStatus.FAILED):
        messages.info(request, f"That {kind.title.lower()} is not stuck; it needs no retry.")
        return redirect("jobs:detail", pk=job.pk)
    blocker = kind.retry_blocker(job)
    if blocker:
        messages.error(request, blocker)
        return redirect("jobs:detail", pk=job.pk)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, message="", finished_at=None)
    progress.forget(job.pk)
    kind.enqueue(job)
    messages.info(request, f"The {kind.title.lower()} was queued again.")
    return redirect("jobs:detail", pk=job.pk)
