"""Formatted citations kept in the database: citeproc runs once per record version and style.

citeproc-py takes ~25 ms per entry and style (more on a cold process), so a 200-entry
reading list took 2.5 s on its first view, and every piece page paid it for the "Cite" box.
The formatted HTML is stored in :class:`~library.catalogue.models.FormattedCitation`,
keyed by a digest of the style and the whole record: every app instance shares it, a new
process starts warm, and an edited piece or renamed author gives a new digest, so a stale
text is never shown. A piece's rows are deleted when it is saved or deleted (their digests
could no longer be asked for), and reading lists format an entry in the four default
styles when it is added (:func:`store_every_style`), so a list's first view reads rows
instead of running citeproc; any other style is stored by the first request for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from importlib.metadata import version

from library.catalogue.models import FormattedCitation, Piece
from library.citations.collector import collector_paused
from library.citations.records import CitationRecord
from library.citations.styles import STYLES, format_bibliography

#: Rows read per query: well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


def _plain(value: object) -> object:
    """JSON's fallback: a dataclass (a ``Name``) as its fields, anything else as text.

    ``dataclasses.asdict`` deep-copies every value: ~0.5 ms a record, 100 ms of a
    200-entry list's page.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return vars(value)
    return str(value)


#: Part of every key: raise it when our formatting changes (a fix in
#: :mod:`library.citations.styles`), so texts stored by the old code are never shown again.
#: citeproc-py's own version is part of the key too, for an upgrade of the library.
FORMATTER_VERSION = f"dossier-1/citeproc-py-{version('citeproc-py')}"


def digest(record: CitationRecord, style: str) -> str:
    """The key of ``record`` formatted in ``style``: any change to either changes it."""
    content = json.dumps([FORMATTER_VERSION, style, vars(record)], sort_keys=True, default=_plain)
    return hashlib.sha256(content.encode()).hexdigest()


def formatted_citations(
    items: Sequence[tuple[CitationRecord, int | None]], style: str
) -> list[str]:
    """Each ``(record, piece id or None)`` as HTML in ``style``, in order.

    Stored texts are read in one query per 500; the rest are formatted one at a time
    (each entry on its own, as a list shows them) and stored for every later request.
    The HTML is safe: :func:`format_bibliography` escapes every field.
    """
    keys = [digest(record, style) for record, _ in items]
    known = _stored(keys)
    new: dict[str, FormattedCitation] = {}
    for key, (record, piece_id) in zip(keys, items, strict=True):
        if key not in known:
            html = known[key] = _format(record, style)
            new[key] = FormattedCitation(digest=key, style=style, piece_id=piece_id, html=html)
    _store(new.values())
    return [known[key] for key in keys]


def store_every_style(record: CitationRecord, piece_id: int | None) -> None:
    """Format ``record`` in the default styles now, so no reader's first view waits.

    Only :data:`~library.citations.styles.STYLES`, the styles a list offers first; any
    other style id is formatted by the first request that asks for it and stored then
    (:func:`formatted_citations` keys on the style id, whichever it is). One read and one
    write for all of them: the worker runs this after every save, and on SQLite each of
    its writes is a turn of the write lock that an editor's save may have to wait for.
    """
    keys = {style: digest(record, style) for style in STYLES}
    known = _stored(list(keys.values()))
    _store(
        FormattedCitation(digest=key, style=style, piece_id=piece_id, html=_format(record, style))
        for style, key in keys.items()
        if key not in known
    )


def _stored(keys: list[str]) -> dict[str, str]:
    """Digest -> stored HTML of those of ``keys`` that are stored."""
    known: dict[str, str] = {}
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), _CHUNK):
        known.update(
            FormattedCitation.objects.filter(digest__in=wanted[start : start + _CHUNK]).values_list(
                "digest", "html"
            )
        )
    return known


def _format(record: CitationRecord, style: str) -> str:
    """One entry as HTML, formatted on its own as a list shows it."""
    # Without the collections citeproc's allocations trigger: the tail of a piece's first
    # view (library/citations/collector.py).
    with collector_paused():
        (html,) = format_bibliography([record], style, "html", numbered=False)
    return html


def _store(rows: Iterable[FormattedCitation]) -> None:
    """Insert ``rows`` in one statement (none if there are none)."""
    batch = list(rows)
    if batch:
        # Another request may store the same rows meanwhile; theirs are identical.
        FormattedCitation.objects.bulk_create(batch, ignore_conflicts=True)


def forget_piece(sender, instance: Piece, **kwargs) -> None:
    """post_save / post_delete of a piece: its stored texts can no longer be asked for."""
    FormattedCitation.objects.filter(piece_id=instance.pk).delete()
