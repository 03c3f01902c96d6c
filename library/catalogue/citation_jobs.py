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

One task per committed transaction: an import saving 10,000 pieces in one transaction
queues one task with their ids, not 10,000. ``manage.py store_citations`` stores the texts
of pieces that have none (a catalogue from before this, or one built by a bulk command).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from django.db import transaction
from django_tasks import task

from library.catalogue.citation_store import store_every_style
from library.catalogue.models import FormattedCitation, Piece
from library.citations.from_piece import record_from_piece
from library.citations.styles import STYLES

#: Pieces read per query by the task and the backfill.
CHUNK = 200

# Ids saved on this thread's connection since its last commit; a thread has its own
# connection, so its own set.
_pending = threading.local()


def _ids() -> set[int]:
    if not hasattr(_pending, "ids"):
        _pending.ids = set()
    return _pending.ids


def piece_saved(sender, instance: Piece, raw: bool = False, **kwargs) -> None:
    """post_save of a piece: queue its texts for the worker once the save commits.

    Every save registers the same flush with ``on_commit``; the first to run after a
    commit queues every id collected, the rest find nothing. Ids from a rolled-back
    transaction stay in the set and go with the next commit's task, which formats
    whatever those pieces are then (and skips pieces that do not exist).
    """
    if raw:  # loaddata: no catalogue code runs for fixtures
        return
    _ids().add(instance.pk)
    transaction.on_commit(_flush)


def _flush() -> None:
    ids = _ids()
    if ids:
        piece_ids = sorted(ids)
        ids.clear()
        store_cite_texts.enqueue(piece_ids)


@task()
def store_cite_texts(piece_ids: list[int]) -> None:
    """Format and store the pieces' citations in the default styles (skipping stored ones)."""
    for piece in _pieces(piece_ids):
        store_every_style(record_from_piece(piece), piece.pk)


def _pieces(piece_ids: Iterable[int]) -> Iterator[Piece]:
    ids = list(piece_ids)
    for start in range(0, len(ids), CHUNK):
        yield from Piece.objects.with_related().filter(pk__in=ids[start : start + CHUNK])


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
