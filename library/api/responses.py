"""Response declarations shared by the endpoints, so the OpenAPI document lists every status."""

from __future__ import annotations

from typing import Any

from library.api.schemas import Error

#: Every operation may be rate-limited.
ALWAYS = (429,)

#: Media types of the export endpoints: one per citation format, plus the bibliographies.
#: CSL-JSON is JSON (an array of items), so clients parse it and the document says so.
EXPORT_CONTENT: dict[str, Any] = {
    "application/x-bibtex": {"schema": {"type": "string"}},
    "application/x-research-info-systems": {"schema": {"type": "string"}},
    "application/vnd.citationstyles.csl+json": {
        "schema": {"type": "array", "items": {"type": "object"}}
    },
    "text/plain": {"schema": {"type": "string"}},
    "text/html": {"schema": {"type": "string"}},
}


def errors(*codes: int) -> dict[int, Any]:
    """``{code: Error}`` for ``codes`` and the statuses every operation can answer."""
    return dict.fromkeys((*codes, 401, 422, *ALWAYS), Error)
