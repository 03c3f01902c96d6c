"""On a phone the facets fold away above the results and the Cite box precedes the body."""

from __future__ import annotations

import pytest

from library.catalogue.demo import load_demo
from library.catalogue.vocabulary import load_vocabulary

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def catalogue(live_server):
    load_vocabulary()
    load_demo()
    return live_server.url


def test_facets_are_folded_above_the_results_on_a_phone(browser, catalogue, screenshot):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    for path in ("/pieces/?region=iraq", "/search/?q=mosul"):
        page.goto(catalogue + path)
        summary = page.locator(".facets-fold > summary")
        assert summary.is_visible()
        assert not page.locator(".facet a").first.is_visible()
        results = page.locator(".results")
        assert summary.bounding_box()["y"] < results.bounding_box()["y"]
        summary.click()
        assert page.locator(".facet a").first.is_visible()
    screenshot(page, "phone-search-filters", full_page=True)
    context.close()


def test_facets_are_always_open_on_a_wide_screen(browser, catalogue):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(catalogue + "/pieces/?region=iraq")
    assert not page.locator(".facets-fold > summary").is_visible()
    assert page.locator(".facet a").first.is_visible()
    context.close()


def test_the_cite_box_comes_before_the_body_on_a_phone_and_beside_it_on_a_desktop(
    browser, catalogue
):
    for options, before in ((PHONE, True), (DESKTOP, False)):
        context = browser.new_context(**options)
        page = context.new_page()
        page.goto(catalogue + "/pieces/basit2016mosul/")
        cite = page.locator(".cite-box").bounding_box()
        body = page.locator(".piece-body").bounding_box()
        record = page.locator(".record").bounding_box()
        if before:
            assert cite["y"] + cite["height"] <= body["y"]
        else:
            assert cite["x"] > body["x"] + body["width"]  # in the sidebar
            assert cite["y"] > record["y"]  # under the record, as before
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        context.close()
