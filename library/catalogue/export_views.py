"""Downloads of citations: one piece, any filtered list, the whole catalogue.

Readers need no account to export: everything exported is already public on the site.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from library.catalogue.browse import Filters
from library.catalogue.citation_store import formatted_citations
from library.catalogue.exports import (
    Export,
    ExportError,
    available_formats,
    build_export,
    export_basename,
    export_queryset,
    search_piece_ids,
    validate_filters,
)
from library.catalogue.models import Piece
from library.catalogue.proper_nouns import catalogue_proper_nouns
from library.catalogue.style_choice import StyleChoice, choose_style, requested_style
from library.citations.bibtex import BibTeXWriter
from library.citations.from_piece import record_from_piece


def chosen_style(request: HttpRequest) -> str:
    """``?style=`` if it names a bundled style with a bibliography, else the reader's last."""
    return requested_style(request)


def _download(export: Export) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "catalogue/export_error.html", {"message": message}, status=400)


@require_GET
def export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """``/export/?format=bibtex&topic=terrorism``: a download; without ``format``, the choices."""
    filters = Filters.from_query(request.GET)
    query = request.GET.get("q", "")[:1000]
    try:
        validate_filters(filters)
        pieces = export_queryset(filters, piece_ids=search_piece_ids(query))
    except ExportError as exc:
        return _refuse(request, str(exc))
    fmt = request.GET.get("format", "")
    if not fmt:
        keep = (*filters.active().items(), *((("q", query),) if query else ()))
        return render(
            request,
            "catalogue/export.html",
            {
                "filters": filters,
                "count": pieces.count(),
                "formats": available_formats(),
                "filter_query": filters.query_string(),
                "query": query,
                "style_choice": choose_style(request, keep=keep),
            },
        )
    try:
        result = build_export(
            pieces, fmt, basename=export_basename(filters, query), style=chosen_style(request)
        )
    except ExportError as exc:
        return _refuse(request, str(exc))
    return _download(result)


@require_GET
def piece_export(request: HttpRequest, key: str) -> HttpResponse | StreamingHttpResponse:
    """One piece in any format, named after its citation key."""
    piece = get_object_or_404(Piece, citation_key=key)
    pieces = Piece.objects.filter(pk=piece.pk)
    try:
        result = build_export(
            pieces,
            request.GET.get("format", ""),
            basename=piece.citation_key,
            style=chosen_style(request),
        )
    except ExportError as exc:
        return _refuse(request, str(exc))
    return _download(result)


@dataclass(frozen=True)
class CiteBox:
    """What the piece page's "Cite" box shows."""

    style: str
    choice: StyleChoice
    formatted: SafeString
    bibtex: str
    formats: list[tuple[str, str]]


def cite_box(request: HttpRequest, piece: Piece) -> CiteBox:
    """The formatted citation in the reader's chosen style, and the piece's BibTeX."""
    record = record_from_piece(piece)
    choice = choose_style(request)
    # Stored in the database once per version of the piece: citeproc took ~100 ms here.
    (entry,) = formatted_citations([(record, piece.pk)], choice.style)
    return CiteBox(
        style=choice.style,
        choice=choice,
        # format_bibliography escapes every field; the only markup is the style's own.
        formatted=mark_safe(entry),
        bibtex=BibTeXWriter(catalogue_proper_nouns()).entry(record),
        formats=available_formats(),
    )
