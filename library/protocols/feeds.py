"""Atom and RSS feeds with Django's syndication framework.

One feed class describes a piece as an entry; what differs between feeds is only which
pieces they hold and what they are called (:class:`Scope`). Every browse filter, search
query, topic, region, author and public or unlisted reading list has a feed in both
formats, so a reader can follow exactly what a page lists. Entries are the newest
additions first: a feed tells its reader what is new, not what was published first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.html import escape

from library.catalogue.attachments import may_download
from library.catalogue.browse import Filters
from library.catalogue.models import Author, Piece, PieceQuerySet, Region, Topic
from library.protocols.xmltext import xml_safe
from library.readinglists.models import ReadingList, Visibility

FEED_SIZE = 50
FEED_TYPES: dict[str, type[SyndicationFeed]] = {"atom": Atom1Feed, "rss": Rss201rev2Feed}


@dataclass
class Scope:
    """What one feed holds: its title, the page it mirrors and its pieces, newest first."""

    title: str
    link: str
    description: str
    pieces: list[Piece]


def newest(pieces: PieceQuerySet) -> list[Piece]:
    return list(pieces.with_related().order_by("-created_at", "-pk")[:FEED_SIZE])


class PieceFeed(Feed):
    """The entries: a piece's title, byline, synopsis, topics, dates and PDF."""

    feed_type: type[SyndicationFeed] = Atom1Feed

    def __init__(self, scope: Callable[..., Scope], feed_type: type[SyndicationFeed]) -> None:
        self.scope = scope
        self.feed_type = feed_type

    def get_object(self, request: HttpRequest, **kwargs) -> Scope:
        self.request = request
        return self.scope(request, **kwargs)

    def title(self, scope: Scope) -> str:
        return xml_safe(f"{scope.title} · Dossier")

    def link(self, scope: Scope) -> str:
        return scope.link

    def description(self, scope: Scope) -> str:
        return xml_safe(scope.description)

    def subtitle(self, scope: Scope) -> str:
        return xml_safe(scope.description)

    def feed_url(self, scope: Scope) -> str:
        return self.request.get_full_path()

    def items(self, scope: Scope) -> list[Piece]:
        return scope.pieces

    def item_title(self, piece: Piece) -> str:
        # Plain text: the feed generator escapes it once (the default escapes it twice).
        return xml_safe(piece.full_title)

    def item_description(self, piece: Piece) -> str:
        # Atom summary and RSS description are HTML; the synopsis is text, so escape it.
        parts = [f"<p>{escape(piece.display_date)} · {escape(piece.get_type_display())}</p>"]
        if piece.synopsis:
            parts.append(f"<p>{escape(piece.synopsis)}</p>")
        note = getattr(piece, "feed_note", "")
        if note:
            parts.append(f"<p><em>{escape(note)}</em></p>")
        return xml_safe("".join(parts))

    def item_author_name(self, piece: Piece) -> str | None:
        return xml_safe(", ".join(a.display_name for a in piece.authors)) or None

    def item_pubdate(self, piece: Piece):
        return getattr(piece, "feed_added", None) or piece.created_at

    def item_updateddate(self, piece: Piece):
        return piece.updated_at

    def item_categories(self, piece: Piece) -> list[str]:
        names = [t.name for t in piece.topics.all()] + [r.name for r in piece.regions.all()]
        return [xml_safe(name) for name in names]

    def item_guid(self, piece: Piece) -> str:
        return self.request.build_absolute_uri(piece.get_absolute_url())

    def item_guid_is_permalink(self, piece: Piece) -> bool:
        return True

    def item_enclosure_url(self, piece: Piece) -> str | None:
        # No enclosure a feed reader could not fetch (ATTACHMENTS_PUBLIC=0: signed-in only).
        if not piece.attachment or not may_download(self.request):
            return None
        # Unlike the entry link, the framework leaves enclosure URLs as given.
        return self.request.build_absolute_uri(
            reverse("catalogue:piece_attachment", args=[piece.citation_key])
        )

    def item_enclosure_length(self, piece: Piece) -> int | None:
        try:
            return piece.attachment.size if piece.attachment else None
        except FileNotFoundError:
            return 0

    item_enclosure_mime_type = "application/pdf"


# --- scopes ---------------------------------------------------------------------------------


