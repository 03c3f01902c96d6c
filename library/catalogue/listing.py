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

Items go into the ``pages`` cache (settings ``PAGE_CACHE``), read for a whole page at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import caches
from django.db import models
from django.http import HttpRequest
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe

from library.catalogue.generation import CACHE_SECONDS
from library.catalogue.models import Piece

ITEM_TEMPLATE = "catalogue/_piece_item.html"


def rendered_items(request: HttpRequest | None, pieces: Iterable[Piece]) -> list[SafeString]:
    """The list item of each piece, in order: from the cache, or rendered and cached.

    ``pieces`` should be loaded ``with_related()``: the item shows the byline and tags, and
    the digest reads them (from the prefetch, or with the queries the item would make).
    """
    pieces = list(pieces)
    template = get_template(ITEM_TEMPLATE)
    # What every item on the page shares: the template (a changed one, from a new release
    # or an edit under runserver, gives new keys), the site's address (the COinS link) and
    # what the item's links are reversed under (as library/catalogue/links.py keys them).
    source = hashlib.blake2b(template.template.source.encode(), digest_size=8).hexdigest()
    site = request.build_absolute_uri("/") if request is not None else ""
    shared = (source, site, get_urlconf(), settings.ROOT_URLCONF, get_script_prefix())
    keys = [item_key(piece, shared) for piece in pieces]
    cache_ = caches["pages"]
    found = cache_.get_many(keys)
    made: dict[str, str] = {}
    items = []
    for key, piece in zip(keys, pieces, strict=True):
        html = found.get(key)
        if html is None:
            # The item reads nothing of the page's context but these two, so none of the
            # context processors run (a RequestContext per item would run them twenty times).
            html = made[key] = template.render({"piece": piece, "request": request})
        items.append(mark_safe(html))  # rendered by the (autoescaping) item template
    if made:
        cache_.set_many(made, CACHE_SECONDS)
    return items


def item_key(piece: Piece, shared: tuple[str, ...] = ()) -> str:
    """The cache key of ``piece``'s list item: a digest of everything the item shows.

    Every loaded column of the piece (a field loaded or not gives another item: lists load
    the piece without its body), of each authorship and its author, and of each topic and
    region, with ``shared``, what the page's items have in common.
    """
    parts = (
        shared,
        _row(piece),
        [(_row(authorship), _row(authorship.author)) for authorship in piece.authorships.all()],
        [_row(topic) for topic in piece.topics.all()],
        [_row(region) for region in piece.regions.all()],
    )
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    return f"catalogue:item:{digest}"


def _row(instance: models.Model) -> tuple[tuple[str, object], ...]:
    """The instance's loaded columns as (name, value) pairs; deferred ones are left out."""
    loaded = instance.__dict__
    return tuple(
        (field.attname, loaded[field.attname])
        for field in instance._meta.concrete_fields
        if field.attname in loaded
    )
