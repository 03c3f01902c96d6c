"""Reading lists: the public ones, the caller's own, each list's entries and its exports.

Visibility follows the site exactly (``readinglists.access``): a private or unlisted list
is a 404 to anyone but its owner and collaborators, so its number reveals nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.errors import HttpError

from library.api.auth import OPTIONAL, OPTIONAL_SECURITY, REQUIRED
from library.api.conditional import json_with_etag
from library.api.endpoints.pieces import EXPORT_DOC, StyleName
from library.api.responses import errors
from library.api.schemas import (
    ListDetail,
    ListEntry,
    ListPage,
    ListSection,
    ListSummary,
    list_summary,
)
from library.citations.formats import WRITERS
from library.citations.style_index import DEFAULT_STYLE, can_format
from library.readinglists.access import readable_list
from library.readinglists.models import ReadingList, Visibility
from library.readinglists.presentation import export_response, layout

router = Router(tags=["reading lists"])
ListFormat = Literal[(*WRITERS, "bibliography")]  # type: ignore[valid-type]


def _page(lists, page: int, page_size: int) -> dict[str, Any]:
    lists = lists.select_related("owner").annotate(n=Count("entries", distinct=True))
    paginator = Paginator(lists.order_by("-updated_at", "pk"), page_size)
    current = paginator.get_page(page)
    return {
        "count": paginator.count,
        "page": current.number,
        "pages": paginator.num_pages,
        "results": [ListSummary(**list_summary(rl, rl.n)) for rl in current],
    }


@router.get(
    "/", response={200: ListPage, **errors()}, auth=OPTIONAL, openapi_extra=OPTIONAL_SECURITY
)
def public_lists(
    request: HttpRequest,
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """Public lists, most recently changed first."""
    return _page(ReadingList.objects.filter(visibility=Visibility.PUBLIC), page, page_size)


@router.get("/mine/", response={200: ListPage, **errors()}, auth=REQUIRED)
def my_lists(
    request: HttpRequest,
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """The lists the caller owns or collaborates on, whatever their visibility."""
    mine = ReadingList.objects.filter(
        pk__in=ReadingList.objects.filter(
            Q(owner=request.user) | Q(collaborators=request.user)
        ).values("pk")
    )
    return _page(mine, page, page_size)


@router.get(
    "/{list_id}/",
    response={200: ListDetail, 304: None, **errors(404)},
    auth=OPTIONAL,
    openapi_extra=OPTIONAL_SECURITY,
    url_name="list_detail",
)
def list_detail(request: HttpRequest, list_id: int) -> HttpResponse:
    """A list's sections and entries in order; deleted pieces stay, marked removed."""
    reading_list = readable_list(request, list_id)
    sections = []
    count = 0
    for view in layout(reading_list):
        entries = [
            ListEntry(
                piece=item.entry.piece.citation_key if item.entry.piece else None,
                title=item.entry.piece.full_title
                if item.entry.piece
                else item.entry.snapshot_title,
                annotation=item.entry.annotation,
                pages=item.entry.pages,
                required=item.entry.required,
                removed=item.entry.is_removed,
            )
            for item in view.entries
        ]
        count += len(entries)
        if view.section is not None or entries:
            sections.append(ListSection(title=view.title, entries=entries))
    detail = ListDetail(**list_summary(reading_list, count), sections=sections)
    return json_with_etag(request, detail)


@router.get(
    "/{list_id}/export/{fmt}/",
    response={200: None, **errors(400, 404)},
    auth=OPTIONAL,
    openapi_extra={**OPTIONAL_SECURITY, **EXPORT_DOC},
)
def list_export(
    request: HttpRequest, list_id: int, fmt: ListFormat, style: StyleName = DEFAULT_STYLE
) -> HttpResponse:
    """The list's works, once each and in list order, as a citation file or bibliography."""
    reading_list = readable_list(request, list_id)
    if not can_format(style):
        raise HttpError(400, f"style: {style!r} is not a bundled CSL style; see /api/styles/")
    return export_response(reading_list, fmt, style)
