"""The catalogue's list items (browse, home, author and tag pages), each rendered once for
each version of what it shows.

A list item (``catalogue/_piece_item.html``: its COinS span, byline, date, tags) took ~0.65
ms of template work, 13 ms of a page of twenty: a third of ``/pieces/``' CPU at 100,000
pieces, paid again on every request. Its HTML is a function of the piece's loaded row, its
byline's and tags' rows, the site's address, the URL configuration and script prefix, and
the template, so it is cached under a digest of exactly those. Any edit (the piece, a
byline, an author's name, a tag's name or slug) changes the digest, so nothing needs
invalidating, and the first request after a write renders again only the items whose rows
changed.

The browse and home pages read the byline and tag rows that make the keys as plain
values, three statements for the page, and give model instances (Django's prefetches,
~10 ms of CPU for a page of twenty) only to the items not in the cache. Items go into the
``pages`` cache (settings ``PAGE_CACHE``), read for a whole page at once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.cache import caches
from django.db import models
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe

from library.catalogue.generation import CACHE_SECONDS
from library.catalogue.models import Author, Authorship, Piece, Region, Topic, related_lookups

ITEM_TEMPLATE = "catalogue/_piece_item.html"

Row = tuple[tuple[str, object], ...]
#: A piece's byline (each authorship with its author) and tags, each list in id order.
Related = tuple[tuple[tuple[Row, Row], ...], tuple[Row, ...], tuple[Row, ...]]


def rendered_items(request: HttpRequest | None, pieces: Iterable[Piece]) -> list[SafeString]:
    """The list item of each piece, in order: from the cache, or rendered and cached.

    Pieces loaded ``with_related()`` are keyed from their byline and tags as loaded. Pieces
    loaded alone are keyed from those rows read as values, and only the ones whose items
    are not cached get them as model instances. So a page viewed again and again (browse,
    home) loads its pieces alone, and a page mostly viewed once (an author's, a tag's),
    whose items are rarely cached yet, ``with_related()``: three statements fewer.
    """
    pieces = list(pieces)
    if not pieces:
        return []
    template = get_template(ITEM_TEMPLATE)
    assert isinstance(template, DjangoTemplate)  # the one template engine (settings.TEMPLATES)
    # What every item on the page shares: the template (a changed one, from a new release
    # or an edit under runserver, gives new keys), the site's address (the COinS link) and
    # what the item's links are reversed under (as library/catalogue/links.py keys them).
    source = hashlib.blake2b(template.template.source.encode(), digest_size=8).hexdigest()
    site = request.build_absolute_uri("/") if request is not None else ""
    shared = (source, site, get_urlconf(), settings.ROOT_URLCONF, get_script_prefix())
    if all(_prefetched(piece) for piece in pieces):
        keys = [item_key(piece, shared) for piece in pieces]
    else:
        related = related_rows([piece.pk for piece in pieces])
        keys = [_key(shared, piece, related[piece.pk]) for piece in pieces]
    cache_ = caches["pages"]
    found = cache_.get_many(keys)
    missing = [piece for piece, key in zip(pieces, keys, strict=True) if key not in found]
    prefetch_related_objects(missing, *related_lookups())
    made: dict[str, str] = {}
    items = []
    for key, piece in zip(keys, pieces, strict=True):
        html = found.get(key)
        if html is None:
            # The item reads nothing of the page's context but these two, so none of the
            # context processors run (a RequestContext per item would run them twenty times).
            html = template.render({"piece": piece, "request": request})
            # Keyed on the rows it was rendered from, which a write may have changed since
            # ``related_rows`` read them: what is stored under a key is always that key's.
            made[item_key(piece, shared)] = html
        items.append(mark_safe(html))  # rendered by the (autoescaping) item template
    if made:
        cache_.set_many(made, CACHE_SECONDS)
    return items


def item_key(piece: Piece, shared: Sequence[object] = ()) -> str:
    """The cache key of ``piece``'s list item, from the piece as loaded with its byline and
    tags: the same key :func:`rendered_items` looks up from :func:`related_rows`.

    Every loaded column of the piece (a field loaded or not gives another item: lists load
    the piece without its body), of each authorship and its author, and of each topic and
    region, with ``shared``, what the page's items have in common.
    """
    related = (
        _byline_order([(_row(a), _row(a.author)) for a in piece.authorships.all()]),
        _id_order([_row(topic) for topic in piece.topics.all()]),
        _id_order([_row(region) for region in piece.regions.all()]),
    )
    return _key(shared, piece, related)


def related_rows(piece_ids: list[int]) -> dict[int, Related]:
    """Each piece's byline and tag rows as :func:`item_key` sees them, in three statements.

    ``values_list`` passes each column through its field's converter as loading a model
    does, so the values (dates, JSON lists) are the ones a model instance holds.
    """
    own, author = _columns(Authorship), _columns(Author)
    lookups = [name for name, _ in own] + [f"author__{name}" for name, _ in author]
    byline: dict[int, list[tuple[Row, Row]]] = defaultdict(list)
    rows = Authorship.objects.filter(piece_id__in=piece_ids).order_by().values_list(*lookups)
    for values in rows:
        authorship = _named(own, values[: len(own)])
        byline[_int(authorship, "piece_id")].append(
            (authorship, _named(author, values[len(own) :]))
        )
    topics = _tag_rows(piece_ids, "topics", Topic)
    regions = _tag_rows(piece_ids, "regions", Region)
    return {
        pk: (_byline_order(byline[pk]), _id_order(topics[pk]), _id_order(regions[pk]))
        for pk in piece_ids
    }


def _tag_rows(
    piece_ids: list[int], relation: str, model: type[models.Model]
) -> dict[int, list[Row]]:
    """The pieces' tags of one relation (``Piece.topics``) as rows, by piece."""
    through = getattr(Piece, relation).through
    target = next(f.name for f in through._meta.concrete_fields if f.related_model is model)
    columns = _columns(model)
    lookups = [f"{target}__{name}" for name, _ in columns]
    found = through.objects.filter(piece_id__in=piece_ids).order_by()
    rows: dict[int, list[Row]] = defaultdict(list)
    for piece_id, *values in found.values_list("piece_id", *lookups):
        rows[piece_id].append(_named(columns, values))
    return rows


