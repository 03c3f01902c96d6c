"""Catalogue pieces out as citation files: the service behind web exports and ``manage.py export``.

The formats themselves live in :mod:`library.citations` and know nothing of Django; this
module picks the pieces (filters, a search query, one piece), walks them in chunks so an
export of the whole catalogue runs in bounded memory, and names the download.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeGuard

from library.catalogue.browse import Filters
from library.catalogue.models import Author, Piece, PieceQuerySet, Region, Topic
from library.catalogue.proper_nouns import catalogue_proper_nouns
from library.citations.formats import get_writer
from library.citations.from_piece import record_from_piece
from library.citations.records import CitationRecord
from library.citations.style_index import DEFAULT_STYLE, can_format
from library.citations.style_index import label as style_label
from library.citations.styles import STYLES, Output, format_bibliography

CHUNK_SIZE = 500
SEARCH_PAGE_SIZE = 200
#: A formatted bibliography is sorted by citeproc in memory, so it has a ceiling; the
#: machine-readable formats stream and have none.
MAX_BIBLIOGRAPHY_ENTRIES = 2000
FORMAT_LABELS = {
    "bibtex": "BibTeX",
    "biblatex": "BibLaTeX",
    "ris": "RIS",
    "csljson": "CSL-JSON",
    "bibliography-html": "Bibliography (HTML)",
    "bibliography-text": "Bibliography (text)",
}


class ExportError(ValueError):
    """An export that cannot be made as asked; the message says what to change."""


@dataclass(frozen=True)
class Export:
    """A ready-to-stream export: its chunks, the media type and a download name."""

    chunks: Iterator[str]
    content_type: str
    filename: str


def validate_filters(filters: Filters) -> None:
    """Refuse filters that name no topic, region or author, rather than export nothing."""
    checks = ((filters.topic, Topic, "topic"), (filters.region, Region, "region"))
    for slug, model, label in checks:
        if slug and not model.objects.filter(slug=slug).exists():
            raise ExportError(f"there is no {label} {slug!r}")
    if filters.author and not Author.objects.filter(slug=filters.author).exists():
        raise ExportError(f"there is no author {filters.author!r}")


def search_piece_ids(query: str) -> list[int] | None:
    """The ids of every piece a search query matches (None for no query), page by page.

    Uses the same search as the results page, so an export of a search gives exactly the
    pieces the reader saw listed.
    """
    if not query.strip():
        return None
    from library.search.service import search

    ids: list[int] = []
    page = 1
    while True:
        result = search(query, page=page, page_size=SEARCH_PAGE_SIZE)
        if result.index_error:
            raise ExportError(f"the search could not be run: {result.index_error}")
        ids.extend(piece.pk for piece, _ in result.entries)
        if page >= result.pages or not result.entries:
            return ids
        page += 1


def export_queryset(
    filters: Filters, *, piece_ids: Iterable[int] | None = None
) -> PieceQuerySet[Piece]:
    """The pieces an export covers, in a stable order (citation key)."""
    pieces = filters.apply(Piece.objects.all())
    if piece_ids is not None:
        pieces = pieces.filter(pk__in=list(piece_ids))
    return pieces.order_by("citation_key")


def iter_records(
    pieces: PieceQuerySet[Piece], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[CitationRecord]:
    """Citation records for ``pieces`` in citation-key order, ``chunk_size`` pieces at a time.

    Keyset pagination on the unique citation key keeps memory flat on every database: each
    chunk is one query plus its prefetches, and nothing from earlier chunks is kept.
    """
    queryset = pieces.with_related().order_by("citation_key")
    last_key = None
    while True:
        chunk = queryset if last_key is None else queryset.filter(citation_key__gt=last_key)
        batch = list(chunk[:chunk_size])
        for piece in batch:
            yield record_from_piece(piece)
        if len(batch) < chunk_size:
            return
        last_key = batch[-1].citation_key


def build_export(
    pieces: PieceQuerySet[Piece], fmt: str, *, basename: str, style: str = DEFAULT_STYLE
) -> Export:
    """Stream ``pieces`` in ``fmt`` (a writer name or ``bibliography-html``/``-text``)."""
    if fmt.startswith("bibliography-"):
        output = fmt.removeprefix("bibliography-")
        if not _is_output(output):
            raise ExportError(f"unknown bibliography output {output!r}; choose html or text")
        return _bibliography_export(pieces, style, output, basename)
    try:
        writer = get_writer(fmt, catalogue_proper_nouns())
    except ValueError:
        raise ExportError(
            f"unknown format {fmt!r}; choose one of {', '.join(FORMAT_LABELS)}"
        ) from None
    return Export(
        chunks=writer.write(iter_records(pieces)),
        content_type=writer.content_type,
        filename=f"{basename}.{writer.file_extension}",
    )


def _is_output(name: str) -> TypeGuard[Output]:
    return name in ("html", "text")


def _bibliography_export(
    pieces: PieceQuerySet[Piece], style: str, output: Output, basename: str
) -> Export:
    if not can_format(style):
        raise ExportError(
            f"unknown style {style[:80]!r}: use the id of a bundled CSL style with a "
            f"bibliography (search them at /api/styles/), e.g. {', '.join(STYLES)}"
        )
    count = pieces.count()
    if count > MAX_BIBLIOGRAPHY_ENTRIES:
        raise ExportError(
            f"a formatted bibliography is limited to {MAX_BIBLIOGRAPHY_ENTRIES} entries and "
            f"this export has {count}; narrow the filters or export BibTeX, RIS or CSL-JSON"
        )
    entries = format_bibliography(iter_records(pieces), style, output)
    if output == "text":
        chunks = iter([entry + "\n\n" for entry in entries] or [""])
        return Export(chunks, "text/plain; charset=utf-8", f"{basename}-{style}.txt")
    return Export(
        _bibliography_page(entries, style_label(style)),
        "text/html; charset=utf-8",
        f"{basename}-{style}.html",
    )


def _bibliography_page(entries: list[str], style_name: str) -> Iterator[str]:
    # Entries come from styles.format_bibliography, which escapes all data.
    yield (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Bibliography ({style_name})</title>\n</head>\n<body>\n"
        '<ol class="bibliography">\n'
    )
    for entry in entries:
        yield f"<li>{entry}</li>\n"
    yield "</ol>\n</body>\n</html>\n"


def export_basename(filters: Filters, query: str = "") -> str:
    """A download name that says what is in the file: ``dossier-topic-terrorism-2016``."""
    parts = ["dossier"]
    for name, value in filters.active().items():
        parts.append(f"{name}-{value}")
    if query:
        parts.append("search-" + query)
    if len(parts) == 1:
        parts.append("catalogue")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", "-".join(parts)).strip("-").lower()
    return slug[:80].rstrip("-")


def available_formats() -> list[tuple[str, str]]:
    """(format name, label) pairs in display order, for links and the command's choices."""
    return list(FORMAT_LABELS.items())
