"""Headless Chromium for browser tests: Debian's chromium driven by Playwright.

Playwright's own browser download is never used (no network at run time). Locally a
missing Chromium skips these tests with the command that enables them; in CI (``CI`` set)
it is a failure, because ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        message = (
            "Chromium not found: install it with `sudo apt-get install chromium` "
            "(or set CHROMIUM_PATH), or run `bash .ci/run`."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the live server's database
    # work happens in its own thread, so Django's async-safety guard does not apply here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page must pass the Content-Security-Policy (settings.CONTENT_SECURITY_POLICY): the
# browser reports a violation as a DOM event and as a console message; either fails the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked `
    + `${event.blockedURI || "inline code"} at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation") or "Content Security Policy" in text


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    outside: list[str] = []
    violations: list[str] = []

    def watch(request) -> None:
        if not request.url.startswith(("http://localhost", "http://127.0.0.1", "data:")):
            outside.append(request.url)

    def listen(message) -> None:
        if is_csp_violation(message.text):
            violations.append(f"{page.url}: {message.text}")

    page.on("request", watch)
    page.on("console", listen)
    yield page
    context.close()
    assert not outside, f"requests to outside hosts: {outside}"
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, **options) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), **options)
        return path

    return take
