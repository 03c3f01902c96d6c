"""The search box answers a DOI, a URL or a citation key with that piece first."""

from __future__ import annotations

import pytest
from lxml import html

from library.protocols.identifiers import find_exact


def first_result(client, query: str) -> tuple[str, str]:
    tree = html.fromstring(client.get("/search/", {"q": query}).content)
    items = tree.xpath(
        '//ol[contains(@class, "search-results")]/li[contains(@class, "piece-item")]'
    )
    assert items, f"no results for {query!r}"
    first = items[0]
    return first.xpath(".//h3/a/text()")[0], first.xpath('string(.//p[@class="exact-match"])')


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("10.5555/rsis.2016.263", "DOI"),
        ("10.5555/RSIS.2016.263", "DOI"),
        ("doi:10.5555/rsis.2016.263", "DOI"),
        ("https://doi.org/10.5555/rsis.2016.263", "DOI"),
        ("  https://www.rsis.edu.sg/rsis-publication/cens/co16263  ", "URL"),
        ("http://www.rsis.edu.sg/rsis-publication/cens/co16263/", "URL"),
        ("basit2016mosul", "citation key"),
        ("BASIT2016MOSUL", "citation key"),
    ],
)
def test_an_identifier_puts_its_piece_first(client, commentary, article, query, kind):
    commentary.citation_key = "basit2016mosul"
    commentary.save()
    title, marker = first_result(client, query)
    assert title == commentary.full_title
    assert marker == f"Exact match for this {kind}"


def test_a_dossier_piece_link_finds_its_piece(client, commentary):
    title, marker = first_result(
        client, f"https://dossier.example.org{commentary.get_absolute_url()}"
    )
    assert title == commentary.full_title
    assert marker == "Exact match for this URL"


def test_a_url_query_shows_no_unknown_field_hint(client, commentary):
    page = client.get("/search/", {"q": "https://doi.org/10.5555/rsis.2016.263"}).content
    assert b"Unknown field" not in page


def test_an_exact_match_is_listed_once_even_when_the_search_also_finds_it(client, commentary):
    tree = html.fromstring(client.get("/search/", {"q": commentary.citation_key}).content)
    titles = tree.xpath('//ol[contains(@class, "search-results")]//h3/a/text()')
    assert titles.count(commentary.full_title) == 1


def test_ordinary_words_and_unknown_identifiers_are_not_exact_matches(commentary):
    assert find_exact("mosul") is None  # a word, and no piece has that key
    assert find_exact("10.9999/unknown") is None
    assert find_exact("https://example.org/nothing") is None
    assert find_exact("") is None
    assert find_exact("a\x00b") is None
    assert find_exact("x" * 5000) is None
