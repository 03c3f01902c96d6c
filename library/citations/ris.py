"""RIS export, the tagged format EndNote, Zotero, Mendeley and Papers import.

One ``TAG  - value`` line per field, lines ending in CRLF as the RIS specification and
EndNote expect (Zotero and rispy read either). Types: commentary, report and policy brief
are ``RPRT`` (Zotero imports series, number and institution; ``ELEC`` would keep only
the link), article ``JOUR``, book ``BOOK``, chapter ``CHAP``, thesis ``THES``, web article
``ELEC``, other ``GEN``. Editors are ``A2`` (the specification's "secondary author", which
is the editor for books and chapters; ``ED`` is not read by every importer).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from library.citations.latex import clean
from library.citations.records import CitationRecord, Name
from library.text import family_with_particle as join_particle

RIS_TYPES = {
    "commentary": "RPRT",
    "article": "JOUR",
    "report": "RPRT",
    "policy_brief": "RPRT",
    "book": "BOOK",
    "chapter": "CHAP",
    "web_article": "ELEC",
    "thesis": "THES",
    "other": "GEN",
}
GENRES = {"commentary": "Commentary", "policy_brief": "Policy brief"}
EOL = "\r\n"


def family_with_particle(name: Name) -> str:
    """``van Creveld``, ``al-Raḥmān``: particles ending in - or ' take no space."""
    return join_particle(name.particle, name.family)


def ris_name(name: Name) -> str:
    """``particle Family, Given, Suffix``; an organisation's name as it is."""
    if name.is_organisation:
        return clean(name.family)
    parts = [family_with_particle(name), name.given]
    if name.suffix:
        parts.append(name.suffix)
    return ", ".join(clean(part) for part in parts if part)


def ris_date(record: CitationRecord) -> str:
    """``YYYY/MM/DD/``, with unknown parts left empty: ``2016/10//``, ``2016///``."""
    if record.year is None:
        return ""
    month = f"{record.month:02d}" if record.month else ""
    day = f"{record.day:02d}" if record.day else ""
    return f"{record.year:04d}/{month}/{day}/"


def _genre(record: CitationRecord) -> str:
    if record.type == "thesis":
        return "Master's thesis" if record.is_masters_thesis else "PhD thesis"
    return GENRES.get(record.type, "")


def ris_lines(record: CitationRecord) -> Iterator[tuple[str, str]]:
    """(tag, value) pairs in the order importers expect, TY first and ER last."""
    first_page, last_page = record.page_range
    yield "TY", RIS_TYPES[record.type]
    yield "ID", record.key
    for name in record.authors:
        yield "AU", ris_name(name)
    for name in record.editors:
        yield "A2", ris_name(name)
    yield "TI", record.full_title
    yield "T2", record.container_title
    yield "T3", record.series
    yield "M3", _genre(record)
    yield "PY", str(record.year) if record.year else ""
    yield "DA", ris_date(record)
    yield "PB", record.publisher
    yield "CY", record.place
    yield "VL", record.volume
    yield "IS", record.issue or record.number
    yield "SP", first_page
    yield "EP", last_page
    yield "ET", record.edition
    yield "UR", record.url
    # Y2 is the access date in the RIS specification (rispy: access_date), as YYYY/MM/DD.
    yield "Y2", record.accessed.replace("-", "/") if record.url else ""
    yield "DO", record.doi
    yield "AB", record.abstract
    for keyword in record.keywords:
        yield "KW", keyword
    yield "LA", record.language
    yield "N1", record.extra_note


def format_record(record: CitationRecord) -> str:
    lines = [f"{tag}  - {clean(value)}" for tag, value in ris_lines(record) if clean(value)]
    lines.append("ER  - ")
    return EOL.join(lines) + EOL + EOL


class RISWriter:
    """Streams RIS records, one chunk per record."""

    name = "RIS"
    content_type = "application/x-research-info-systems; charset=utf-8"
    file_extension = "ris"

    def write(self, records: Iterable[CitationRecord]) -> Iterator[str]:
        for record in records:
            yield format_record(record)
