"""The sitemap (django.contrib.sitemaps) and robots.txt that points crawlers at it.

An index at ``/sitemap.xml`` lists one sitemap per section, each paginated at Django's
50,000-URL limit, so a catalogue of 100,000 pieces and 30,000 authors stays valid.
"""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from library.catalogue.models import Author, Piece, Region, Topic
from library.readinglists.models import ReadingList, Visibility


class PieceSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self) -> QuerySet:
        return Piece.objects.only("citation_key", "updated_at").order_by("pk")

    def lastmod(self, piece: Piece):
        return piece.updated_at


class TermSitemap(Sitemap):
    """Topics, regions or authors that have at least one piece (empty pages help nobody)."""

    changefreq = "weekly"
    priority = 0.5

    def __init__(self, model: type[Topic] | type[Region] | type[Author]) -> None:
        self.model = model

    def items(self) -> QuerySet:
        counted = "authorships" if self.model is Author else "pieces"
        return (
            self.model.objects.annotate(n=Count(counted))
            .filter(n__gt=0)
            .only("slug")
            .order_by("pk")
        )


class ReadingListSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self) -> QuerySet:
        return ReadingList.objects.filter(visibility=Visibility.PUBLIC).order_by("pk")

    def lastmod(self, reading_list: ReadingList):
        return reading_list.updated_at


class PageSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self) -> list[str]:
        return [
            "catalogue:home",
            "catalogue:piece_list",
            "catalogue:topic_index",
            "catalogue:region_index",
            "catalogue:author_index",
            "readinglists:index",
        ]

    def location(self, name: str) -> str:
        return reverse(name)


SITEMAPS: dict[str, Sitemap] = {
    "pages": PageSitemap(),
    "pieces": PieceSitemap(),
    "topics": TermSitemap(Topic),
    "regions": TermSitemap(Region),
    "authors": TermSitemap(Author),
    "lists": ReadingListSitemap(),
}

#: Pages a crawler gains nothing from: accounts, editing, exports, and search results
#: (infinitely many URLs over the same pieces, which the sitemap already lists).
DISALLOWED = (
    "/admin/",
    "/accounts/",
    "/import/",
    "/export/",
    "/search/",
    "/pieces/new/",
    "/pieces/paste/",
    "/pieces/upload/",
    "/pieces/*/edit/",
    "/pieces/*/delete/",
    "/pieces/*/export/",
    "/lists/new/",
    "/lists/shared/",
    "/unapi/",
    "/oai/",
)


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawl everything public except :data:`DISALLOWED`; the sitemap's absolute URL."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED)]
    lines += ["", f"Sitemap: {request.build_absolute_uri(reverse('protocols:sitemap_index'))}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
