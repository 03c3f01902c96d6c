"""Protocol URLs, mounted at the site root: feeds, unAPI, OAI-PMH, sitemap, robots, OpenSearch."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, register_converter

from library.protocols import feeds, oai, opensearch, sitemaps, unapi


class FeedFormat:
    """``atom`` or ``rss``, the extension of every feed URL."""

    regex = "atom|rss"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FeedFormat, "feedfmt")

app_name = "protocols"

urlpatterns = [
    path("feeds/pieces.<feedfmt:fmt>", feeds.feed_view(feeds.pieces_scope), name="feed_pieces"),
    path("feeds/search.<feedfmt:fmt>", feeds.feed_view(feeds.search_scope), name="feed_search"),
    path(
        "feeds/topics/<slug:slug>.<feedfmt:fmt>",
        feeds.feed_view(feeds.topic_scope),
        name="feed_topic",
    ),
    path(
        "feeds/regions/<slug:slug>.<feedfmt:fmt>",
        feeds.feed_view(feeds.region_scope),
        name="feed_region",
    ),
    path(
        "feeds/authors/<slug:slug>.<feedfmt:fmt>",
        feeds.feed_view(feeds.author_scope),
        name="feed_author",
    ),
    path("feeds/lists/<int:pk>.<feedfmt:fmt>", feeds.feed_view(feeds.list_scope), name="feed_list"),
    path(
        "feeds/lists/shared/<str:token>.<feedfmt:fmt>",
        feeds.feed_view(feeds.shared_list_scope),
        name="feed_shared_list",
    ),
    path("unapi/", unapi.unapi, name="unapi"),
    path("oai/", oai.oai, name="oai"),
    path("opensearch.xml", opensearch.opensearch, name="opensearch"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": sitemaps.SITEMAPS, "sitemap_url_name": "protocols:sitemap_section"},
        name="sitemap_index",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": sitemaps.SITEMAPS},
        name="sitemap_section",
    ),
]
