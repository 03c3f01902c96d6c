"""CSL-JSON export: the input format of citeproc processors (Zotero, pandoc, citeproc-py).

Streamed as one JSON array, an entry per chunk, so a large export never holds the whole
document. Types, chosen for how CSL styles print them: commentary, report and policy
brief -> ``report`` (styles print ``collection-title`` and ``number``: "RSIS Commentaries
263/2016", plus the publisher; ``article`` would lose series and number), or
``article-magazine`` with the kind in ``genre`` when it appeared in a venue
(``container-title``) with no publisher, as Zotero files an op-ed; article ->
``article-journal``, book -> ``book``, chapter -> ``chapter``, thesis -> ``thesis``, web
article -> ``webpage``, other -> ``document``. Persons are family / given /
non-dropping-particle / suffix; organisations are ``literal`` so no processor splits or
initialises them. ``issued`` has as many date parts as the piece's precision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from library.citations.records import CitationRecord, Name

CSL_TYPES = {
    "commentary": "report",
    "article": "article-journal",
    "report": "report",
    "policy_brief": "report",
    "book": "book",
    "chapter": "chapter",
    "web_article": "webpage",
    "thesis": "thesis",
    "other": "document",
}
GENRES = {"commentary": "Commentary", "policy_brief": "Policy brief"}


def csl_name(name: Name) -> dict[str, str]:
    if name.is_organisation:
        return {"literal": name.family}
    parts = {
        "family": name.family,
        "given": name.given,
        "non-dropping-particle": name.particle,
        "suffix": name.suffix,
    }
    return {key: value for key, value in parts.items() if value}


def csl_date(record: CitationRecord) -> dict[str, Any] | None:
    """``{"date-parts": [[2016, 10, 28]]}``, truncated to what is known."""
    if record.year is None:
        return None
    parts = [record.year, record.month, record.day]
    known = parts[: 1 + (record.month is not None) + (record.day is not None)]
    return {"date-parts": [known]}


def csl_accessed(record: CitationRecord) -> dict[str, Any] | None:
    """When the URL was checked, only for a record that has a URL."""
    parts = record.accessed_parts if record.url else None
    return {"date-parts": [list(parts)]} if parts else None


REPORT_GENRES = {"commentary": "Commentary", "report": "Report", "policy_brief": "Policy brief"}


def csl_type(record: CitationRecord) -> str:
    """The CSL type; a commentary in a venue with no publisher is a magazine article."""
    if record.type in REPORT_GENRES and record.container_title and not record.publisher:
        return "article-magazine"
    return CSL_TYPES[record.type]


def _genre(record: CitationRecord) -> str:
    if csl_type(record) == "article-magazine":
        return REPORT_GENRES[record.type]
    if record.type == "thesis":
        return "Master's thesis" if record.is_masters_thesis else "PhD thesis"
    # A series already names the genre ("RSIS Commentaries"); styles would print both.
    return "" if record.series else GENRES.get(record.type, "")


def csl_item(record: CitationRecord) -> dict[str, Any]:
    """One CSL-JSON item, empty variables left out (the schema forbids nulls)."""
    book_like = record.type in ("book", "chapter")
    item: dict[str, Any] = {
        "id": record.key,
        "citation-key": record.key,
        "type": csl_type(record),
        "title": record.full_title,
        "author": [csl_name(n) for n in record.authors],
        "editor": [csl_name(n) for n in record.editors],
        "issued": csl_date(record),
        "container-title": record.container_title,
        "collection-title": record.series,
        "collection-number": record.number if book_like else "",
        "number": "" if book_like else record.number,
        "genre": _genre(record),
        "publisher": record.publisher,
        "publisher-place": record.place,
        "volume": record.volume,
        "issue": record.issue,
        "page": record.pages,
        "edition": record.edition,
        "URL": record.url,
        "accessed": csl_accessed(record),
        "DOI": record.doi,
        "abstract": record.abstract,
        "keyword": ", ".join(record.keywords),
        "language": record.language,
        "note": record.extra_note,
    }
    return {key: value for key, value in item.items() if value}


class CSLJSONWriter:
    """Streams a CSL-JSON array: ``[``, items joined by ``,``, ``]``."""

    name = "CSL-JSON"
    content_type = "application/vnd.citationstyles.csl+json; charset=utf-8"
    file_extension = "json"

    def write(self, records: Iterable[CitationRecord]) -> Iterator[str]:
        separator = "[\n"
        for record in records:
            yield separator + json.dumps(csl_item(record), ensure_ascii=False, indent=2)
            separator = ",\n"
        yield "[]\n" if separator == "[\n" else "\n]\n"
