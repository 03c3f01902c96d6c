"""Signal handlers, registered for the indexed models only (see apps.py)."""

from __future__ import annotations

from django.db.models import QuerySet

from library.catalogue.models import Author, Authorship, Piece
from library.search import sync

# Saving only these fields (e.g. recording who created a piece) changes nothing indexed.
_UNINDEXED = frozenset(
    {"created_by", "provenance", "source_file", "source_hash", "updated_at", "created_at"}
)


def piece_saved(sender, instance: Piece, update_fields=None, raw: bool = False, **kwargs) -> None:
    if raw:
        return  # loaddata: rebuild_index afterwards
    if update_fields is not None and set(update_fields) <= _UNINDEXED:
        return
    sync.index_piece(instance.pk)


def piece_deleted(sender, instance: Piece, **kwargs) -> None:
    sync.index_piece(instance.pk)


def tags_changed(sender, instance, action: str, reverse: bool, pk_set=None, **kwargs) -> None:
    if reverse and action == "pre_clear":
        # Django sends no pk_set for a clear; remember which pieces lose the tag.
        instance._search_cleared = list(instance.pieces.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        sync.index_piece(instance.pk)
    elif action == "post_clear":
        sync.index_pieces(getattr(instance, "_search_cleared", []))
    elif pk_set:
        sync.index_pieces(pk_set)


def authorship_changed(sender, instance: Authorship, raw: bool = False, **kwargs) -> None:
    if raw or _piece_is_being_deleted(kwargs.get("origin")):
        return
    sync.index_piece(instance.piece_id)


def _piece_is_being_deleted(origin: object) -> bool:
    """Whether a byline row goes because its piece does (Django deletes it first).

    ``piece_deleted`` then removes the piece from the index; indexing it here would
    write it once more without its byline, only to remove it a moment later.
    """
    if isinstance(origin, Piece):
        return True
    return isinstance(origin, QuerySet) and origin.model is Piece


def term_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A renamed topic or region changes the tag text of every piece it tags."""
    if not created and not raw:
        sync.index_queryset(instance.pieces.all())


def author_saved(sender, instance: Author, created: bool, raw: bool = False, **kwargs) -> None:
    if not created and not raw:
        sync.index_queryset(Piece.objects.filter(authorships__author=instance).distinct())
