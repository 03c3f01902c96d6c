"""The search app's one model: index writes still owed to an engine outside the database.

The index tables themselves are not models: the database engine's are SQLite virtual tables
and PostgreSQL tables created by this app's SQL migrations, and they are written in the
saving transaction, so they never need this table. The Whoosh engine is written after
commit and can fail then (another process holds its write lock, a rebuild is running, the
index is missing); what it could not write is recorded here (``library.search.outbox``)
and written by the next successful writer, by the worker, or by ``rebuild_index``.
"""

from __future__ import annotations

from django.db import models


class IndexOperation(models.TextChoices):
    UPDATE = "update", "Add or update"
    DELETE = "delete", "Remove"


class PendingIndexWrite(models.Model):
    """One piece whose latest change has not reached the (non-transactional) index.

    One row per piece: a second failure for the same piece updates the row (its operation,
    error and attempt count) rather than queueing a second write. The write done later
    always reads the piece as it is then, so the operation is what the failed write meant,
    kept for the report; a piece deleted meanwhile is removed whatever the row says.
    """

    piece_id = models.BigIntegerField(unique=True)  # not a key: deleted pieces stay listed
    operation = models.CharField(max_length=10, choices=IndexOperation.choices)
    enqueued_at = models.DateTimeField(help_text="When the first failed write was recorded.")
    attempts = models.PositiveIntegerField(default=1, help_text="Failed writes so far.")
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["enqueued_at", "piece_id"]

    def __str__(self) -> str:
        return f"{self.operation} piece {self.piece_id} ({self.attempts} failed)"
