"""The OpenSearch 1.1 description: browsers offer the site's search box from the address bar."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def opensearch(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "protocols/opensearch.xml",
        {"base": request.build_absolute_uri("/").rstrip("/")},
        content_type="application/opensearchdescription+xml; charset=utf-8",
    )
