"""A teacher's whole journey in headless Chromium, screenshots in artifacts/screenshots/.

Sign in, create a list with two sections, add three pieces from search results, reorder,
make the list unlisted, open the link signed out, and print it (print media emulation).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 42"


@pytest.fixture
def site(demo_catalogue):
    get_user_model().objects.create_user(username="teacher", password=PASSWORD)
    return demo_catalogue


def entry_titles(page, section: str) -> list[str]:
    block = page.locator(".rl-section", has=page.get_by_role("heading", name=section))
    return [t.strip() for t in block.locator(".rl-citation").all_inner_texts()]


def add_from_search(page, query: str, title: str, section: str) -> None:
    page.get_by_label("Find pieces for this list").fill(query)
    page.locator(".rl-search").get_by_role("button", name="Search").click()
    result = page.locator(".piece-item", has=page.get_by_role("link", name=title, exact=True))
    result.get_by_label("Add to").select_option(label=section)
    result.get_by_role("button", name="Add").click()
    page.get_by_text(f"Added “{title}” to").wait_for()


def test_a_teacher_builds_shares_and_prints_a_syllabus(page, browser, site, screenshot):
    page.goto(site + "/accounts/login/?next=/lists/")
    page.get_by_label("Username").fill("teacher")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/lists/")

    page.get_by_role("link", name="New reading list").click()
    page.get_by_label("Title").fill("Islamic State after Mosul")
    page.get_by_label("Description").fill("A four-week seminar. Read the required pieces first.")
    page.get_by_role("button", name="Create list").click()
    page.wait_for_url(re.compile(r".*/lists/\d+/$"))
    list_url = page.url

    for title in ("Week 1: The fall of Mosul", "Week 2: Southeast Asia"):
        page.get_by_label("Add a section").fill(title)
        page.get_by_role("button", name="Add section").click()
        page.get_by_text(f"Added the section “{title}”.").wait_for()

    # Every piece page offers the teacher's lists and sections.
    page.goto(site + "/pieces/basit2016mosul/")
    picker = page.get_by_label("Add to reading list")
    assert "Islamic State after Mosul › Week 2: Southeast Asia" in picker.inner_text()
    page.locator(".record").screenshot(path=str(SCREENSHOTS / "readinglist-piece-form.png"))

    page.goto(list_url)
    page.get_by_role("link", name="Find pieces to add").first.click()
    add_from_search(
        page, "mosul", "Mosul Operation: The Endgame for IS?", "Week 1: The fall of Mosul"
    )
    add_from_search(page, "wood isis", "What ISIS Really Wants", "Week 1: The fall of Mosul")
    # The third comes straight from the site's search results page.
    page.get_by_role("searchbox").first.fill("marawi battle")
    page.get_by_role("searchbox").first.press("Enter")
    page.wait_for_url("**/search/?q=marawi*")
    title = "The Battle for Marawi: Three Months On"
    result = page.locator(".piece-item", has=page.get_by_role("link", name=title))
    result.get_by_label("Add to reading list").select_option(
        label="Islamic State after Mosul › Week 2: Southeast Asia"
    )
    result.get_by_role("button", name="Add").click()
    page.get_by_text("Added “The Battle for Marawi").wait_for()

    page.goto(list_url)
    week1 = entry_titles(page, "Week 1: The fall of Mosul")
    assert "Mosul Operation" in week1[0]
    assert "What ISIS Really Wants" in week1[1]

    # Reorder without JavaScript: the ↑ button is a plain form.
    page.get_by_role("button", name="Move “What ISIS Really Wants” up").click()
    week1_block = page.locator(
        ".rl-section", has=page.get_by_role("heading", name="Week 1: The fall of Mosul")
    )
    expect(week1_block.locator(".rl-citation").first).to_contain_text("What ISIS Really Wants")
    week1 = entry_titles(page, "Week 1: The fall of Mosul")
    assert "What ISIS Really Wants" in week1[0]
    assert "Mosul Operation" in week1[1]
    assert "Battle for Marawi" in entry_titles(page, "Week 2: Southeast Asia")[0]
    screenshot(page, "readinglist-owner", full_page=True)

    # With JavaScript, dragging is a shortcut for the same change.
    items = week1_block.locator("li.rl-entry")
    items.nth(1).drag_to(items.nth(0), target_position={"x": 20, "y": 5})
    page.get_by_text("Saved the new order.").wait_for()
    week1 = entry_titles(page, "Week 1: The fall of Mosul")
    assert "Mosul Operation" in week1[0]
    assert "What ISIS Really Wants" in week1[1]

    page.get_by_role("link", name="Settings & sharing").click()
    page.get_by_label("Unlisted — anyone with the link").check()
    page.get_by_role("button", name="Save visibility").click()
    page.get_by_text("The list is now unlisted").wait_for()
    share_url = page.locator(".rl-share-link").inner_text()
    assert re.search(r"/lists/shared/[\w-]{32}/$", share_url)

    # A reader who is not signed in opens the link.
    reader = browser.new_context(viewport={"width": 1280, "height": 900})
    outside = reader.new_page()
    outside.goto(share_url)
    assert outside.locator("h1").inner_text() == "Islamic State after Mosul"
    assert outside.get_by_role("button", name=re.compile("Move")).count() == 0
    assert outside.get_by_text("Sign in").count() >= 1
    assert "Mosul Operation" in entry_titles(outside, "Week 1: The fall of Mosul")[0]
    screenshot(outside, "readinglist-shared", full_page=True)
    # The list number alone does not open it.
    assert outside.goto(list_url).status == 404

    outside.goto(share_url)
    outside.get_by_role("link", name="Print view").click()
    outside.emulate_media(media="print")
    assert outside.locator(".site-header").count() == 0
    assert not outside.locator(".rl-screen-only").is_visible()
    assert outside.locator(".rl-section h2").all_inner_texts() == [
        "Week 1: The fall of Mosul",
        "Week 2: Southeast Asia",
    ]
    screenshot(outside, "readinglist-print", full_page=True)
    # Printed for real: each section starts a new page.
    pdf = outside.pdf(path=str(SCREENSHOTS / "readinglist-print.pdf"))
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    reader.close()
