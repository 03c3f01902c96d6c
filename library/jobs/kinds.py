"""What the shared job page needs to know about each kind of job, by ``Job.kind``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from library.jobs.models import Job


@dataclass(frozen=True)
class JobKind:
    title: str  # "Import", "Upload"
    enqueue: Callable[[Job], None]
    # Why the job cannot be run again (its staged file is gone, say), or "".
    retry_blocker: Callable[[Job], str]
    # What a stalled job left: the import's transaction nothing, a batch its finished files.
    stalled_note: str


def kind_of(job: Job) -> JobKind:
    """The kind's description; its module registers the task the worker runs."""
    from library.catalogue import upload_jobs
    from library.imports import jobs as import_jobs

    kinds = {import_jobs.KIND: import_jobs.JOB_KIND, upload_jobs.KIND: upload_jobs.JOB_KIND}
    return kinds[job.kind]
