"""Atom and RSS feeds, read back with feedparser as a feed reader would."""

from __future__ import annotations

import datetime

import feedparser
import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from lxml import html

from library.readinglists.models import Entry, ReadingList, Visibility

NASTY = '</title><script>alert(1)</script> & "Q" <b>bold</b> ]]> \x07bell'


def read(client, url: str, **params) -> feedparser.FeedParserDict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


@pytest.mark.parametrize(("fmt", "version"), [("atom", "atom10"), ("rss", "rss20")])
def test_the_newest_pieces_feed_lists_the_newest_first_with_links_and_dates(
    client, commentary, article, fmt, version
):
    feed = read(client, f"/feeds/pieces.{fmt}")
    assert feed.version == version
    assert feed.feed.title == "Newest pieces · Dossier"
    assert feed.feed.link == "http://testserver/pieces/"
    assert [e.title for e in feed.entries] == [
        "Securitization and Desecuritization",
        "Mosul Operation: What Next for IS? The Coming Dispersal",
    ]
    entry = feed.entries[1]
    assert entry.link == f"http://testserver{commentary.get_absolute_url()}"
    assert entry.id == entry.link
    published = datetime.datetime(*entry.published_parsed[:6], tzinfo=datetime.UTC)
    assert abs(published - commentary.created_at) < datetime.timedelta(seconds=1)
    assert "The battle for Mosul will scatter fighters &amp; &lt;ideas&gt;." in entry.summary
    assert {t.term for t in entry.tags} == {"Terrorism", "Iraq"}
    if fmt == "atom":
        assert entry.author == "Abdul Basit, Jaap de Wilde, International Crisis Group"
        updated = datetime.datetime(*entry.updated_parsed[:6], tzinfo=datetime.UTC)
        assert abs(updated - commentary.updated_at) < datetime.timedelta(seconds=1)


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_an_attached_pdf_is_an_enclosure(client, commentary, fmt, settings):
    commentary.attachment.save("x.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
    # Feed readers fetch anonymously: only public attachments are enclosed.
    (entry,) = read(client, f"/feeds/pieces.{fmt}").entries
    assert not entry.enclosures
    settings.DOSSIER_ATTACHMENTS_PUBLIC = True
    (entry,) = read(client, f"/feeds/pieces.{fmt}").entries
    (enclosure,) = entry.enclosures
    assert enclosure.href == f"http://testserver/pieces/{commentary.citation_key}/attachment/"
    assert enclosure.type == "application/pdf"
    assert enclosure.length == "15"


def test_a_filtered_browse_feed_holds_only_the_matching_pieces(client, commentary, article):
    feed = read(client, "/feeds/pieces.atom", type="article")
    assert [e.title for e in feed.entries] == ["Securitization and Desecuritization"]
    assert feed.feed.link == "http://testserver/pieces/?type=article"
    assert read(client, "/feeds/pieces.atom", year="2016").entries[0].title.startswith("Mosul")


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_topic_region_and_author_feeds(client, commentary, article, fmt):
    for url in (
        f"/feeds/topics/terrorism.{fmt}",
        f"/feeds/regions/iraq.{fmt}",
        f"/feeds/authors/{commentary.authors[0].slug}.{fmt}",
    ):
        assert [e.title for e in read(client, url).entries] == [commentary.full_title]
    assert client.get(f"/feeds/topics/no-such-topic.{fmt}").status_code == 404
    assert client.get("/feeds/pieces.json").status_code == 404


def test_a_search_feed_holds_what_the_search_finds(client, commentary, article):
    feed = read(client, "/feeds/search.atom", q="mosul")
    assert [e.title for e in feed.entries] == [commentary.full_title]
    assert feed.feed.title == "Search: mosul · Dossier"


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_nasty_titles_and_synopses_come_back_exactly_and_never_as_markup(client, make_piece, fmt):
    make_piece(NASTY, synopsis=NASTY, authors=("Ann <O'Neil>",))
    response = client.get(f"/feeds/pieces.{fmt}")
    assert b"<script>" not in response.content
    feed = read(client, f"/feeds/pieces.{fmt}")
    (entry,) = feed.entries
    assert entry.title == NASTY.replace("\x07", "")
    # The summary is HTML whose text is the synopsis: feedparser unescapes it once.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry.summary


def reading_list(make_piece, visibility: str, *pieces) -> ReadingList:
    owner = get_user_model().objects.create_user(username=f"owner-{visibility}", password="x")
    shelf = ReadingList.objects.create(title="Week 1", owner=owner, visibility=visibility)
    if visibility != Visibility.PRIVATE:
        shelf.share_token = f"token{visibility}"
        shelf.save()
    for position, piece in enumerate(pieces):
        Entry.objects.create(
            reading_list=shelf, piece=piece, position=position, annotation="Read <this> first"
        )
    return shelf


def test_a_public_list_feed_follows_the_list_order(client, make_piece, commentary, article):
    shelf = reading_list(make_piece, Visibility.PUBLIC, commentary, article)
    feed = read(client, f"/feeds/lists/{shelf.pk}.atom")
    assert [e.title for e in feed.entries] == [commentary.full_title, article.full_title]
    assert "Read &lt;this&gt; first" in feed.entries[0].summary
    assert feed.feed.title == "Reading list: Week 1 · Dossier"


def test_an_unlisted_list_has_a_feed_only_by_its_link(client, make_piece, commentary):
    shelf = reading_list(make_piece, Visibility.UNLISTED, commentary)
    assert client.get(f"/feeds/lists/{shelf.pk}.atom").status_code == 404
    feed = read(client, f"/feeds/lists/shared/{shelf.share_token}.rss")
    assert [e.title for e in feed.entries] == [commentary.full_title]


def test_each_entry_of_a_list_page_has_a_coins_span(client, make_piece, commentary, article):
    shelf = reading_list(make_piece, Visibility.PUBLIC, commentary, article)
    tree = html.fromstring(client.get(f"/lists/{shelf.pk}/").content)
    spans = tree.xpath('//li[contains(@class, "rl-entry")]//span[@class="Z3988"]')
    assert len(spans) == 2


def test_a_private_list_has_no_feed(client, make_piece, commentary):
    shelf = reading_list(make_piece, Visibility.PRIVATE, commentary)
    assert client.get(f"/feeds/lists/{shelf.pk}.atom").status_code == 404


def alternates(client, url: str) -> list[str]:
    tree = html.fromstring(client.get(url).content)
    return tree.xpath('//link[@rel="alternate"]/@href')


def test_pages_link_their_feeds_with_rel_alternate(client, make_piece, commentary):
    slug = commentary.authors[0].slug
    assert alternates(client, "/") == ["/feeds/pieces.atom", "/feeds/pieces.rss"]
    assert alternates(client, "/pieces/?topic=terrorism&year=2016&page=2") == [
        "/feeds/pieces.atom?topic=terrorism&year=2016",
        "/feeds/pieces.rss?topic=terrorism&year=2016",
    ]
    assert alternates(client, "/search/?q=mosul+%26+co") == [
        "/feeds/search.atom?q=mosul+%26+co",
        "/feeds/search.rss?q=mosul+%26+co",
    ]
    assert alternates(client, "/topics/terrorism/")[0] == "/feeds/topics/terrorism.atom"
    assert alternates(client, "/regions/iraq/")[0] == "/feeds/regions/iraq.atom"
    assert alternates(client, f"/authors/{slug}/")[0] == f"/feeds/authors/{slug}.atom"
    assert alternates(client, commentary.get_absolute_url()) == []
    public = reading_list(make_piece, Visibility.PUBLIC, commentary)
    assert alternates(client, f"/lists/{public.pk}/")[0] == f"/feeds/lists/{public.pk}.atom"
    unlisted = reading_list(make_piece, Visibility.UNLISTED, commentary)
    assert alternates(client, f"/lists/shared/{unlisted.share_token}/")[0] == (
        f"/feeds/lists/shared/{unlisted.share_token}.atom"
    )
