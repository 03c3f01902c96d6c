"""Serving a stored file with HTTP byte ranges (RFC 9110 §14), for PDF viewers.

Browsers' PDF viewers (pdf.js, Chromium's) and Zotero fetch a large PDF in ranges to
show the first page before the rest arrives; Django's ``FileResponse`` always sends the
whole file. One range is served as 206; several ranges, or a range the file cannot
satisfy, as the whole file or 416. ``If-Range`` with a stale validator gets the whole file.
"""

from __future__ import annotations

import re
from typing import IO, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import quote_etag

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | Literal[False] | None:
    """``(first, last)`` inclusive for one satisfiable range; ``None`` to send the whole file
    (no header, several ranges, or a syntax we ignore as the RFC allows); ``False`` when
    the range cannot be satisfied (416)."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if first >= size:
        return False
    last = int(last_text) if last_text else size - 1
    if last < first:
        return None
    return first, min(last, size - 1)


def ranged_file_response(
    request: HttpRequest,
    handle: IO[bytes],
    *,
    size: int,
    filename: str,
    content_type: str,
    etag: str = "",
    inline: bool = True,
) -> HttpResponseBase:
    """The file, whole (200) or one range of it (206), opened inline unless asked not to."""
    disposition = "inline" if inline else "attachment"
    validator = quote_etag(etag) if etag else ""
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    wanted = parse_range(header, size) if header else None
    if if_range and if_range != validator:
        wanted = None
    response: HttpResponseBase
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif wanted is None:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        first, last = wanted
        handle.seek(first)
        data = handle.read(last - first + 1)
        handle.close()
        response = HttpResponse(data, content_type=content_type, status=206)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    if validator:
        response["ETag"] = validator
    return response
