"""A list as readers see it: sections in order, each entry with its citation record.

Views, the print page and the exports all read the list through :func:`layout`, so they
show the same entries in the same order, removed pieces included (from their snapshot).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Prefetch
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from library.catalogue.models import Authorship
from library.catalogue.proper_nouns import catalogue_proper_nouns
from library.citations.formats import get_writer
from library.citations.from_piece import record_from_piece
from library.citations.records import CitationRecord
from library.citations.styles import STYLES, format_bibliography
from library.readinglists.models import Entry, ReadingList, Section
from library.readinglists.snapshots import record_from_json

DEFAULT_STYLE = "chicago-author-date"
#: citeproc-py takes ~25 ms per entry, so formatted citations are cached, keyed by the
#: record's content and the style: an edited piece gets a new key, nothing goes stale.
CITATION_CACHE_SECONDS = 7 * 24 * 3600


@dataclass
class EntryView:
    entry: Entry
    record: CitationRecord | None
    citation: SafeString | str = ""


@dataclass
class SectionView:
    section: Section | None
    entries: list[EntryView] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.section.title if self.section else ""


def _record(entry: Entry) -> CitationRecord | None:
    if entry.piece is not None:
        return record_from_piece(entry.piece)
    return record_from_json(entry.snapshot_record)


def layout(reading_list: ReadingList) -> list[SectionView]:
    """The top part (entries before any section) followed by each section, all in order."""
    entries = (
        Entry.objects.filter(reading_list=reading_list)
        .select_related("piece")
        .prefetch_related(
            Prefetch(
                "piece__authorships",
                queryset=Authorship.objects.select_related("author").order_by("position"),
            )
        )
        .order_by("position", "pk")
    )
    views: dict[int | None, SectionView] = {None: SectionView(None)}
    for section in reading_list.sections.order_by("position", "pk"):
        views[section.pk] = SectionView(section)
    for entry in entries:
        views[entry.section_id].entries.append(EntryView(entry, _record(entry)))
    return list(views.values())


def records_in_order(sections: list[SectionView]) -> list[CitationRecord]:
    """Each distinct record once, in list order: what the exports write."""
    seen: set[str] = set()
    records = []
    for section in sections:
        for item in section.entries:
            if item.record is not None and item.record.key not in seen:
                seen.add(item.record.key)
                records.append(item.record)
    return records


def export_response(reading_list: ReadingList, fmt: str, style: str) -> HttpResponseBase:
    """The list's works, once each and in list order, as a download in ``fmt``.

    ``bibliography`` is plain text in ``style``; every other format streams its writer's
    output. The list page and the JSON API both answer with this.
    """
    records = records_in_order(layout(reading_list))
    name = slugify(reading_list.title) or "reading-list"
    if fmt == "bibliography":
        text = "\n\n".join(format_bibliography(records, style, "text")) + "\n"
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.txt"'
        return response
    writer = get_writer(fmt, catalogue_proper_nouns())
    stream = StreamingHttpResponse(writer.write(records), content_type=writer.content_type)
    stream["Content-Disposition"] = f'attachment; filename="{name}.{writer.file_extension}"'
    return stream


def add_citations(sections: list[SectionView], style: str) -> None:
    """Format each entry in ``style``, one at a time so the list keeps its own order."""
    for section in sections:
        for item in section.entries:
            if item.record is None:
                item.citation = item.entry.snapshot_title or "(citation unavailable)"
                continue
            item.citation = mark_safe(formatted_citation(item.record, style))


def formatted_citation(record: CitationRecord, style: str) -> str:
    """One record as HTML in ``style``; safe markup, because format_bibliography escapes data."""
    content = json.dumps([style, dataclasses.asdict(record)], sort_keys=True, default=str)
    key = "readinglists:cite:" + hashlib.sha256(content.encode()).hexdigest()
    formatted = cache.get(key)
    if formatted is None:
        (formatted,) = format_bibliography([record], style, "html")
        cache.set(key, formatted, CITATION_CACHE_SECONDS)
    return formatted


def pick_style(requested: str | None) -> tuple[str, str]:
    """The style to use and, for an unknown request, a message saying what happened."""
    if not requested:
        return DEFAULT_STYLE, ""
    if requested in STYLES:
        return requested, ""
    return DEFAULT_STYLE, (
        f"There is no citation style called “{requested[:80]}”; showing {STYLES[DEFAULT_STYLE]}."
    )
