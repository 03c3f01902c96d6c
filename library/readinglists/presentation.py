"""A list as readers see it: sections in order, each entry with its citation record.

Views, the print page and the exports all read the list through :func:`layout`, so they
show the same entries in the same order, removed pieces included (from their snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from library.catalogue.citation_store import formatted_citations
from library.catalogue.models import Authorship
from library.catalogue.proper_nouns import catalogue_proper_nouns
from library.citations.formats import get_writer
from library.citations.from_piece import record_from_piece
from library.citations.records import CitationRecord
from library.citations.styles import format_bibliography
from library.readinglists.models import Entry, ReadingList, Section
from library.readinglists.snapshots import record_from_json


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
    """Format each entry in ``style`` on its own, so the list keeps its own order.

    The texts come from the database's stored citations (formatted when the entry was
    added, or by the first request that needed them), read in one query for the list.
    """
    items = [item for section in sections for item in section.entries]
    cited = [item for item in items if item.record is not None]
    texts = formatted_citations([(i.record, i.entry.piece_id) for i in cited], style)  # type: ignore[misc]
    for item, text in zip(cited, texts, strict=True):
        item.citation = mark_safe(text)
    for item in items:
        if item.record is None:
            item.citation = item.entry.snapshot_title or "(citation unavailable)"


def formatted_citation(record: CitationRecord, style: str) -> str:
    """One record as HTML in ``style``; safe markup, because format_bibliography escapes data."""
    return formatted_citations([(record, None)], style)[0]