def pieces_scope(request: HttpRequest) -> Scope:
    """The newest pieces, narrowed by any browse filters in the query string."""
    filters = Filters.from_query(request.GET)
    query = filters.query_string()
    labels = [f"{name} {value}" for name, value in filters.active().items()]
    return Scope(
        title="Newest pieces" + (f" ({', '.join(labels)})" if labels else ""),
        link=reverse("catalogue:piece_list") + (f"?{query}" if query else ""),
        description="Pieces most recently added to the catalogue.",
        pieces=newest(filters.apply(Piece.objects.all())),
    )


def search_scope(request: HttpRequest) -> Scope:
    """The pieces a search finds, newest first (the search page's own query language)."""
    from library.search.service import search

    text = request.GET.get("q", "")[:2000]
    result = search(text, sort="newest", page_size=FEED_SIZE)
    found = Piece.objects.with_related().in_bulk([piece.pk for piece, _ in result.entries])
    pieces = [found[piece.pk] for piece, _ in result.entries if piece.pk in found]
    pieces.sort(key=lambda p: (p.created_at, p.pk), reverse=True)
    return Scope(
        title=f"Search: {text.strip()}",
        link=reverse("search:search") + "?" + request.GET.urlencode(),
        description=f"Pieces matching {text.strip()!r}.",
        pieces=pieces,
    )


def topic_scope(request: HttpRequest, slug: str) -> Scope:
    topic = get_object_or_404(Topic, slug=slug)
    return Scope(
        f"Topic: {topic.name}",
        topic.get_absolute_url(),
        f"Newest pieces on {topic.name}.",
        newest(Piece.objects.filter(topics=topic)),
    )


def region_scope(request: HttpRequest, slug: str) -> Scope:
    region = get_object_or_404(Region, slug=slug)
    return Scope(
        f"Region: {region.name}",
        region.get_absolute_url(),
        f"Newest pieces on {region.name}.",
        newest(Piece.objects.filter(regions=region)),
    )


def author_scope(request: HttpRequest, slug: str) -> Scope:
    author = get_object_or_404(Author, slug=slug)
    return Scope(
        f"Author: {author.display_name}",
        author.get_absolute_url(),
        f"Newest pieces by {author.display_name}.",
        newest(Piece.objects.filter(pk__in=author.authorships.values("piece_id"))),
    )


def _list_scope(reading_list: ReadingList, link: str) -> Scope:
    """A reading list's pieces in the list's own order; removed pieces are left out."""
    ordered = (
        reading_list.entries.filter(piece__isnull=False)
        .select_related("section")
        .order_by("section__position", "position", "pk")
    )
    entries = list(ordered[: FEED_SIZE * 4])
    found = Piece.objects.with_related().in_bulk([e.piece_id for e in entries])
    pieces = []
    for entry in entries:
        piece = found.get(entry.piece_id)
        if piece is not None and piece not in pieces:
            piece.feed_added, piece.feed_note = entry.created_at, entry.annotation
            pieces.append(piece)
    return Scope(
        f"Reading list: {reading_list.title}",
        link,
        reading_list.description or f"The pieces of the reading list {reading_list.title}.",
        pieces[:FEED_SIZE],
    )


def list_scope(request: HttpRequest, pk: int) -> Scope:
    """Public lists only: a private list's number must not leak its contents."""
    reading_list = get_object_or_404(ReadingList, pk=pk, visibility=Visibility.PUBLIC)
    return _list_scope(reading_list, reading_list.get_absolute_url())


def shared_list_scope(request: HttpRequest, token: str) -> Scope:
    """Unlisted or public lists, by their revocable link."""
    reading_list = get_object_or_404(
        ReadingList, share_token=token, visibility__in=[Visibility.UNLISTED, Visibility.PUBLIC]
    )
    return _list_scope(reading_list, reading_list.share_url())


def feed_view(scope: Callable[..., Scope]) -> Callable[..., HttpResponse]:
    """A view serving ``scope`` as Atom or RSS, chosen by the URL's ``fmt``."""

    def view(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in FEED_TYPES:
            raise Http404("Feeds come as atom or rss.")
        response = PieceFeed(scope, FEED_TYPES[fmt])(request, **kwargs)
        response["X-Content-Type-Options"] = "nosniff"
        return response

    view.__doc__ = scope.__doc__
    return view
