"""Long work done by a worker process instead of inside a request (``manage.py db_worker``).

A request that would outlast gunicorn's timeout (a 100,000-entry import, say) creates a
:class:`Job` and enqueues a django-tasks task for it; the page the editor is sent to shows
the job's state and counts and survives a reload. The work itself keeps its own
all-or-nothing transaction, so a killed worker leaves nothing half-written and the job can
simply be run again (:func:`library.jobs.progress.is_stalled` says when to offer that).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed: nothing was written"


class Job(models.Model):
    kind = models.CharField(max_length=20)  # "import"
    label = models.CharField(max_length=300, help_text="What the job works on, e.g. a file name.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    payload = models.JSONField(default=dict, blank=True, help_text="What the task needs.")
    planned = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.label} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
