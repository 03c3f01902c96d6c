"""Sitemap, robots.txt and the OpenSearch description: how crawlers and browsers find us."""

from __future__ import annotations

from lxml import etree, html

SM = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
OS = {"os": "http://a9.com/-/spec/opensearch/1.1/"}


def locations(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return etree.fromstring(response.content).xpath("//sm:loc/text()", namespaces=SM)


def test_the_sitemap_index_lists_every_section_and_each_lists_its_pages(
    client, commentary, article
):
    sections = locations(client, "/sitemap.xml")
    assert "http://testserver/sitemap-pieces.xml" in sections
    pieces = locations(client, "/sitemap-pieces.xml")
    assert sorted(pieces) == sorted(
        f"http://testserver{p.get_absolute_url()}" for p in (commentary, article)
    )
    tree = etree.fromstring(client.get("/sitemap-pieces.xml").content)
    assert len(tree.xpath("//sm:lastmod", namespaces=SM)) == 2
    topics = locations(client, "/sitemap-topics.xml")
    assert topics == ["http://testserver/topics/terrorism/"]  # only topics with pieces
    authors = locations(client, "/sitemap-authors.xml")
    assert f"http://testserver{commentary.authors[0].get_absolute_url()}" in authors
    assert "http://testserver/pieces/" in locations(client, "/sitemap-pages.xml")


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_off_private_pages(client, db):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/admin/", "/accounts/", "/search/", "/export/", "/import/"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_the_opensearch_description_is_linked_from_every_page_and_templates_search(client, db):
    href = html.fromstring(client.get("/").content).xpath(
        '//link[@rel="search"][@type="application/opensearchdescription+xml"]/@href'
    )
    assert href == ["/opensearch.xml"]
    response = client.get(href[0])
    assert response["Content-Type"].startswith("application/opensearchdescription+xml")
    root = etree.fromstring(response.content)
    assert root.findtext("os:ShortName", namespaces=OS) == "Dossier"
    templates = {u.get("type"): u.get("template") for u in root.findall("os:Url", OS)}
    assert templates["text/html"] == "http://testserver/search/?q={searchTerms}"
    assert (
        templates["application/atom+xml"] == "http://testserver/feeds/search.atom?q={searchTerms}"
    )
