"""Build a :class:`CitationRecord` from a catalogued ``Piece``: the one Django-aware module.

Everything else in this package is pure Python; this module reads model instances
(duck-typed, so it needs no import of the models) and maps them field by field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from library.citations.records import CitationRecord, Name

if TYPE_CHECKING:
    from library.catalogue.models import Author, Piece


def name_from_author(author: Author) -> Name:
    return Name(
        family=author.family,
        given=author.given,
        particle=author.particle,
        suffix=author.suffix,
        is_organisation=author.is_organisation,
    )


def date_parts(piece: Piece) -> tuple[int | None, int | None, int | None]:
    """Year, month and day, each ``None`` beyond the piece's date precision."""
    if piece.date is None:
        return None, None, None
    if piece.date_precision == "year":
        return piece.date.year, None, None
    if piece.date_precision == "month":
        return piece.date.year, piece.date.month, None
    return piece.date.year, piece.date.month, piece.date.day


def record_from_piece(piece: Piece) -> CitationRecord:
    """The piece as the citation formats see it (uses prefetched authorships if present)."""
    year, month, day = date_parts(piece)
    return CitationRecord(
        key=piece.citation_key,
        type=piece.type,
        title=piece.title,
        subtitle=piece.subtitle,
        authors=tuple(name_from_author(a) for a in piece.authors),
        editors=tuple(name_from_author(a) for a in piece.editors),
        year=year,
        month=month,
        day=day,
        publisher=piece.publisher,
        place=piece.place,
        series=piece.series,
        number=piece.number,
        container_title=piece.container_title,
        volume=piece.volume,
        issue=piece.issue,
        pages=piece.pages,
        edition=piece.edition,
        url=piece.url,
        accessed=piece.accessed.isoformat() if piece.accessed else "",
        doi=piece.doi,
        language=piece.language,
        abstract=piece.synopsis,
        keywords=tuple(str(k) for k in piece.keywords or ()),
        note=piece.note,
    )
