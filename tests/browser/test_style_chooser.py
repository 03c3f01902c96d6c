"""Finding and choosing any bundled citation style in a real browser, without JavaScript.

The chooser is two GET forms (a select of the four common styles, a search by name whose
matches are links), so it must work with scripts disabled, on a phone, inside the CSP.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import BROWSER_TIMEOUT_MS, REPORT_CSP_VIOLATIONS, is_csp_violation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


def test_a_reader_finds_a_journal_style_and_it_sticks(page, demo_catalogue, screenshot):
    page.goto(demo_catalogue + "/pieces/basit2016mosul/")
    cite = page.locator("#cite")
    assert "Basit, Abdul. 2016." in cite.locator(".formatted-citation").inner_text()
    cite.locator("summary", has_text="Other styles").click()
    cite.get_by_label("Find a style by name").fill("nature biotechnology")
    cite.get_by_role("button", name="Find").click()
    page.wait_for_url("**style_q=nature+biotechnology**")
    assert "1 style matches “nature biotechnology”" in cite.locator(".style-count").inner_text()
    screenshot(page, "style-chooser-results")
    cite.get_by_role("link", name="Nature Biotechnology").click()
    page.wait_for_url("**style=nature-biotechnology#cite")
    formatted = cite.locator(".formatted-citation").inner_text()
    assert formatted.startswith("Basit, A. Mosul Operation")  # Nature's layout, no "1."
    assert cite.locator("#cite-style").input_value() == "nature-biotechnology"

    # The session remembers it: another piece opens in the same style.
    page.goto(demo_catalogue + "/pieces/")
    page.locator(".results .piece-item a").first.click()
    assert page.locator("#cite-style").input_value() == "nature-biotechnology"
    # And the select still leads back to a common style.
    page.locator("#cite-style").select_option("apa")
    page.locator(".style-switcher").get_by_role("button", name="Show").click()
    page.wait_for_url("**style=apa**")
    assert page.locator("#cite-style").input_value() == "apa"


def test_the_chooser_works_without_javascript_on_a_phone(browser, demo_catalogue, screenshot):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(demo_catalogue + "/pieces/basit2016mosul/?style_q=chicago#cite")
    cite = page.locator("#cite")
    assert cite.locator("details.style-find").get_attribute("open") is not None
    results = cite.locator(".style-results a")
    assert results.count() > 10
    screenshot(page, "phone-style-chooser", full_page=True)
    results.filter(has_text="Chicago Manual of Style 17th edition (author-date)").first.click()
    page.wait_for_url("**style=chicago-author-date-17th-edition#cite")
    assert "Basit, Abdul. 2016." in cite.locator(".formatted-citation").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert overflow <= 0
    assert not [m for m in messages if is_csp_violation(m)]


def test_a_reading_list_keeps_its_style_in_the_address(page, demo_catalogue, screenshot):
    from django.contrib.auth import get_user_model

    from library.catalogue.models import Piece
    from library.readinglists import services
    from library.readinglists.models import Visibility

    owner = get_user_model().objects.create_user("teacher", password="x")
    reading_list = services.create_list(owner, "Week 3", "")
    services.set_visibility(reading_list, Visibility.PUBLIC)
    services.add_entry(reading_list, Piece.objects.get(citation_key="basit2016mosul"))
    page.goto(demo_catalogue + reading_list.get_absolute_url() + "?style_q=harvard")
    page.locator(".style-results a").first.click()
    page.wait_for_url("**style=harvard-cite-them-right")
    assert "Basit, A. (2016)" in page.locator(".rl-citation").first.inner_text()
    printed = page.get_by_role("link", name="Print view").get_attribute("href")
    assert printed.endswith("?style=harvard-cite-them-right")
    screenshot(page, "reading-list-style-chooser", full_page=True)
