"""BibLaTeX export for biber and the biblatex data model.

UTF-8 is kept (biber handles Unicode, and recodes for pdflatex when biblatex's
``safeinputenc`` option asks it to); only LaTeX's specials are escaped, and titles are
still brace-protected because biblatex's ``\\MakeSentenceCase`` changes case like BibTeX.

Entry types, chosen for how biblatex's standard styles print them (checked with
``style=authoryear`` in tests/citations):

* commentary, report, policy brief -> ``@report`` with ``institution``, ``type`` (the
  series, else "Commentary" / "Report" / "Policy Brief"), ``number``: "RSIS Commentaries
  263/2016. Singapore: S. Rajaratnam School of International Studies. URL". ``@online``
  would print only title, date and URL, losing series, number and institution.
* article -> ``@article`` (``journaltitle``); book -> ``@book``; chapter ->
  ``@incollection``; thesis -> ``@thesis`` with ``type = {phdthesis}`` or ``{mathesis}``
  (localisation keys biblatex translates); web article -> ``@online`` with the site as
  ``organization``; other -> ``@misc``.
* ``date`` in ISO 8601 at the piece's precision: ``2016-10-28``, ``2016-10`` or ``2016``.
* ``url`` and ``doi`` verbatim.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from library.citations.bibtex import (
    REPORT_TYPES,
    bibtex_pages,
    format_entry,
    format_names,
)
from library.citations.latex import escape_specials, protect_title, safe_url
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


def literal_list(text: str) -> str:
    """One braced item: biblatex splits publisher, institution, location and organization
    at "and", which would make two publishers of "… Studies and Humanitarian Affairs"."""
    return "{" + escape(text) + "}" if text else ""


def _title(text: str) -> str:
    return protect_title(text, escape)


def _edition(edition: str) -> str:
    """An integer edition lets biblatex print "2nd ed." in the document's language."""
    digits = edition.strip().rstrip(".").lower()
    for suffix in ("st", "nd", "rd", "th"):
        digits = digits.removesuffix(suffix)
    return digits if digits.isdigit() else escape(edition)


class BibLaTeXWriter:
    """Streams ``.bib`` entries in the biblatex data model, one chunk per record."""

    name = "BibLaTeX"
    content_type = "application/x-bibtex; charset=utf-8"
    file_extension = "bib"

    def write(self, records: Iterable[CitationRecord]) -> Iterator[str]:
        for record in records:
            yield self.entry(record)

    def entry(self, record: CitationRecord) -> str:
        entry_type, specific = self.type_fields(record)
        fields = {
            "author": format_names(record.authors, escape),
            "editor": format_names(record.editors, escape),
            "title": _title(record.title),
            "subtitle": _title(record.subtitle),
            **specific,
            "date": iso_date(record),
            "langid": LANGIDS.get(record.language.split("-")[0].lower(), ""),
            "note": escape(record.extra_note),
            "doi": safe_url(record.doi),
            "url": safe_url(record.url),
            "urldate": record.accessed if record.url else "",
            "abstract": escape(record.abstract),
            "keywords": escape(", ".join(record.keywords)),
        }
        return format_entry(entry_type, record.key, fields)

    def type_fields(self, record: CitationRecord) -> tuple[str, dict[str, str]]:
        """The entry type and the fields only that type carries."""
        kind = record.type
        if kind in REPORT_TYPES:
            return "report", {
                "type": escape(record.series or REPORT_TYPES[kind]),
                "number": escape(record.number),
                **self.imprint(record, "institution"),
            }
        if kind == "article":
            return "article", {
                "journaltitle": _title(record.container_title),
                "volume": escape(record.volume),
                "number": escape(record.issue or record.number),
                "pages": escape(bibtex_pages(record.pages)),
            }
        if kind in ("book", "chapter"):
            return ("book" if kind == "book" else "incollection"), {
                "booktitle": _title(record.container_title) if kind == "chapter" else "",
                "series": _title(record.series),
                "number": escape(record.number),
                "edition": _edition(record.edition) if record.edition else "",
                **self.imprint(record, "publisher"),
                "pages": escape(bibtex_pages(record.pages)),
            }
        if kind == "thesis":
            return "thesis", {
                "type": "mathesis" if record.is_masters_thesis else "phdthesis",
                **self.imprint(record, "institution"),
            }
        if kind == "web_article":
            return "online", {"organization": literal_list(record.container_title)}
        return "misc", {
            "howpublished": _title(record.container_title),
            "series": _title(record.series),
            "number": escape(record.number),
            **self.imprint(record, "publisher"),
        }

    @staticmethod
    def imprint(record: CitationRecord, who: str) -> dict[str, str]:
        """Publisher (or institution) and place, in biblatex's field names."""
        return {who: literal_list(record.publisher), "location": literal_list(record.place)}
