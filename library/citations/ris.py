"""RIS export, the tagged format EndNote, Zotero, Mendeley and Papers import.

One ``TAG  - value`` line per field, lines ending in CRLF as the RIS specification and
EndNote expect (Zotero and rispy read either). RIS tags mean different things for
different types, so each piece type gets the tags Zotero's RIS translator reads for the
matching Zotero item type (its ``fieldMap``; the table is in ``library/citations/README.md``):

* commentary, report, policy brief -> ``RPRT`` (Zotero: report): series ``T2``
  (seriesTitle), number ``SN`` (reportNumber), kind ``M3`` (reportType), institution
  ``PB``. A venue beside a publisher goes in ``JF``, which Zotero keeps as a note.
* commentary, report, policy brief in a venue with no publisher (an op-ed in Foreign
  Policy) -> ``MGZN`` (magazineArticle): venue ``T2``, kind ``M3``, series ``T3``, number
  ``M1``.
* article -> ``JOUR``: journal ``T2``, series ``T3``, editors ``A2``.
* book -> ``BOOK``: series ``T2``, series number ``M1``, editors ``A3`` (Zotero reads a
  book's ``A2`` as its *series* editor).
* chapter -> ``CHAP``: book ``T2``, series ``T3``, series number ``SV``, editors ``A2``.
* thesis -> ``THES`` (university ``PB``, degree ``M3``); web article -> ``ELEC`` (site ``T2``).
* other -> ``PAMP``: Zotero reads ``GEN`` as a journal article; ``PAMP`` becomes a
  manuscript, the nearest thing to a generic document it imports.

Editors of other types are ``ED``. Fields a type has no tag for in Zotero are still written
(``VL``, ``IS``): Zotero keeps them as notes, other readers as fields.
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
    "other": "PAMP",
}
#: Editors' tag per RIS type (Zotero: A3 is a book's editor, A2 its series editor).
EDITOR_TAGS = {"BOOK": "A3", "CHAP": "A2", "JOUR": "A2"}
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


def ris_type(record: CitationRecord) -> str:
    """The TY for a record: a commentary in a venue with no publisher is a magazine article."""
    if record.type in GENRES_OF_REPORTS and record.container_title and not record.publisher:
        return "MGZN"
    return RIS_TYPES[record.type]


GENRES_OF_REPORTS = {"commentary": "Commentary", "report": "Report", "policy_brief": "Policy brief"}


def _typed_tags(record: CitationRecord, ty: str) -> list[tuple[str, str]]:
    """Container, series and numbers, in the tags Zotero reads for ``ty``."""
    if ty == "RPRT":
        return [("T2", record.series), ("JF", record.container_title), ("SN", record.number)]
    if ty == "MGZN":
        genre = GENRES_OF_REPORTS[record.type]
        return [
            ("T2", record.container_title),
            ("T3", record.series),
            ("M3", genre),
            ("M1", record.number),
        ]
    if ty == "BOOK":
        return [("T2", record.series), ("M1", record.number)]
    if ty == "CHAP":
        return [("T2", record.container_title), ("T3", record.series), ("SV", record.number)]
    if ty == "JOUR":
        # Both given: the issue in IS, the other number in M1.
        return [("T2", record.container_title), ("T3", record.series), ("M1", record.number)]
    return [("T2", record.container_title), ("T3", record.series), ("M1", record.number)]


def ris_lines(record: CitationRecord) -> Iterator[tuple[str, str]]:
    """(tag, value) pairs in the order importers expect, TY first and ER last."""
    first_page, last_page = record.page_range
    ty = ris_type(record)
    yield "TY", ty
    yield "ID", record.key
    for name in record.authors:
        yield "AU", ris_name(name)
    editor_tag = EDITOR_TAGS.get(ty, "ED")
    for name in record.editors:
        yield editor_tag, ris_name(name)
    yield "TI", record.full_title
    yield from _typed_tags(record, ty)
    if ty != "MGZN":
        yield "M3", _genre(record)
    yield "PY", str(record.year) if record.year else ""
    yield "DA", ris_date(record)
    yield "PB", record.publisher
    yield "CY", record.place
    yield "VL", record.volume
    yield "IS", record.issue
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