def _prefetched(piece: Piece) -> bool:
    """Whether ``piece`` holds its byline and tags (``with_related()`` or an earlier call)."""
    # Django's record of a piece's prefetched relations, by relation name.
    done = piece.__dict__.get("_prefetched_objects_cache", {})
    return all(getattr(lookup, "prefetch_to", lookup) in done for lookup in related_lookups())


def _columns(model: type[models.Model]) -> list[tuple[str, str]]:
    """(lookup name, attribute name) of each of the model's columns."""
    return [(field.name, field.attname) for field in model._meta.concrete_fields]


def _named(columns: list[tuple[str, str]], values: Sequence[object]) -> Row:
    return tuple(zip((attname for _, attname in columns), values, strict=True))


def _id_order(rows: list[Row]) -> tuple[Row, ...]:
    """Rows by primary key, so that a key does not depend on the order a query gave."""
    return tuple(sorted(rows, key=lambda row: _int(row, "id")))


def _byline_order(pairs: list[tuple[Row, Row]]) -> tuple[tuple[Row, Row], ...]:
    return tuple(sorted(pairs, key=lambda pair: _int(pair[0], "id")))


def _int(row: Row, name: str) -> int:
    """The integer column ``name`` (an id) of ``row``."""
    value = dict(row)[name]
    assert isinstance(value, int)  # every model here has integer keys
    return value


def _row(instance: models.Model) -> Row:
    """The instance's loaded columns as (name, value) pairs; deferred ones are left out."""
    loaded = instance.__dict__
    return tuple(
        (field.attname, loaded[field.attname])
        for field in instance._meta.concrete_fields
        if field.attname in loaded
    )


def _key(shared: Sequence[object], piece: Piece, related: Related) -> str:
    parts = (tuple(shared), _row(piece), related)
    return f"catalogue:item:{hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()}"
