"""Searching in a real browser: the header box, highlighted snippets, a facet, "did you mean"."""

from __future__ import annotations

import pytest

from library.catalogue.models import Piece
from library.catalogue.ordering import sorted_pieces
from library.search.backends import get_backend
from tests.browser.conftest import load_demo_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(live_server, settings):
    settings.SEARCH_BACKEND = "database"
    # The index tables are not Django models, so the flush between tests leaves their rows.
    get_backend().clear()
    load_demo_catalogue()
    return live_server.url


def test_a_reader_searches_narrows_and_is_corrected(page, catalogue, screenshot):
    page.goto(catalogue + "/")
    box = page.locator("header #site-search")
    box.fill("mosul")
    box.press("Enter")
    page.wait_for_url("**/search/?q=mosul*")
    results = page.locator(".search-results .piece-item")
    assert results.count() >= 1
    assert "Mosul Operation" in results.first.inner_text()
    marks = page.locator(".search-results .snippet mark")
    assert marks.count() >= 1
    assert marks.first.inner_text().lower().startswith("mosul")
    assert page.locator(".result-count").inner_text().startswith(f"1–{results.count()} of ")
    screenshot(page, "search-results", full_page=True)

    # An author counted once narrows the results to exactly that one piece.
    authors = page.locator(".facet", has=page.locator("h2", has_text="Authors"))
    facet = authors.locator("li", has=page.locator(".count", has_text="1")).first
    label = facet.locator("a").inner_text()
    facet.locator("a").click()
    page.wait_for_url("**/search/?q=mosul+*")
    assert page.locator(".facets [aria-current]").inner_text() == label
    assert page.locator(".search-results .piece-item").count() == 1
    assert page.locator(".result-count").inner_text().startswith("1–1 of 1 piece")
    screenshot(page, "search-facet", full_page=True)

    box = page.locator("header #site-search")
    box.fill("insurgancy")
    box.press("Enter")
    page.wait_for_url("**/search/?q=insurgancy*")
    suggestion = page.locator(".did-you-mean a")
    assert suggestion.inner_text() == "insurgency"
    screenshot(page, "search-did-you-mean", full_page=True)
    suggestion.click()
    page.wait_for_url("**/search/?q=insurgency*")
    assert page.locator(".search-results .piece-item").count() >= 1


@pytest.mark.parametrize("sort", ["title", "author"])
def test_results_sort_by_title_or_author_without_javascript(browser, catalogue, sort):
    """The sort control is a plain GET form: it works with scripts off, and the order is
    the browse page's (library/catalogue/ordering.py) over the matching pieces."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(catalogue + "/search/?q=security")
    page.locator("#search-sort").select_option(sort)
    page.locator(".search-page-form button[type=submit]").click()
    page.wait_for_url(f"**/search/?q=security&sort={sort}*")
    assert page.locator("#search-sort").input_value() == sort
    links = page.locator(".search-results .piece-title a")
    keys = [
        href.rstrip("/").rsplit("/", 1)[1]
        for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    ]
    context.close()
    assert len(keys) > 2
    matched = Piece.objects.filter(citation_key__in=keys)
    assert list(sorted_pieces(matched, sort).values_list("citation_key", flat=True)) == keys


def test_bad_input_gets_an_answer_not_an_error(page, catalogue):
    response = page.goto(catalogue + "/search/?q=%22mosul+(+<script>alert(1)</script>+AND")
    assert response.status == 200
    assert page.locator(".search-hints").count() == 1
    assert page.locator("script", has_text="alert(1)").count() == 0


def test_search_fits_a_phone_screen(browser, catalogue, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    for name, query in [("search-phone", "mosul"), ("search-phone-suggest", "insurgancy")]:
        page.goto(f"{catalogue}/search/?q={query}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"search for {query} scrolls sideways by {overflow}px on a phone"
        screenshot(page, name, full_page=True)
    context.close()
