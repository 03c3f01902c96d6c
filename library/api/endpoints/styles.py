"""The bundled CSL styles, searchable by name: the ids that every ``style`` parameter takes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from library.api.auth import OPTIONAL, OPTIONAL_SECURITY
from library.api.responses import errors
from library.api.schemas import StylePage
from library.citations.style_index import StyleInfo, all_styles, label, search_styles

router = Router(tags=["styles"])


def _out(info: StyleInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": label(info.id),
        "dependent": info.dependent,
        "formats_as": info.parent,
    }


@router.get(
    "/",
    response={200: StylePage, **errors()},
    auth=OPTIONAL,
    openapi_extra=OPTIONAL_SECURITY,
    url_name="style_list",
)
def style_list(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="Words that must all be in the title or id."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=100_000),
) -> dict[str, Any]:
    """Styles with a bibliography: the four site defaults first, then by title.

    With `q`, the styles whose title or id holds every word (case and accents ignored),
    defaults first, then titles that start with `q`.
    """
    if q.strip():
        found, total = search_styles(q, limit=offset + limit)
        page = found[offset:]
    else:
        styles = all_styles()
        total, page = len(styles), list(styles[offset : offset + limit])
    return {"count": total, "results": [_out(info) for info in page]}
