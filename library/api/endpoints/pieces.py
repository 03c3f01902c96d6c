"""Pieces: list (the /pieces/ filters, cursor pages), detail, writes for editors, exports."""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import ValidationError as PydanticValidationError

from library.api import cursor
from library.api.auth import OPTIONAL, OPTIONAL_SECURITY, REQUIRED, require_perm
from library.api.conditional import json_with_etag
from library.api.responses import EXPORT_CONTENT, errors
from library.api.schemas import (
    CitationKey,
    PieceDetail,
    PieceIn,
    PiecePage,
    PiecePatch,
    PieceTypeName,
    Slug,
    StyleId,
    piece_detail,
    piece_summary,
)
from library.catalogue.authors import parse_name
from library.catalogue.browse import Filters
from library.catalogue.exports import (
    FORMAT_LABELS,
    ExportError,
    build_export,
    export_basename,
    export_queryset,
    search_piece_ids,
    validate_filters,
)
from library.catalogue.models import Piece, Region, Topic
from library.catalogue.services import (
    PieceContributors,
    PieceTags,
    citation_key_is_free,
    format_partial_date,
    parse_partial_date,
    save_piece,
)
from library.catalogue.vocabulary import resolve_terms
from library.citations.style_index import DEFAULT_STYLE

router = Router(tags=["pieces"])

ExportFormat = Literal[tuple(FORMAT_LABELS)]  # type: ignore[valid-type]
StyleName = StyleId  # any bundled style; build_export answers 400 for one that is not
MAX_LIMIT = 100


class PieceFilters(Schema):
    """The filters of /pieces/, combined with AND; an unknown slug finds nothing."""

    topic: Slug | None = None
    region: Slug | None = None
    author: Slug | None = None
    year: int | None = Field(None, ge=1, le=9999)
    type: PieceTypeName | None = None


def _filters(params: PieceFilters) -> Filters:
    values = {k: v for k, v in params.model_dump().items() if v is not None}
    return Filters(**{**values, "year": params.year})


