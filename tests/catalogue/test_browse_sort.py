"""Browsing sorted by date, title or first author, with filters and pages kept."""

from __future__ import annotations

import datetime

import pytest
from lxml import html


@pytest.fixture
def shelf(make_piece):
    make_piece("banana wars", authors=("Zoe Adams",), date=datetime.date(2001, 1, 1))
    make_piece("Apple of discord", authors=("Ann Zed",), date=datetime.date(2010, 1, 1))
    make_piece("Cherry picking", authors=("{Crisis Group}",), date=None, type="report")


def titles(client, **params) -> list[str]:
    tree = html.fromstring(client.get("/pieces/", params).content)
    return tree.xpath('//ol[@class="piece-list"]//h3/a/text()')


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Apple of discord", "banana wars", "Cherry picking"]),
        ("", ["Apple of discord", "banana wars", "Cherry picking"]),
        ("oldest", ["banana wars", "Apple of discord", "Cherry picking"]),
        ("title", ["Apple of discord", "banana wars", "Cherry picking"]),
        ("author", ["banana wars", "Cherry picking", "Apple of discord"]),
        ("<script>", ["Apple of discord", "banana wars", "Cherry picking"]),
    ],
)
def test_each_order(client, shelf, sort, expected):
    assert titles(client, sort=sort) == expected


def test_the_sort_survives_filters_and_pages(client, shelf, settings):
    assert titles(client, sort="title", type="report") == ["Cherry picking"]
    settings.DOSSIER_PAGE_SIZE = 1
    tree = html.fromstring(client.get("/pieces/", {"sort": "title"}).content)
    assert tree.xpath('//a[@rel="next"]/@href') == ["?sort=title&page=2"]
    facet_links = tree.xpath('//aside[@class="facets"]//a/@href')
    assert facet_links
    assert all(link.endswith("sort=title") for link in facet_links)
    assert tree.xpath('//select[@name="sort"]/option[@selected]/@value') == ["title"]
