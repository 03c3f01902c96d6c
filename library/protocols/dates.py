"""A piece's date written at its own precision, in each syntax the protocols ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from library.catalogue.models import Piece


def iso_date(piece: Piece) -> str:
    """``2016``, ``2016-10`` or ``2016-10-28`` (W3CDTF, schema.org, Dublin Core); "" undated.

    A year-only piece is stored as 1 January; writing that day would state a precision the
    catalogue does not have, so the stored day and month are dropped.
    """
    if piece.date is None:
        return ""
    if piece.date_precision == "year":
        return f"{piece.date.year:04d}"
    if piece.date_precision == "month":
        return f"{piece.date.year:04d}-{piece.date.month:02d}"
    return piece.date.isoformat()


def highwire_date(piece: Piece) -> str:
    """``2016``, ``2016/10`` or ``2016/10/28``: Google Scholar's form for citation dates."""
    return iso_date(piece).replace("-", "/")
