"""ETag and If-None-Match for detail responses.

The tag is a hash of the JSON body itself, so it changes exactly when what the client would
receive changes, including a renamed author or topic that leaves the piece's own
``updated_at`` alone.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags
from ninja import Schema


def json_with_etag(request: HttpRequest, payload: Schema, *, status: int = 200) -> HttpResponse:
    """``payload`` as JSON with a strong ETag; 304 with no body when the client has it."""
    body = payload.model_dump_json().encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
    wanted = {
        tag.removeprefix("W/") for tag in parse_etags(request.headers.get("if-none-match", ""))
    }
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Authorization, Cookie"}
    if request.method in ("GET", "HEAD") and status == 200 and ("*" in wanted or etag in wanted):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response
