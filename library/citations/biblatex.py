"""BibLaTeX export for biber and the biblatex data model.

UTF-8 is kept (biber handles Unicode, and recodes for pdflatex when biblatex's
``safeinputenc`` option asks it to); only LaTeX's specials are escaped, and titles are
still brace-protected because biblatex's ``\\MakeSentenceCase`` changes case like BibTeX.

Entry types, chosen for how biblatex's standard styles print them (checked with
``style=authoryear`` in tests/citations):

* commentary, report, policy brief published in a venue with no publisher -> ``@article``
  (``journaltitle`` is the venue, ``type`` the kind, which the article driver does not
  print but biber and our reader keep), as in the BibTeX export.
* commentary, report, policy brief -> ``@report`` with ``institution``, ``type`` (the
  series, else "Commentary" / "Report" / "Policy Brief"), ``number``: "RSIS Commentaries
  263/2016. Singapore: S. Rajaratnam School of International Studies. URL". ``@online``
  would print only title, date and URL, losing series, number and institution. A venue
  beside the publisher is kept in ``howpublished`` (not printed by the report driver).
* article -> ``@article`` (``journaltitle``); book -> ``@book`` and chapter ->
  ``@incollection``, both with ``volume``, ``series``, ``number``; thesis -> ``@thesis``
  with ``type = {phdthesis}`` or ``{mathesis}`` (localisation keys biblatex translates);
  web article -> ``@online`` with the site as ``organization`` (and ``publisher``, which
  the driver does not print, when the catalogue has one); other -> ``@misc`` with the
  venue as ``howpublished`` and the publisher as ``organization`` (what the driver prints).
* ``date`` in ISO 8601 at the piece's precision: ``2016-10-28``, ``2016-10`` or ``2016``.
* ``url`` and ``doi`` verbatim (a DOI as written, ``latex.safe_doi``).
* titles protected as in the BibTeX export (``latex.protect_title``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from library.citations.bibtex import (
    REPORT_TYPES,
    format_entry,
    format_names,
    latex_range,
    record_nouns,
)
from library.citations.latex import escape_specials, protect_title, safe_doi, safe_url
from library.citations.records import CitationRecord

# biblatex's language identifiers (babel names) for the codes the catalogue uses.
LANGIDS = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "pt": "portuguese",
    "it": "italian",
    "nl": "dutch",
    "id": "indonesian",
    "ms": "malay",
    "vi": "vietnamese",
    "ru": "russian",
}


# Transliteration's ʿayn and hamza as the quotes they are typeset as: biber's pdflatex
# recoding (safeinputenc) turns the modifier letters into tipa's \\ayn and \\hamza, which
# no document loads; the quotes work in every engine.
#: Field name -> the catalogue field it carries, where the names differ.
CARRIES = {
    "journaltitle": "container_title",
    "booktitle": "container_title",
    "howpublished": "container_title",
    "institution": "publisher",
    "location": "place",
}

_MODIFIER_QUOTES = str.maketrans({"\u02bf": "‘", "\u02bb": "‘", "\u02be": "’", "\u02bc": "’"})


def escape(text: str) -> str:
    """LaTeX specials escaped, UTF-8 kept (bar the modifier-letter quotes)."""
    return escape_specials(text.translate(_MODIFIER_QUOTES))


def iso_date(record: CitationRecord) -> str:
    """``2016-10-28``, ``2016-10`` or ``2016``: never more precise than what is known."""
    if record.year is None:
        return ""
    parts = [f"{record.year:04d}"]
    if record.month:
        parts.append(f"{record.month:02d}")
        if record.day:
            parts.append(f"{record.day:02d}")
    return "-".join(parts)


def title_parts(record: CitationRecord) -> tuple[str, str]:
    """Title and subtitle; a title with ``: `` and no subtitle is split there.

    Importers (ours included, ``readers.common.split_title``) take ``Title: Subtitle`` apart,
    so writing it split is what an export, import and export again gives back; biblatex
    prints the two with its own subtitle punctuation.
    """
    if record.subtitle:
        return record.title, record.subtitle
    head, sep, tail = record.title.partition(": ")
    if sep and head.strip() and tail.strip():
        return head.strip(), tail.strip()
    return record.title, ""


def literal_list(text: str) -> str:
    """One braced item: biblatex splits publisher, institution, location and organization
    at "and", which would make two publishers of "… Studies and Humanitarian Affairs"."""
    return "{" + escape(text) + "}" if text else ""


def _edition(edition: str) -> str:
    """An integer edition lets biblatex print "2nd ed." in the document's language."""
    digits = edition.strip().rstrip(".").lower()
    for suffix in ("st", "nd", "rd", "th"):
        digits = digits.removesuffix(suffix)
    return digits if digits.isascii() and digits.isdecimal() else escape(edition)


