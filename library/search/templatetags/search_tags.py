"""``{% related_pieces piece as related %}`` for the piece page (no change to its view)."""

from __future__ import annotations

from django import template

from library.catalogue.generation import PageCache
from library.catalogue.models import Piece
from library.search.service import related_ids

register = template.Library()


@register.simple_tag
def related_pieces(piece: Piece, limit: int = 5) -> list[Piece]:
    """Pieces most like ``piece`` by text and shared topics and regions.

    The ranking (a BM25 or ``ts_rank`` query and a shared-tags count, ~100 ms at 10,000
    pieces) is cached until the next committed catalogue write (catalogue/generation.py).
    """
    ids = PageCache.now().get("related", (piece.pk, limit), lambda: related_ids(piece, limit))
    # One query: the list shows each piece's link, title and date, no byline or tags
    # (``with_related`` was three more queries a first view).
    found = Piece.objects.defer("body").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]
