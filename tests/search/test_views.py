"""The search page, the header box and the related-pieces block, as a browser gets them."""

from __future__ import annotations

import html
import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def pieces(database_engine, vocabulary, make_piece):
    return [
        make_piece(
            "Mosul's Coin",
            synopsis="The group minted gold dinars.",
            body="Coins <script>alert('x')</script> & more coin talk.",
            topics=("islamic-state",),
            regions=("iraq",),
        ),
        make_piece("Iraq after Mosul", authors=("Rohan Gunaratna",), regions=("iraq",)),
        make_piece("<b>Bold</b> & % $ # _ { title", authors=("Seán O'Neill",), body="coin"),
    ]


def test_every_page_has_a_search_box_that_works_without_javascript(client, pieces):
    page = client.get("/").content.decode()
    assert re.search(r'<form[^>]*method="get"[^>]*action="/search/"', page)
    assert 'name="q"' in page


def test_results_show_count_highlighted_snippets_and_facets(client, pieces):
    response = client.get("/search/", {"q": "coin"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "of 2 pieces" in page
    assert "<mark>" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    assert "<b>Bold</b>" not in page
    assert "Topics" in page
    assert "Islamic State" in page


def test_a_facet_link_narrows_the_results(client, pieces):
    page = client.get("/search/", {"q": "mosul"}).content.decode()
    link = re.search(r'href="(\?q=mosul\+topic%3Aislamic-state[^"]*)"', page)
    assert link, page
    narrowed = client.get("/search/" + html.unescape(link.group(1))).content.decode()
    assert "1–1 of 1 piece" in narrowed


@pytest.mark.parametrize(
    "params",
    [
        {"q": '"unterminated'},
        {"q": "((("},
        {"q": "x" * 10_000},
        {"q": "mosul\x00"},
        {"q": "mosul", "page": "abc"},
        {"q": "mosul", "page": "-5"},
        {"q": "mosul", "page": "99999999999999999999"},
        {"q": "mosul", "sort": "'; DROP TABLE"},
        {"q": "<script>alert(1)</script>"},
        {"q": ""},
        {},
    ],
)
def test_any_input_gets_a_page_not_an_error(client, pieces, params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_a_repaired_query_shows_a_hint(client, pieces):
    page = client.get("/search/", {"q": '"mosul coin'}).content.decode()
    assert "missing closing quote" in page


def test_did_you_mean_links_to_the_corrected_query(client, pieces):
    page = client.get("/search/", {"q": "Mosol"}).content.decode()
    assert "Did you mean" in page
    assert 'href="?q=mosul"' in page


def test_sort_and_pagination_links(client, pieces, settings):
    settings.DOSSIER_PAGE_SIZE = 1
    page = client.get("/search/", {"q": "coin", "sort": "newest"}).content.decode()
    assert "Page 1 of 2" in page
    assert 'href="?q=coin&amp;sort=newest&amp;page=2"' in page


def test_the_sort_control_offers_title_and_author_without_javascript(client, pieces):
    page = client.get("/search/", {"q": "coin", "sort": "author"}).content.decode()
    form = re.search(r'<form class="search-page-form"[^>]*method="get".*?</form>', page, re.S)
    assert form, page
    options = re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', form.group(0))
    assert [(value, label) for value, _, label in options] == [
        ("relevance", "Relevance"),
        ("newest", "Newest"),
        ("oldest", "Oldest"),
        ("title", "Title"),
        ("author", "Author"),
    ]
    assert [value for value, selected, _ in options if selected] == ["author"]
    # Basit's "Mosul's Coin" before O'Neill's piece; facet links keep the order.
    assert page.index("Mosul&#x27;s Coin") < page.index("&lt;b&gt;Bold")
    assert "sort=author" in re.search(r'href="(\?q=coin\+topic[^"]*)"', page).group(1)
    # By title "<b>Bold…" comes first, though "Mosul's Coin" is the better match.
    page = client.get("/search/", {"q": "coin", "sort": "title"}).content.decode()
    assert page.index("&lt;b&gt;Bold") < page.index("Mosul&#x27;s Coin")


def test_the_piece_page_lists_related_pieces(client, pieces):
    page = client.get(pieces[0].get_absolute_url()).content.decode()
    assert "Related pieces" in page
    assert "Iraq after Mosul" in page