class BibLaTeXWriter:
    """Streams ``.bib`` entries in the biblatex data model, one chunk per record."""

    name = "BibLaTeX"
    content_type = "application/x-bibtex; charset=utf-8"
    file_extension = "bib"

    def __init__(self, proper_nouns: Iterable[str] = ()) -> None:
        #: Names whose capitals a title keeps (the catalogue's topics and regions).
        self.proper_nouns = tuple(proper_nouns)

    def write(self, records: Iterable[CitationRecord]) -> Iterator[str]:
        for record in records:
            yield self.entry(record)

    def _title(self, text: str, record: CitationRecord) -> str:
        return protect_title(text, escape, record_nouns(record), self.proper_nouns)

    def entry(self, record: CitationRecord) -> str:
        entry_type, specific = self.type_fields(record)
        specific |= self.rest_fields(record, entry_type, specific)
        title, subtitle = title_parts(record)
        fields = {
            "author": format_names(record.authors, escape),
            "editor": format_names(record.editors, escape),
            "title": self._title(title, record),
            "subtitle": self._title(subtitle, record),
            **specific,
            "date": iso_date(record),
            "langid": LANGIDS.get(record.language.split("-")[0].lower(), ""),
            "note": escape(record.extra_note),
            "doi": safe_doi(record.doi),
            "url": safe_url(record.url),
            "urldate": record.accessed if record.url else "",
            "abstract": escape(record.abstract),
            "keywords": escape(", ".join(record.keywords)),
        }
        return format_entry(entry_type, record.key, fields)

    def type_fields(self, record: CitationRecord) -> tuple[str, dict[str, str]]:
        """The entry type and the fields only that type carries."""
        kind = record.type
        venue = self._title(record.container_title, record)
        if kind in REPORT_TYPES and record.container_title and not record.publisher:
            return "article", {
                "journaltitle": venue,
                "type": REPORT_TYPES[kind],
                "volume": escape(record.volume),
                "number": escape(record.number),
                "issue": escape(record.issue),
                "pages": latex_range(record.pages, escape),
                "location": literal_list(record.place),
            }
        if kind in REPORT_TYPES:
            return "report", {
                "type": escape(record.series or REPORT_TYPES[kind]),
                "number": escape(record.number),
                "howpublished": venue,
                **self.imprint(record, "institution"),
                "pages": latex_range(record.pages, escape),
            }
        if kind == "article":
            return "article", {
                "journaltitle": venue,
                "volume": escape(record.volume),
                # Both known: each in its own field (as our reader reads them back).
                "number": escape(record.number or record.issue),
                "issue": escape(record.issue) if record.number else "",
                "pages": latex_range(record.pages, escape),
            }
        if kind in ("book", "chapter"):
            return ("book" if kind == "book" else "incollection"), {
                # A book's venue: the proceedings or multi-volume work it belongs to.
                "booktitle": venue,
                "volume": escape(record.volume),
                "series": escape(record.series),
                "number": escape(record.number),
                "edition": _edition(record.edition) if record.edition else "",
                **self.imprint(record, "publisher"),
                "pages": latex_range(record.pages, escape),
            }
        if kind == "thesis":
            return "thesis", {
                "type": "mathesis" if record.is_masters_thesis else "phdthesis",
                **self.imprint(record, "institution"),
            }
        if kind == "web_article":
            return "online", {
                "organization": literal_list(record.container_title),
                **self.imprint(record, "publisher"),
            }
        return "misc", {
            "howpublished": venue,
            "series": escape(record.series),
            "number": escape(record.number),
            **self.imprint(record, "organization"),
        }

    def rest_fields(
        self, record: CitationRecord, entry_type: str, specific: dict[str, str]
    ) -> dict[str, str]:
        """What the entry type has no field of its own for, in biblatex's field names.

        biber keeps a field outside its type's data model (it warns only when asked to
        validate the model), and pandoc and our reader read it.
        """
        carried = {CARRIES.get(name, name) for name in specific}
        if entry_type == "online":
            carried.add("container_title")  # the site, in organization
        elif entry_type == "misc":
            carried.add("publisher")  # in organization, which the misc driver prints
        if entry_type == "report":
            carried.add("series")  # in type
        if "number" in specific:
            carried.add("issue")
        written = {
            "booktitle": self._title(record.container_title, record),
            "series": escape(record.series),
            "number": escape(record.number),
            "volume": escape(record.volume),
            "issue": escape(record.issue),
            "pages": latex_range(record.pages, escape),
            "edition": _edition(record.edition) if record.edition else "",
            "publisher": literal_list(record.publisher),
            "location": literal_list(record.place),
        }
        return {
            name: value
            for name, value in written.items()
            if value and CARRIES.get(name, name) not in carried
        }

    @staticmethod
    def imprint(record: CitationRecord, who: str) -> dict[str, str]:
        """Publisher (or institution) and place, in biblatex's field names."""
        return {who: literal_list(record.publisher), "location": literal_list(record.place)}
