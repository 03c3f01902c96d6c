"""BibTeX export for classic ``bibtex`` styles (plain, apalike, plainnat).

Entry types are chosen for how they render in the classic styles, which know nothing of
commentaries or web pages. Compiled with pdflatex + bibtex (see tests/citations), with
the ``url`` package loaded as any document citing web sources does:

* commentary, report, policy brief -> ``@techreport`` with ``institution``, ``type``
  (the series, e.g. "RSIS Commentaries", else "Commentary" / "Report" / "Policy Brief") and
  ``number``. plain renders ``Basit. Title. RSIS Commentaries 263/2016, S. Rajaratnam School
  of International Studies, Singapore, October 2016.`` and apalike ``Basit, A. (2016).
  Title. RSIS Commentaries 263/2016, S. Rajaratnam School..., Singapore.`` The alternative,
  ``@misc`` with ``howpublished``, renders the same words only if we glue series, number,
  institution and place into one string ourselves; the styles then cannot order or
  punctuate them, and plainnat, urlbst styles and reference managers reading the file back
  (JabRef, Zotero, biber) lose the structure. ``@misc`` does print the URL in plain and
  apalike, which ``@techreport`` does not (those styles predate URLs; plainnat prints our
  ``url`` field); putting ``\\url`` into a ``note`` instead would print it twice in every
  URL-aware style. Without an institution (required by ``@techreport``, which would warn)
  we fall back to ``@misc``.
* article -> ``@article``; book -> ``@book``; chapter -> ``@incollection`` (``booktitle``,
  ``editor``); thesis -> ``@phdthesis``, or ``@mastersthesis`` when the note says "master".
* web article and other -> ``@misc``; a web article's URL goes in
  ``howpublished = {\\url{...}}`` because plain has no ``url`` field (this needs
  ``\\usepackage{url}``). Other entries carry ``url`` and ``doi`` fields that plain ignores
  and plainnat prints; they are never escaped.

Names are ``von Last, Jr, First``; organisations are braced whole so no style splits
"Centre for ... Studies and Humanitarian Affairs" at "and". Entries without authors get a
``key`` field (their title) that plain sorts by and apalike uses as the label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from library.citations.latex import protect_title, safe_url, to_latex
from library.citations.records import CitationRecord, Name
from library.text import subtitle_joiner

Escape = Callable[[str], str]

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
REPORT_TYPES = {"commentary": "Commentary", "report": "Report", "policy_brief": "Policy Brief"}
ORDINALS = ("First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth").split()


class Macro(str):
    """A field value written bare, as a BibTeX string macro (``month = oct``)."""

    __slots__ = ()


# --- names --------------------------------------------------------------------------------

_AND = re.compile(r"\band\b", re.IGNORECASE)
# ʿ or ʾ before a letter: one "special character" with it, so apalike abbreviates
# ʿAbd as ‘A. rather than ‘.
_AYN = re.compile(r"\{(\\textquote(?:left|right))\}([A-Za-z])")


def _name_part(text: str, escape: Escape) -> str:
    """One name part, braced when BibTeX's name parser would misread it."""
    escaped = _AYN.sub(r"{\1 \2}", escape(text))
    if "," in text or _AND.search(text):
        return "{" + escaped + "}"
    return escaped


def _family(name: Name, escape: Escape) -> str:
    """``von Last``: a multi-word family with a lowercase word inside is braced whole,
    so "Vargas y Llosa" is not parsed as a von part."""
    words = name.family.split()
    family = _name_part(name.family, escape)
    if len(words) > 1 and any(w[:1].islower() for w in words[1:]) and not family.startswith("{"):
        family = "{" + family + "}"
    if not name.particle:
        return family
    if name.particle.endswith(("-", "'", "’")):
        # "al-" and "d'" attach without a space; braced, or BibTeX would print "al~Raḥmān".
        return "{" + _name_part(name.particle, escape) + family + "}"
    return _name_part(name.particle, escape) + " " + family


def format_name(name: Name, escape: Escape = to_latex) -> str:
    """``von Last, Jr, First`` or ``{Organisation}``."""
    if name.is_organisation:
        return "{" + escape(name.family) + "}"
    parts = [_family(name, escape)]
    if name.suffix:
        parts.append(_name_part(name.suffix, escape))
    if name.given or name.suffix:
        parts.append(_name_part(name.given, escape))
    return ", ".join(parts)


def format_names(names: Iterable[Name], escape: Escape = to_latex) -> str:
    return " and ".join(format_name(name, escape) for name in names)


# --- entries ------------------------------------------------------------------------------


def format_entry(entry_type: str, key: str, fields: dict[str, str]) -> str:
    """``@type{key,\\n  field = {value},\\n}`` with empty fields left out."""
    lines = [f"@{entry_type}{{{key},"]
    for field, value in fields.items():
        if not value:
            continue
        written = value if isinstance(value, Macro) else "{" + value + "}"
        lines.append(f"  {field} = {written},")
    lines.append("}")
    return "\n".join(lines) + "\n\n"


