"""Headless Chromium for browser tests: Debian's chromium driven by Playwright.

Playwright's own browser download is never used (no network at run time). Locally a
missing Chromium skips these tests with the command that enables them; in CI (``CI`` set)
it is a failure, because ``.ci/run`` installs Chromium.

A page that does not come fails the test within seconds (Playwright's waits are cut to
``BROWSER_TIMEOUT_MS``), and the failure report carries what explains it: the last lines
the live server logged and, on PostgreSQL, every statement still running (see
``pytest_runtest_makereport`` below). A browser test once sat 30 s in silence while the
server ran one facet query for minutes.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import deque
from pathlib import Path

import pytest
from django.db import connection

from library.catalogue.demo import load_demo
from library.catalogue.statistics import refresh_planner_statistics
from library.catalogue.vocabulary import load_vocabulary

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
# Every page of the demo catalogue answers in well under a second; ten is a hang.
BROWSER_TIMEOUT_MS = 10_000
SERVER_LOG_LINES = 40


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


def load_demo_catalogue() -> None:
    """The starter vocabulary and demo content, committed, with fresh planner statistics.

    The live server plans its queries from the statistics PostgreSQL holds for these
    tables; after the suite's earlier tests have written and rolled back rows in them
    those may say the tables are empty (library/catalogue/statistics.py).
    """
    load_vocabulary()
    load_demo()
    refresh_planner_statistics()


@pytest.fixture
def demo_catalogue(live_server) -> str:
    """The live server's address, serving the demo catalogue."""
    load_demo_catalogue()
    return live_server.url


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
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
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


class _Tail(logging.Handler):
    """The last records logged anywhere in the process (the live server's thread included)."""

    def __init__(self, size: int) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def server_log(request):
    """Keep the log's tail for the failure report; the live server logs every request."""
    tail = _Tail(SERVER_LOG_LINES)
    root = logging.getLogger()
    root.addHandler(tail)
    request.node.stash[_SERVER_LOG] = tail
    yield tail
    root.removeHandler(tail)


_SERVER_LOG = pytest.StashKey[_Tail]()


def running_statements(min_seconds: float = 1.0) -> list[str]:
    """Statements other sessions of this database have been running for ``min_seconds``.

    Read on a connection of its own, so a test whose connection is in a failed state can
    still report them. Empty on SQLite, which runs statements in the calling thread.
    """
    if connection.vendor != "postgresql":
        return []
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT round(extract(epoch FROM now() - query_start)::numeric, 1), state, "
                "wait_event_type, left(query, 1500) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state <> 'idle' AND now() - query_start > make_interval(secs => %s) "
                "ORDER BY query_start",
                [min_seconds],
            )
            return [
                f"{seconds} s, {state}, waiting on {wait or 'nothing'}: {query}"
                for seconds, state, wait, query in cursor.fetchall()
            ]
    finally:
        raw.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and item.get_closest_marker("browser"):
        tail = item.stash.get(_SERVER_LOG, None)
        if tail is not None:
            report.sections.append(
                (f"server log, last {SERVER_LOG_LINES} lines", "\n".join(tail.lines) or "(empty)")
            )
        statements = running_statements()
        report.sections.append(
            ("statements running for over 1 s", "\n".join(statements) or "(none)")
        )
    return report
