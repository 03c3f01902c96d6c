"""The orders a browse list can be read in: newest or oldest first, by title, by author."""

from __future__ import annotations

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower

from library.catalogue.models import Authorship, Piece, Role

BROWSE_SORTS = {
    "newest": "Newest",
    "oldest": "Oldest",
    "title": "Title",
    "author": "Author",
}


def sorted_pieces(pieces: QuerySet[Piece], sort: str) -> QuerySet[Piece]:
    """``pieces`` in the named order; the primary key last keeps pagination stable."""
    if sort == "oldest":
        return pieces.order_by(F("date").asc(nulls_last=True), Lower("title"), "pk")
    if sort == "title":
        return pieces.order_by(Lower("title"), Lower("subtitle"), "pk")
    if sort == "author":
        first_author = (
            Authorship.objects.filter(piece=OuterRef("pk"), role=Role.AUTHOR)
            .order_by("position")
            .values("author__family")[:1]
        )
        return pieces.annotate(first_author=Lower(Subquery(first_author))).order_by(
            F("first_author").asc(nulls_last=True), Lower("title"), "pk"
        )
    return pieces.order_by(F("date").desc(nulls_last=True), "title", "pk")
