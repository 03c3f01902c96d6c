"""The import page in a real browser: upload, preview, confirm; and on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"


def sign_in(page, base: str) -> None:
    page.goto(base + "/accounts/login/?next=/import/")
    page.fill("input[name=username]", "ed")
    page.fill("input[name=password]", "correct horse 42")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/import/")


def test_an_editor_previews_then_imports_a_bib_file(page, live_server, editor, screenshot):
    sign_in(page, live_server.url)
    page.set_input_files("input[name=file]", str(FIXTURES / "jabref.bib"))
    page.get_by_role("button", name="Preview the import").click()
    page.wait_for_load_state()
    assert "Found 10 entries" in page.locator(".import-counts").inner_text()
    assert page.locator("#new-heading").inner_text() == "New pieces (10)"
    screenshot(page, "import-preview", full_page=True)

    page.get_by_role("button", name="Import 10 new pieces").click()
    page.wait_for_url("**/pieces/")
    assert "Imported jabref.bib: 10 new, 0 duplicate(s), 0 rejected." in page.inner_text("main")


def test_the_preview_fits_a_phone_screen(browser, live_server, editor, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server.url)
    page.set_input_files("input[name=file]", str(FIXTURES / "truncated.bib"))
    page.get_by_role("button", name="Preview the import").click()
    page.wait_for_load_state()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the preview scrolls sideways by {overflow}px on a phone"
    # Wide tables scroll inside their own box instead of widening the page.
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('main > *, .table-scroll')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 390, f"the preview is {widest}px wide on a 390px phone"
    screenshot(page, "phone-import-preview", full_page=True)
    context.close()
