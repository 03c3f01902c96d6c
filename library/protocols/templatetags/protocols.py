"""Template tags that put the machine-readable layer into pages.

``{% protocol_links %}`` goes in ``base.html``'s head once: it links the OpenSearch
description, the unAPI server, and the Atom and RSS feeds of whatever the page lists,
worked out from the resolved URL so no view has to pass anything. ``{% piece_metadata %}``
writes a piece page's meta tags and JSON-LD; ``{% coins piece %}`` one result's COinS span.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.template.context import RequestContext
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from library.catalogue.browse import Filters
from library.protocols import embedded
from library.protocols.dates import iso_date

register = template.Library()

FEED_FORMATS = (("atom", "application/atom+xml", "Atom"), ("rss", "application/rss+xml", "RSS"))


def feed_target(context: RequestContext) -> tuple[str, dict, str, str] | None:
    """``(url name, kwargs, query string, title)`` of the feed for the current page, if any."""
    request = context.get("request")
    if request is None:
        return None
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    name, kwargs = match.view_name, match.kwargs
    if name == "catalogue:home":
        return "protocols:feed_pieces", {}, "", "Newest pieces"
    if name == "catalogue:piece_list":
        query = Filters.from_query(request.GET).query_string()
        return "protocols:feed_pieces", {}, query, "These pieces"
    if name == "search:search" and request.GET.get("q", "").strip():
        query = urlencode({"q": request.GET["q"][:2000]})
        return "protocols:feed_search", {}, query, "This search"
    for kind in ("topic", "region", "author"):
        if name == f"catalogue:{kind}":
            return f"protocols:feed_{kind}", {"slug": kwargs["slug"]}, "", f"This {kind}"
    reading_list = context.get("reading_list")
    if name == "readinglists:detail" and reading_list and reading_list.visibility == "public":
        return "protocols:feed_list", {"pk": reading_list.pk}, "", "This reading list"
    if name == "readinglists:shared" and reading_list:
        return "protocols:feed_shared_list", {"token": kwargs["token"]}, "", "This reading list"
    return None


@register.simple_tag(takes_context=True)
def protocol_links(context: RequestContext) -> SafeString:
    """The ``<link>`` elements every page's head carries."""
    links = [
        format_html(
            '<link rel="search" type="application/opensearchdescription+xml" '
            'title="Dossier" href="{}">',
            reverse("protocols:opensearch"),
        ),
        format_html(
            '<link rel="unapi-server" type="application/xml" title="unAPI" href="{}">',
            reverse("protocols:unapi"),
        ),
    ]
    target = feed_target(context)
    if target is not None:
        name, kwargs, query, title = target
        for fmt, media_type, label in FEED_FORMATS:
            url = reverse(name, kwargs={**kwargs, "fmt": fmt}) + (f"?{query}" if query else "")
            links.append(
                format_html(
                    '<link rel="alternate" type="{}" title="{} ({})" href="{}">',
                    media_type,
                    title,
                    label,
                    url,
                )
            )
    return mark_safe("\n  ".join(links))  # each part built by format_html


@register.simple_tag(takes_context=True)
def piece_metadata(context: RequestContext, piece) -> SafeString:
    """Highwire and Dublin Core ``<meta>`` tags plus the schema.org JSON-LD script."""
    request = context["request"]
    metas = format_html_join(
        "\n  ", '<meta name="{}" content="{}">', embedded.highwire_tags(request, piece)
    )
    script = format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(embedded.json_ld_text(embedded.json_ld(request, piece))),  # escaped for script
    )
    return format_html("{}\n  {}", metas, script)


@register.simple_tag(takes_context=True)
def coins(context: RequestContext, piece) -> SafeString:
    """A COinS span (empty, hidden) and an unAPI id for one piece."""
    request = context.get("request")
    page = request.build_absolute_uri(piece.get_absolute_url()) if request else ""
    return format_html(
        '<span class="Z3988" title="{}"></span><abbr class="unapi-id" title="{}"></abbr>',
        embedded.coins_title(piece, page),
        piece.citation_key,
    )


@register.filter
def w3c_date(piece) -> str:
    """A ``<time datetime>`` value at the piece's precision: ``2016``, not ``2016-01-01``."""
    return iso_date(piece)
