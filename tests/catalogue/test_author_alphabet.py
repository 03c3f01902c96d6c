"""The author index's A–Z jump."""

from __future__ import annotations

from lxml import html


def names(client, **params) -> list[str]:
    tree = html.fromstring(client.get("/authors/", params).content)
    return tree.xpath('//ul[@class="index-list"]/li/a/text()')


def test_a_letter_lists_only_its_authors_with_transliterated_initials(client, make_piece):
    make_piece("One", authors=("Ole Wæver", "Abdul Basit"))
    make_piece("Two", authors=("Anna Øberg", "Thi Binh Đặng", "Li 毛"))
    make_piece("Three", authors=("Bo Ortega", "{9/11 Commission}"))
    assert names(client, letter="W") == ["Wæver, Ole"]
    assert names(client, letter="o") == ["Ortega, Bo", "Øberg, Anna"]
    assert names(client, letter="D") == ["Đặng, Thi Binh"]
    assert names(client, letter="M") == ["毛, Li"]
    assert names(client, letter="#") == ["9/11 Commission"]
    assert len(names(client)) == 7
    assert len(names(client, letter="ZZ")) == 0  # "Z": nobody


def test_letters_without_authors_are_not_links_and_pages_keep_the_letter(client, make_piece):
    make_piece("One", authors=("Ole Wæver",))
    tree = html.fromstring(client.get("/authors/", {"letter": "W"}).content)
    nav = tree.xpath('//nav[@class="alphabet"]')[0]
    assert nav.xpath(".//a/text()") == ["All", "W"]
    assert nav.xpath('.//a[@aria-current="page"]/text()') == ["W"]
    assert "Q" in nav.xpath(".//span/text()")
    assert tree.xpath("//h1/text()") == ["Authors: W"]


def test_an_unknown_letter_shows_everyone(client, make_piece):
    make_piece("One", authors=("Ole Wæver",))
    assert names(client, letter="<script>") == ["Wæver, Ole"]
