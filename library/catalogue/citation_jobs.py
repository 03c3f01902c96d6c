"""The Cite box's texts formatted by the worker after a piece is saved, not by its first view.

A piece page shows the piece formatted in the reader's style (citeproc-py, 5-20 ms an
entry and style) and stores it (``citation_store``); every save deletes the stored texts,
so each first view after a save, and every piece of a fresh import, paid citeproc in the
request. Now a saved piece is queued for :func:`store_cite_texts` (``manage.py
db_worker``), which stores the four default styles, so a first view reads stored text.

Nothing here decides what is shown: the page still looks texts up by the digest of the
record it is showing, and formats inline whatever is not stored (the worker not run yet,
not running at all, an author renamed since, a style outside the four). A worker that
formats a version of the piece already replaced stores text under that version's digest,
which no page asks for.

The task is queued in the saving transaction itself (a row of django-tasks' table), so it
commits or rolls back with the save: one INSERT, ~0.6 ms of a save's p50 on SQLite and
~1 ms on PostgreSQL at 100,000 pieces (200 alternating saves, load 2.8). An ``on_commit``
enqueue batching a transaction's pieces into one task, tried first, was a second commit
after the save's (~0.9 and ~1.5 ms at load 1.9) and kept per-thread state across
rollbacks. An import's bulk writes queue one task per 500 new pieces
(``imports/writing.py``: bulk-created rows send no ``post_save``). ``manage.py
store_citations`` stores the texts of pieces that have none (a catalogue from before this,
or one written by another bulk command).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from library.catalogue.citation_store import store_every_style
from library.catalogue.models import FormattedCitation, Piece
from library.citations.from_piece import record_from_piece
from library.citations.styles import STYLES

#: Pieces read per query by the task and the backfill.
CHUNK = 200


def piece_saved(sender, instance: Piece, raw: bool = False, **kwargs) -> None:
    """post_save of a piece: queue its texts for the worker, in the saving transaction."""
    if raw:  # loaddata: no catalogue code runs for fixtures
        return
    store_cite_texts.enqueue([instance.pk])


#: Below django-tasks' default (0): an import of 10,000 pieces queues 10,000 of these
#: (~5 minutes of a worker), and the editor's own jobs and index retries go first.
PRIORITY = -50


@task(priority=PRIORITY)
def store_cite_texts(piece_ids: list[int]) -> None:
    """Format and store the pieces' citations in the default styles (skipping stored ones)."""
    for piece in _pieces(piece_ids):
        store_every_style(record_from_piece(piece), piece.pk)


def _pieces(piece_ids: Iterable[int]) -> Iterator[Piece]:
    ids = list(piece_ids)
    for start in range(0, len(ids), CHUNK):
        yield from Piece.objects.with_related().filter(pk__in=ids[start : start + CHUNK])


def prune_finished(older_than: datetime.timedelta) -> int:
    """Delete the finished tasks' rows older than ``older_than``; how many went.

    One row per save is kept by django-tasks after it runs and nothing reads it again
    (the stored texts are what counts), unlike an import's, which its job page shows.
    """
    done = DBTaskResult.objects.successful().filter(
        task_path=store_cite_texts.module_path, finished_at__lt=timezone.now() - older_than
    )
    return done.delete()[0]


def missing(style: str) -> list[int]:
    """Ids of pieces with no stored text in ``style`` (as the backfill finds them)."""
    stored = FormattedCitation.objects.filter(style=style, piece_id__isnull=False)
    return list(
        Piece.objects.exclude(pk__in=stored.values("piece_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def pieces_missing_any_style() -> list[int]:
    """Ids of pieces lacking a stored text in at least one default style."""
    found: set[int] = set()
    for style in STYLES:
        found.update(missing(style))
    return sorted(found)
