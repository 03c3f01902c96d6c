"""The CSP listener the browser tests rely on really hears a violation."""

from __future__ import annotations

import pytest

from tests.browser.conftest import REPORT_CSP_VIOLATIONS, is_csp_violation

pytestmark = pytest.mark.browser


def test_the_violation_listener_reports_an_inline_script_blocked_by_the_policy(browser):
    context = browser.new_context()
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    heard: list[str] = []
    page.on("console", lambda message: heard.append(message.text))
    page.route(
        "http://127.0.0.1/csp-probe",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Security-Policy": "script-src 'self'"},
            content_type="text/html",
            body="<!doctype html><p>probe</p><script>document.title = 'ran'</script>",
        ),
    )
    page.goto("http://127.0.0.1/csp-probe")
    page.wait_for_timeout(200)
    title = page.title()
    context.close()
    assert title != "ran"
    assert any(is_csp_violation(text) for text in heard), heard
