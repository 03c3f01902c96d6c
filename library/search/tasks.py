"""The worker's part in draining the search outbox (``manage.py db_worker``).

The first index write recorded in an empty outbox enqueues :func:`retry_index_writes` to run
a little later (the lock that stopped it is usually free again within seconds). While
writes remain it enqueues itself again, waiting twice as long each time up to
``MAX_DELAY``, so a long ``rebuild_index`` or a stuck writer costs a handful of tasks, not
one per save. Any successful index write drains the outbox too, so the task is the backstop
for a quiet catalogue, not the only way out.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django_tasks import task

MAX_DELAY = 600.0


def _first_delay() -> float:
    return 3.0 * float(getattr(settings, "WHOOSH_LOCK_TIMEOUT", 10))


def schedule_retry(delay: float | None = None) -> None:
    """Enqueue a retry ``delay`` seconds from now (at once on a backend that cannot defer)."""
    delay = _first_delay() if delay is None else delay
    retry = retry_index_writes
    if retry.get_backend().supports_defer:
        retry = retry.using(run_after=timezone.now() + datetime.timedelta(seconds=delay))
    elif delay > _first_delay():
        return  # an immediate backend would retry in a loop; the next writer will do it
    retry.enqueue(delay)


@task()
def retry_index_writes(delay: float) -> int:
    """Write what the outbox holds; returns how many writes are still pending."""
    from library.search.sync import retry_pending

    _written, left = retry_pending()
    if left:
        schedule_retry(min(MAX_DELAY, 2 * delay))
    return left


# --- index upkeep ------------------------------------------------------------------------------
# The database engine's writes leave work an engine would otherwise do inside the saving
# request's commit: SQLite's WAL checkpoint (copying the log into the database, with its
# fsync) and FTS5's segment merges; PostgreSQL's GIN pending lists, merged into the text
# indexes by the insert that fills one. A write that finds it due asks the worker for it,
# once: no second task while one waits (library/search/README.md, "Saves and upkeep").


def request_upkeep(backend, *, delay: float = 0.0, always: bool = False) -> bool:
    """Enqueue :func:`maintain_index` if ``backend`` has upkeep due and none waits.

    Called in the saving transaction, after its index write, so the task row commits or
    rolls back with the save; by ``rebuild_index`` when it ends (``always``: a rebuild
    leaves big segments FTS5 wants merged); and by the task itself, ``delay`` seconds on,
    while it still finds segments to merge. Without a worker-backed task backend nothing
    is enqueued: the engine's own bounds then apply inside a save (SQLite's automatic
    checkpoint at ``SQLITE_WAL_AUTOCHECKPOINT`` frames, FTS5's crisis merge, PostgreSQL's
    ``gin_pending_list_limit``).
    """
    if not (always or backend.upkeep_due()):
        return False
    task_backend = maintain_index.get_backend()
    if not task_backend.supports_defer:  # an immediate backend would run it inside the save
        return False
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=maintain_index.module_path, status="READY"
    ).exists()
    if waiting:
        return False
    run = maintain_index
    if delay:
        run = run.using(run_after=timezone.now() + datetime.timedelta(seconds=delay))
    run.enqueue()
    return True


# While a run merged something, the next runs this much later: merging goes on in the
# background, a few short steps a run with the write lock free between them (a save waits
# for at most one step), until FTS5 wants no more.
MERGE_PACE = 0.25
# While a run pruned a full batch of the change log (and merged nothing), the next runs this
# much later: old log rows cost nothing but room, so a big import's (750,000 rows at
# 100,000 pieces) go a batch a second, a few ms of the write lock each, not in one long hold.
PRUNE_PACE = 1.0


@task()
def maintain_index() -> dict[str, int]:
    """The configured engine's deferred upkeep (merges, checkpoint, pending lists) and the
    pruning of the catalogue's change log (which the facet arrays read); what it did, by
    name."""
    from library.catalogue.facet_arrays import PRUNE_BATCH, prune_log
    from library.search.backends import get_backend

    backend = get_backend()
    done = {**backend.upkeep(), "changes_pruned": prune_log()}
    if done.get("merge_steps"):
        request_upkeep(backend, delay=MERGE_PACE, always=True)
    elif done["changes_pruned"] >= PRUNE_BATCH:
        request_upkeep(backend, delay=PRUNE_PACE, always=True)
    return done


def prune_finished_upkeep(older_than: datetime.timedelta) -> int:
    """Delete the rows of successful ``maintain_index`` runs older than ``older_than``.

    A run every few saves (and one every MERGE_PACE or PRUNE_PACE while it merges or prunes)
    leaves a row django-tasks keeps and nothing reads again; a failed run's row stays.
    """
    from django_tasks_db.models import DBTaskResult

    finished = DBTaskResult.objects.successful().filter(
        task_path=maintain_index.module_path, finished_at__lt=timezone.now() - older_than
    )
    return finished.delete()[0]
