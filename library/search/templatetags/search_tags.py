"""``{% related_pieces piece as related %}`` for the piece page (no change to its view)."""

from __future__ import annotations

from django import template

from library.catalogue.models import Piece
from library.search.service import related_pieces as find_related

register = template.Library()


@register.simple_tag
def related_pieces(piece: Piece, limit: int = 5) -> list[Piece]:
    """Pieces most like ``piece`` by text and shared topics and regions."""
    return find_related(piece, limit=limit)
