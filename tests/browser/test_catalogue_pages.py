"""The key catalogue pages in a real browser: home, a filter, a piece page, on desktop and phone."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(demo_catalogue):
    return demo_catalogue


def test_a_reader_browses_from_home_through_a_filter_to_a_piece(page, catalogue, screenshot):
    page.goto(catalogue + "/")
    assert page.locator("h1").inner_text() == "Security studies, catalogued"
    assert page.locator(".piece-item").count() >= 8
    screenshot(page, "home", full_page=True)

    page.locator(".browse a", has_text="Iraq").first.click()
    page.wait_for_url("**/pieces/?region=iraq")
    results = page.locator(".results .piece-item")
    assert results.count() >= 1
    assert "Mosul Operation" in page.locator(".results").inner_text()
    screenshot(page, "filter-iraq", full_page=True)

    # Narrow further with a facet; the count shown matches the items listed.
    page.locator(".facet a", has_text="Islamic State").first.click()
    count_text = page.locator(".result-count").inner_text()
    assert count_text.startswith(f"{results.count()} piece")

    page.get_by_role("link", name="Mosul Operation: The Endgame for IS?").click()
    page.wait_for_url("**/pieces/basit2016mosul/")
    headings = page.locator(".piece-body h2").all_inner_texts()
    assert headings == [
        "Will Loss of Territory Defeat IS?",
        "What Constitutes IS?",
        "Will Iraqi Forces Use CT or COIN in Mosul?",
        "The Aftermath",
    ]
    assert page.locator(".piece-synopsis").inner_text().endswith("over-simplistic.")
    screenshot(page, "piece", full_page=True)


def test_pages_fit_a_phone_screen(browser, catalogue, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    for name, path in [("phone-home", "/"), ("phone-piece", "/pieces/basit2016mosul/")]:
        page.goto(catalogue + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        screenshot(page, name, full_page=True)
    context.close()


def test_the_cite_box_switches_style_and_copies(browser, catalogue, screenshot):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(catalogue + "/pieces/basit2016mosul/")
    formatted = page.locator("#cite-formatted")
    assert formatted.inner_text().startswith("Basit, Abdul. 2016.")
    page.select_option("#cite-style", "apa")
    page.locator(".style-switcher button[type=submit]").click()
    page.wait_for_url("**/pieces/basit2016mosul/?style=apa#cite")
    assert page.locator("#cite-formatted").inner_text().startswith("Basit, A. (2016).")
    copy = page.get_by_role("button", name="Copy citation")
    assert copy.is_visible()  # shown by copy.js; hidden without JavaScript
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("Basit, A. (2016).")
    screenshot(page.locator(".cite-box"), "cite-box")
    context.close()


def test_the_cite_box_works_without_javascript(browser, catalogue):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(catalogue + "/pieces/basit2016mosul/")
    assert not page.get_by_role("button", name="Copy citation").is_visible()
    page.select_option("#cite-style", "modern-language-association")
    page.locator(".style-switcher button[type=submit]").click()
    assert page.locator("#cite-formatted").inner_text().startswith("Basit, Abdul.")
    with page.expect_download() as download:
        page.get_by_role("link", name="BibTeX").first.click()
    assert download.value.suggested_filename == "basit2016mosul.bib"
    context.close()
