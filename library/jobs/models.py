"""Long work done by a worker process instead of inside a request (``manage.py db_worker``).

A request that would outlast gunicorn's timeout (a 100,000-entry import, a dozen slow PDFs)
creates a :class:`Job` and enqueues a django-tasks task for it; the page the editor is sent
to (``library.jobs.views``) shows the job's state and counts and survives a reload. A killed
worker leaves nothing half-written and the job can be run again
(:func:`library.jobs.progress.is_stalled` says when to offer that):

- an import keeps its one all-or-nothing transaction, so a retry starts from the beginning;
- a PDF batch has one :class:`JobItem` per file, and each created piece commits together
  with its item's outcome, so a retry goes on with the files still planned and never
  creates a piece twice.
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
    kind = models.CharField(max_length=20)  # "import", "pdf-batch"
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


class ItemStatus(models.TextChoices):
    PLANNED = "planned", "Waiting"
    CREATED = "created", "Created"
    DUPLICATE = "duplicate", "Duplicate"
    ATTENTION = "needs-attention", "Needs attention"
    FAILED = "failed", "Failed"


class JobItem(models.Model):
    """One file of a batch job, and what became of it.

    ``token`` names the file staged for the worker; ``piece`` is the piece created or the
    one it duplicates. An item leaves ``planned`` exactly once: a created piece and its
    item's new status are saved in one transaction.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=300)
    token = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default="planned")
    reason = models.TextField(blank=True)
    piece = models.ForeignKey(
        "catalogue.Piece", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="jobs_item_position")
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"