@router.get(
    "/", response={200: PiecePage, **errors(400)}, auth=OPTIONAL, openapi_extra=OPTIONAL_SECURITY
)
def piece_list(
    request: HttpRequest,
    filters: Query[PieceFilters],
    cursor_: str | None = Query(None, alias="cursor", max_length=2000),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
) -> dict[str, Any]:
    """Pieces, newest first, `limit` at a time; follow `next` for the following page."""
    browse = _filters(filters)
    pieces = browse.apply(Piece.objects.with_related()).order_by(*cursor.ORDER)
    if cursor_:
        try:
            pieces = cursor.after(pieces, cursor_)
        except cursor.BadCursor as exc:
            raise HttpError(400, str(exc)) from None
    page = list(pieces[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_cursor = cursor.encode(page[-1]) if more else None
    next_url = None
    if next_cursor:
        query = browse.query_string(cursor=next_cursor, limit=limit)
        next_url = request.build_absolute_uri(reverse("api:piece_list") + "?" + query)
    return {"results": [piece_summary(p) for p in page], "next": next_cursor, "next_url": next_url}


@router.get(
    "/{key}/",
    response={200: PieceDetail, 304: None, **errors(404)},
    auth=OPTIONAL,
    openapi_extra=OPTIONAL_SECURITY,
    url_name="piece_detail",
)
def piece_detail_view(request: HttpRequest, key: CitationKey) -> HttpResponse:
    """One piece with every field; send `If-None-Match` with its ETag to get 304 if unchanged."""
    piece = get_object_or_404(Piece.objects.with_related(), citation_key=key)
    return json_with_etag(request, piece_detail(piece))


def _resolve(model: type[Topic] | type[Region], labels: list[str], field: str) -> list:
    terms, unknown = resolve_terms(model, labels)
    if unknown:
        raise HttpError(422, f"{field}: unknown {', '.join(unknown)}; use slugs from /api/{field}/")
    return terms


def _names(field: str, names: list[str]) -> list:
    try:
        return [parse_name(name) for name in names]
    except ValueError as exc:
        raise HttpError(422, f"{field}: {exc}") from None


_PLAIN_FIELDS = (
    "type", "title", "subtitle", "publisher", "place", "series", "number", "container_title",
    "volume", "issue", "pages", "edition", "synopsis", "body", "url", "accessed", "doi",
    "language", "note",
)  # fmt: skip


def _write(piece: Piece, data: PieceIn) -> Piece:
    """Apply ``data`` to ``piece`` and save through ``save_piece`` (index kept in step)."""
    url_changed = data.url != piece.url or piece.pk is None
    for name in _PLAIN_FIELDS:
        setattr(piece, name, getattr(data, name))
    if data.url and not data.accessed and url_changed:
        piece.accessed = timezone.localdate()  # as the form does: checked today, by the editor
    try:
        piece.date, piece.date_precision = parse_partial_date(data.date)
    except ValueError as exc:
        raise HttpError(422, f"date: {exc}") from None
    key = data.citation_key.strip()
    if piece.pk is None:
        if key and not citation_key_is_free(key):
            raise HttpError(422, f"citation_key: {key!r} is already used by another piece")
        piece.citation_key = key
    elif key and key != piece.citation_key:
        raise HttpError(422, "citation_key: a piece's key never changes once set")
    contributors = PieceContributors(
        authors=_names("authors", data.authors), editors=_names("editors", data.editors)
    )
    tags = PieceTags(
        topics=_resolve(Topic, data.topics, "topics"),
        regions=_resolve(Region, data.regions, "regions"),
        keywords=data.keywords,
    )
    try:
        return save_piece(piece, contributors, tags)
    except ValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"piece": exc.messages}
        raise HttpError(422, "; ".join(f"{k}: {' '.join(v)}" for k, v in detail.items())) from None


def _saved(request: HttpRequest, piece: Piece, status: int) -> HttpResponse:
    piece = Piece.objects.with_related().get(pk=piece.pk)
    response = json_with_etag(request, piece_detail(piece), status=status)
    if status == 201:
        response["Location"] = reverse("api:piece_detail", args=[piece.citation_key])
    return response


@router.post("/", response={201: PieceDetail, **errors(401, 403, 422)}, auth=REQUIRED)
def piece_create(request: HttpRequest, data: PieceIn) -> HttpResponse:
    """Add a piece (editors). The key is generated when `citation_key` is empty."""
    require_perm(request, "catalogue.add_piece")
    with transaction.atomic():
        piece = _write(Piece(created_by=request.user), data)
    return _saved(request, piece, 201)


def _current(piece: Piece) -> dict[str, Any]:
    """The piece as a :class:`PieceIn`, so PATCH can overlay only what it was sent."""

    def names(role: str) -> list[str]:
        return [a.display_name for a in getattr(piece, role)]

    return {
        **{name: getattr(piece, name) for name in _PLAIN_FIELDS},
        "citation_key": piece.citation_key,
        "date": format_partial_date(piece.date, piece.date_precision),
        "keywords": list(piece.keywords or []),
        "authors": names("authors"),
        "editors": names("editors"),
        "topics": [t.slug for t in piece.topics.all()],
        "regions": [r.slug for r in piece.regions.all()],
    }


@router.put("/{key}/", response={200: PieceDetail, **errors(401, 403, 404, 422)}, auth=REQUIRED)
def piece_replace(request: HttpRequest, key: CitationKey, data: PieceIn) -> HttpResponse:
    """Replace every field of a piece (editors); fields left out take their defaults."""
    require_perm(request, "catalogue.change_piece")
    piece = get_object_or_404(Piece, citation_key=key)
    with transaction.atomic():
        piece = _write(piece, data)
    return _saved(request, piece, 200)


@router.patch("/{key}/", response={200: PieceDetail, **errors(401, 403, 404, 422)}, auth=REQUIRED)
def piece_update(request: HttpRequest, key: CitationKey, data: PiecePatch) -> HttpResponse:
    """Change some fields of a piece (editors); the others keep their values."""
    require_perm(request, "catalogue.change_piece")
    piece = get_object_or_404(Piece.objects.with_related(), citation_key=key)
    changes = data.model_dump(exclude_unset=True)
    try:
        merged = PieceIn(
            **{**_current(piece), **{k: v for k, v in changes.items() if v is not None}}
        )
    except PydanticValidationError as exc:  # stored values the API would not accept
        raise HttpError(422, f"the piece as changed is not valid: {exc}") from None
    if "accessed" in changes:
        merged.accessed = changes["accessed"]
    with transaction.atomic():
        piece = _write(piece, merged)
    return _saved(request, piece, 200)


@router.delete("/{key}/", response={204: None, **errors(401, 403, 404)}, auth=REQUIRED)
def piece_delete(request: HttpRequest, key: CitationKey) -> HttpResponse:
    """Delete a piece (editors); reading lists keep it as a removed entry."""
    require_perm(request, "catalogue.delete_piece")
    piece = get_object_or_404(Piece, citation_key=key)
    piece.delete()
    return HttpResponse(status=204)


def export_response(pieces, fmt: str, basename: str, style: str) -> HttpResponse:
    try:
        result = build_export(pieces, fmt, basename=basename, style=style)
    except ExportError as exc:
        raise HttpError(400, str(exc)) from None
    response = StreamingHttpResponse(result.chunks, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


EXPORT_DOC = {"responses": {200: {"description": "The citation file", "content": EXPORT_CONTENT}}}


@router.get(
    "/{key}/export/{fmt}/",
    response={200: None, **errors(400, 404)},
    auth=OPTIONAL,
    openapi_extra={**OPTIONAL_SECURITY, **EXPORT_DOC},
)
def piece_export(
    request: HttpRequest,
    key: CitationKey,
    fmt: ExportFormat,
    style: StyleName = DEFAULT_STYLE,
) -> HttpResponse:
    """One piece as BibTeX, BibLaTeX, RIS, CSL-JSON or a formatted bibliography entry."""
    piece = get_object_or_404(Piece, citation_key=key)
    return export_response(Piece.objects.filter(pk=piece.pk), fmt, piece.citation_key, style)


export_router = Router(tags=["exports"])


@export_router.get(
    "/{fmt}/",
    response={200: None, **errors(400)},
    auth=OPTIONAL,
    openapi_extra={**OPTIONAL_SECURITY, **EXPORT_DOC},
)
def catalogue_export(
    request: HttpRequest,
    fmt: ExportFormat,
    filters: Query[PieceFilters],
    q: str = Query("", max_length=1000, description="A search query, as in /api/search/."),
    style: StyleName = DEFAULT_STYLE,
) -> HttpResponse:
    """The pieces matching the filters (and query), in citation-key order, streamed."""
    browse = _filters(filters)
    q = q.replace("\x00", " ")
    try:
        validate_filters(browse)
        pieces = export_queryset(browse, piece_ids=search_piece_ids(q))
    except ExportError as exc:
        raise HttpError(400, str(exc)) from None
    return export_response(pieces, fmt, export_basename(browse, q), style)