def bibtex_pages(pages: str) -> str:
    """``45–67`` -> ``45--67``: BibTeX's range dash, whatever dash was typed."""
    return re.sub(r"\s*[-\u2010-\u2015]+\s*", "--", pages.strip())


def bibtex_edition(edition: str) -> str:
    """``2`` -> ``Second``: plain prints "{edition} edition"."""
    digits = edition.strip().rstrip(".").removesuffix("nd").removesuffix("rd")
    digits = digits.removesuffix("th").removesuffix("st")
    if digits.isdigit() and 1 <= int(digits) <= len(ORDINALS):
        return ORDINALS[int(digits) - 1]
    return to_latex(edition)


def title_field(record: CitationRecord, escape: Escape = to_latex) -> str:
    """Title and subtitle, each protected on its own (each has its own first word)."""
    title = protect_title(record.title, escape)
    if not record.subtitle:
        return title
    return title + subtitle_joiner(record.title) + protect_title(record.subtitle, escape)


class BibTeXWriter:
    """Streams ``.bib`` entries for classic bibtex, one chunk per record."""

    name = "BibTeX"
    content_type = "application/x-bibtex; charset=utf-8"
    file_extension = "bib"

    def write(self, records: Iterable[CitationRecord]) -> Iterator[str]:
        for record in records:
            yield self.entry(record)

    def entry(self, record: CitationRecord) -> str:
        entry_type, specific = self.type_fields(record)
        fields = {
            "author": format_names(record.authors),
            "editor": format_names(record.editors),
            "title": title_field(record),
            **specific,
            "year": str(record.year) if record.year else "",
            "month": Macro(MONTHS[record.month - 1]) if record.month else "",
            "note": to_latex(record.extra_note),
            "key": "" if record.authors or record.editors else protect_title(record.title),
            "doi": safe_url(record.doi),
            "abstract": to_latex(record.abstract),
            "keywords": to_latex(", ".join(record.keywords)),
        }
        if "howpublished" not in specific:
            fields["url"] = safe_url(record.url)
        # Classic styles ignore urldate; biblatex-style readers (JabRef, Zotero, biber) keep it.
        fields["urldate"] = record.accessed if record.url else ""
        return format_entry(entry_type, record.key, fields)

    def type_fields(self, record: CitationRecord) -> tuple[str, dict[str, str]]:
        """The entry type and the fields only that type carries."""
        kind = record.type
        if kind in REPORT_TYPES and record.publisher:
            return "techreport", self.report_fields(record)
        if kind == "article":
            return "article", self.article_fields(record)
        if kind == "book":
            return "book", self.book_fields(record)
        if kind == "chapter":
            return "incollection", {
                "booktitle": protect_title(record.container_title),
                **self.book_fields(record),
                "pages": to_latex(bibtex_pages(record.pages)),
            }
        if kind == "thesis":
            return ("mastersthesis" if record.is_masters_thesis else "phdthesis"), {
                "school": to_latex(record.publisher),
                "address": to_latex(record.place),
            }
        return "misc", self.misc_fields(record)

    def report_fields(self, record: CitationRecord) -> dict[str, str]:
        kind = record.series or REPORT_TYPES[record.type]
        # plain sentence-cases a type printed without a number, so then it is protected like
        # a title; with a number it is printed as it is, and braces would only show in
        # readers such as pandoc.
        return {
            "type": to_latex(kind) if record.number else protect_title(kind),
            "number": to_latex(record.number),
            "institution": to_latex(record.publisher),
            "address": to_latex(record.place),
        }

    def article_fields(self, record: CitationRecord) -> dict[str, str]:
        return {
            "journal": protect_title(record.container_title),
            "volume": to_latex(bibtex_pages(record.volume)),
            "number": to_latex(bibtex_pages(record.issue or record.number)),
            "pages": to_latex(bibtex_pages(record.pages)),
        }

    def book_fields(self, record: CitationRecord) -> dict[str, str]:
        return {
            "series": protect_title(record.series),
            "number": to_latex(record.number),
            "edition": bibtex_edition(record.edition) if record.edition else "",
            "publisher": to_latex(record.publisher),
            "address": to_latex(record.place),
        }

    def misc_fields(self, record: CitationRecord) -> dict[str, str]:
        """``howpublished``: where it appeared, then the link, for styles with no url field."""
        series = " ".join(to_latex(p) for p in (record.series, record.number) if p)
        where = [
            protect_title(record.container_title) if record.container_title else "",
            series,
            to_latex(record.publisher),
            to_latex(record.place),
            r"\url{" + safe_url(record.url) + "}" if record.url else "",
        ]
        return {"howpublished": ", ".join(part for part in where if part)}
