"""Citation snapshots: what an entry cites once its piece has left the catalogue.

A snapshot is the piece's :class:`CitationRecord` stored as JSON. It is taken when the entry
is added and again just before the piece is deleted, so the list keeps the last known
citation and every export format can still write it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from library.catalogue.models import Piece
from library.citations.from_piece import record_from_piece
from library.citations.records import CitationRecord, Name


def record_to_json(record: CitationRecord) -> dict[str, Any]:
    return dataclasses.asdict(record)


def record_from_json(data: dict[str, Any]) -> CitationRecord | None:
    """The stored record, or ``None`` when the snapshot is empty or no longer readable."""
    if not data:
        return None
    fields = {f.name for f in dataclasses.fields(CitationRecord)}
    values = {k: v for k, v in data.items() if k in fields}
    try:
        values["authors"] = tuple(Name(**n) for n in values.get("authors", ()))
        values["editors"] = tuple(Name(**n) for n in values.get("editors", ()))
        values["keywords"] = tuple(values.get("keywords", ()))
        return CitationRecord(**values)
    except (TypeError, ValueError):
        return None


def take_snapshot(entry, piece: Piece) -> None:
    """Copy the piece's current citation onto the entry (the caller saves it)."""
    record = record_from_piece(piece)
    entry.snapshot_title = record.full_title[:1000]
    entry.snapshot_key = record.key
    entry.snapshot_record = record_to_json(record)


def snapshot_before_piece_delete(sender, instance: Piece, **kwargs) -> None:
    """pre_delete handler: refresh every entry citing the piece before the FK is nulled."""
    from library.readinglists.models import Entry

    entries = list(Entry.objects.filter(piece=instance))
    if not entries:
        return
    for entry in entries:
        take_snapshot(entry, instance)
    Entry.objects.bulk_update(entries, ["snapshot_title", "snapshot_key", "snapshot_record"])
