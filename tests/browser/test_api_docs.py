"""The API's docs page (Swagger UI, served by django-ninja) works under the site's CSP."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_page_draws_the_operations_without_a_csp_violation(page, live_server):
    # The ``page`` fixture fails the test on any Content-Security-Policy violation.
    page.goto(live_server.url + "/api/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 5
    assert "Dossier API" in page.locator(".info .title").inner_text()
