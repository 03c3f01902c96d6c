"""The outbox: index writes an engine outside the database could not take, kept until done.

The database engine indexes in the saving transaction, so it never owes a write. The Whoosh
engine is written after commit; when that write fails (another process holds Whoosh's write
lock past ``WHOOSH_LOCK_TIMEOUT``, ``rebuild_index`` is running, the index is missing), the
piece ids are recorded here instead of only being logged, and written later by whichever
comes first (``sync.retry_pending``):

- the next index write that succeeds, in any process (it drains the outbox after itself);
- the worker (``manage.py db_worker``): the first failure enqueues ``tasks.retry_index_writes``,
  which retries after a delay and enqueues itself again, backing off, while rows remain;
- ``rebuild_index``, which drains it once the new index is in place.

``check_index`` lists what is pending (and exits non-zero), ``/health/`` counts it, and
``import_citations`` says how many of the pieces it saved wait here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from library.catalogue.models import Piece
from library.search.models import IndexOperation, PendingIndexWrite

# (row id, piece id, attempts) as read before a retry: a row recorded again meanwhile has
# more attempts, and is kept for the next retry rather than deleted with the old one.
Row = tuple[int, int, int]


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


CHUNK = 500  # ids per statement: SQLite allows only so many parameters


def record(piece_ids: Iterable[int], error: str) -> int:
    """Remember that these pieces' index writes failed; returns how many rows were new."""
    ids = sorted(set(piece_ids))
    return sum(_record(ids[i : i + CHUNK], error) for i in range(0, len(ids), CHUNK))


def _record(ids: list[int], error: str) -> int:
    alive = set(Piece.objects.filter(pk__in=ids).values_list("pk", flat=True))
    now = timezone.now()
    with transaction.atomic():
        known = set(
            PendingIndexWrite.objects.filter(piece_id__in=ids).values_list("piece_id", flat=True)
        )
        for operation, chosen in (
            (IndexOperation.UPDATE, [pk for pk in known if pk in alive]),
            (IndexOperation.DELETE, [pk for pk in known if pk not in alive]),
        ):
            if chosen:
                PendingIndexWrite.objects.filter(piece_id__in=chosen).update(
                    operation=operation, attempts=F("attempts") + 1, last_error=error
                )
        new = [
            PendingIndexWrite(
                piece_id=pk,
                operation=IndexOperation.UPDATE if pk in alive else IndexOperation.DELETE,
                enqueued_at=now,
                last_error=error,
            )
            for pk in ids
            if pk not in known
        ]
        # A concurrent recorder may insert the same piece: its row stands for this one too.
        PendingIndexWrite.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def batch_after(last_row: int, size: int) -> list[Row]:
    """The next ``size`` rows after row ``last_row``, oldest first."""
    return list(
        PendingIndexWrite.objects.filter(pk__gt=last_row)
        .order_by("pk")
        .values_list("pk", "piece_id", "attempts")[:size]
    )


def done(rows: list[Row]) -> None:
    """Forget rows whose write succeeded, unless a newer failure was recorded meanwhile."""
    for pk, _piece_id, attempts in rows:
        PendingIndexWrite.objects.filter(pk=pk, attempts=attempts).delete()


def failed_again(rows: list[Row], error: str) -> None:
    PendingIndexWrite.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
        attempts=F("attempts") + 1, last_error=error
    )


def count() -> int:
    return PendingIndexWrite.objects.count()


def clear() -> int:
    """Forget every pending write; returns how many there were."""
    deleted, _ = PendingIndexWrite.objects.all().delete()
    return deleted


@dataclass(frozen=True)
class Pending:
    """What ``check_index`` and ``import_citations`` say about the outbox."""

    count: int
    piece_ids: list[int]  # the oldest ten
    oldest: datetime.datetime | None
    last_error: str

    @property
    def empty(self) -> bool:
        return self.count == 0


def pending() -> Pending:
    """How many writes wait, the oldest ones, and the latest error."""
    rows = PendingIndexWrite.objects.all()
    total = rows.count()
    first = list(rows.order_by("enqueued_at", "piece_id")[:10])
    latest = rows.order_by("-attempts", "-enqueued_at").first()
    return Pending(
        count=total,
        piece_ids=[row.piece_id for row in first],
        oldest=first[0].enqueued_at if first else None,
        last_error=latest.last_error if latest else "",
    )


def pending_among(piece_ids: Iterable[int]) -> int:
    """How many of these pieces wait in the outbox (counted here: an import may name 100,000)."""
    wanted = set(piece_ids)
    waiting = PendingIndexWrite.objects.values_list("piece_id", flat=True).iterator()
    return sum(1 for pk in waiting if pk in wanted)


def unindexed_note(piece_ids: Iterable[int]) -> str:
    """A sentence for a job's result when some of its pieces wait here, else ""."""
    waiting = pending_among(piece_ids)
    if not waiting:
        return ""
    return (
        f" {waiting} of them are not in the search index yet (it was busy); the writes are "
        "kept and retried."
    )
