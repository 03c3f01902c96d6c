"""Cursor pagination for pieces, in the order /pieces/ lists them (newest first).

A cursor is the sort key of the last piece on a page, so the next page starts right after
it whatever was added or deleted meanwhile (an offset would skip or repeat pieces), and a
deep page costs the same as the first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json

from django.db.models import F, Q, QuerySet

from library.catalogue.models import Piece

ORDER = (F("date").desc(nulls_last=True), "title", "pk")


class BadCursor(ValueError):
    """A cursor this API did not make."""


def encode(piece: Piece) -> str:
    key = [piece.date.isoformat() if piece.date else None, piece.title, piece.pk]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime.date | None, str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        date_text, title, pk = json.loads(raw)
        date = datetime.date.fromisoformat(date_text) if date_text is not None else None
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise BadCursor("the cursor is not one this API gave out") from exc
    if not isinstance(title, str) or not isinstance(pk, int) or "\x00" in title:
        raise BadCursor("the cursor is not one this API gave out")
    return date, title, pk


def after(queryset: QuerySet[Piece], cursor: str) -> QuerySet[Piece]:
    """The pieces that come after ``cursor`` in :data:`ORDER`."""
    date, title, pk = _decode(cursor)
    same_date_later = Q(title__gt=title) | Q(title=title, pk__gt=pk)
    if date is None:
        return queryset.filter(Q(date__isnull=True) & same_date_later)
    return queryset.filter(Q(date__lt=date) | Q(date=date) & same_date_later | Q(date__isnull=True))
