"""BibTeX export for classic ``bibtex`` styles (plain, apalike, plainnat).

Entry types are chosen for how they render in the classic styles, which know nothing of
commentaries or web pages. Compiled with pdflatex + bibtex (see tests/citations), with
the ``url`` package loaded as any document citing web sources does:

* commentary, report, policy brief published in a venue and with no publisher (an op-ed
  in Foreign Policy, a piece in The Diplomat) -> ``@article`` with the venue as ``journal``
  and the kind ("Commentary", "Report", "Policy Brief") in ``type``, which the classic
  styles ignore and our reader uses to tell it from a journal article.
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
  we fall back to ``@misc``. A report's venue, when it has a publisher too, is kept in
  ``howpublished`` (which ``@techreport`` does not print).
* article -> ``@article``; book -> ``@book`` (``volume``, ``series``, ``number``);
  chapter -> ``@incollection`` (``booktitle``, ``editor``, ``volume``); thesis ->
  ``@phdthesis``, or ``@mastersthesis`` when the note says "master".
* web article and other -> ``@misc``; ``howpublished`` holds the venue (as
  ``\\emph{...}``, which also tells our reader which part it is), series, publisher and
  place, the only field plain's ``@misc`` prints. Every entry carries ``url`` and ``doi``
  fields, which plain ignores and plainnat prints (an earlier version put the URL in
  ``howpublished`` for plain; pandoc, biber and Zotero then lost it). The DOI is written
  as it is (see ``latex.safe_doi``).
* whatever a type has no field of its own for (a thesis's series, a book's pages, a
  report's volume) is still written, in the usual field names (``rest_fields``).

Titles are brace-protected only where case must survive a sentence-casing style (see
``latex.protect_title``): acronyms, words with inner capitals, the record's own author
names and the proper nouns the writer is given (the catalogue's vocabulary).

Names are ``von Last, Jr, First``; organisations are braced whole so no style splits
"Centre for ... Studies and Humanitarian Affairs" at "and". Entries without authors get a
``key`` field (their title) that plain sorts by and apalike uses as the label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from library.citations.latex import protect_title, safe_doi, safe_url, to_latex
from library.citations.records import CitationRecord, Name
from library.text import subtitle_joiner

Escape = Callable[[str], str]

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
REPORT_TYPES = {"commentary": "Commentary", "report": "Report", "policy_brief": "Policy Brief"}
ORDINALS = ("First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth").split()


#: Field name -> the catalogue field it carries, where the names differ.
CARRIES = {
    "journal": "container_title",
    "booktitle": "container_title",
    "howpublished": "container_title",
    "institution": "publisher",
    "school": "publisher",
    "address": "place",
}


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
    # "=" braced too: biber and pandoc read ``given=William`` as biblatex's extended
    # name format (a key and its value), not as a name.
    if "," in text or "=" in text or _AND.search(text):
        return "{" + escaped + "}"
    return escaped


def _particle(particle: str, escape: Escape) -> str:
    """A particle bibtex reads as one: a von part is told by its lower-case first letter.

    A particle read from words written ``{F}ood {a}nd {A}griculture`` (brace-first, so
    bibtex sees "ood", "nd": lower case) is written back that way; a bare capital or a bare
    "and" would make bibtex read it as given names or as a second person.
    """
    words = particle.split()
    if all(w[:1].islower() and w.lower() != "and" for w in words) and "," not in particle:
        return _name_part(particle, escape)
    written = []
    for word in words:
        if word[:1].isupper() or word.lower() == "and":
            written.append("{" + escape(word[0]) + "}" + escape(word[1:]))
        else:
            written.append(escape(word))
    return " ".join(written)


def _family(name: Name, escape: Escape) -> str:
    """``von Last``: a multi-word family with a lowercase word in it is braced whole,
    so "Vargas y Llosa" (or a first word in lower case) is not parsed as a von part."""
    words = name.family.split()
    family = _name_part(name.family, escape)
    if len(words) > 1 and any(w[:1].islower() for w in words) and not family.startswith("{"):
        family = "{" + family + "}"
    if not name.particle:
        return family
    if name.particle.endswith(("-", "'", "’")):
        # "al-" and "d'" attach without a space; braced, or BibTeX would print "al~Raḥmān".
        return "{" + _name_part(name.particle, escape) + family + "}"
    return _particle(name.particle, escape) + " " + family


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


def latex_range(text: str, escape: Escape = to_latex) -> str:
    """A page, volume or issue range escaped with its ``--`` kept a range dash."""
    return "--".join(escape(part) for part in bibtex_pages(text).split("--"))


def bibtex_pages(pages: str) -> str:
    """``45–67`` -> ``45--67``: BibTeX's range dash, whatever dash was typed."""
    return re.sub(r"\s*[-\u2010-\u2015]+\s*", "--", pages.strip())


def bibtex_edition(edition: str) -> str:
    """``2`` -> ``Second``: plain prints "{edition} edition"."""
    digits = edition.strip().rstrip(".").removesuffix("nd").removesuffix("rd")
    digits = digits.removesuffix("th").removesuffix("st")
    if digits.isdecimal() and 1 <= int(digits) <= len(ORDINALS):
        return ORDINALS[int(digits) - 1]
    return to_latex(edition)


def record_nouns(record: CitationRecord) -> tuple[str, ...]:
    """Proper nouns of ``record``'s own that a title of it may contain: people, series."""
    names = [n.family for n in (*record.authors, *record.editors)]
    return (*names, record.series)


def title_field(
    record: CitationRecord, escape: Escape = to_latex, vocabulary: tuple[str, ...] = ()
) -> str:
    """Title and subtitle, each protected on its own (each has its own first word)."""
    nouns = record_nouns(record)
    title = protect_title(record.title, escape, nouns, vocabulary)
    if not record.subtitle:
        return title
    subtitle = protect_title(record.subtitle, escape, nouns, vocabulary)
    return title + subtitle_joiner(record.title) + subtitle


class BibTeXWriter:
    """Streams ``.bib`` entries for classic bibtex, one chunk per record."""

    name = "BibTeX"
    content_type = "application/x-bibtex; charset=utf-8"
    file_extension = "bib"

    def __init__(self, proper_nouns: Iterable[str] = ()) -> None:
        #: Names whose capitals a title keeps (the catalogue's topics and regions).
        self.proper_nouns = tuple(proper_nouns)

    def write(self, records: Iterable[CitationRecord]) -> Iterator[str]:
        for record in records:
            yield self.entry(record)

    def protect(self, text: str, record: CitationRecord) -> str:
        """A title-like field, protected with the record's names and the vocabulary."""
        return protect_title(text, to_latex, record_nouns(record), self.proper_nouns)

    def entry(self, record: CitationRecord) -> str:
        entry_type, specific = self.type_fields(record)
        specific |= self.rest_fields(record, specific)
        vocabulary = self.proper_nouns
        title = title_field(record, to_latex, vocabulary)
        fields = {
            "author": format_names(record.authors),
            "editor": format_names(record.editors),
            "title": title,
            **specific,
            "year": str(record.year) if record.year else "",
            "month": Macro(MONTHS[record.month - 1]) if record.month else "",
            "note": to_latex(record.extra_note),
            "key": "" if record.authors or record.editors else title,
            "doi": safe_doi(record.doi),
            "abstract": to_latex(record.abstract),
            "keywords": to_latex(", ".join(record.keywords)),
        }
        fields["url"] = safe_url(record.url)
        # Classic styles ignore urldate; biblatex-style readers (JabRef, Zotero, biber) keep it.
        fields["urldate"] = record.accessed if record.url else ""
        return format_entry(entry_type, record.key, fields)

    def rest_fields(self, record: CitationRecord, specific: dict[str, str]) -> dict[str, str]:
        """What the entry type has no field of its own for, in the usual field names.

        Nothing the catalogue holds is left out: a thesis's series, a book's pages, a
        report's volume. plain ignores fields its type does not print; biber, pandoc,
        JabRef and our reader read them.
        """
        carried = {CARRIES.get(name, name) for name in specific}
        if "institution" in specific:
            carried.add("series")  # a report's series, in type
        if "number" in specific:
            carried.add("issue")  # article_fields and report_fields place both
        written = {
            "booktitle": self.protect(record.container_title, record),
            "series": to_latex(record.series),
            "number": to_latex(record.number),
            "volume": latex_range(record.volume),
            "issue": latex_range(record.issue),
            "pages": latex_range(record.pages),
            "edition": bibtex_edition(record.edition) if record.edition else "",
            "publisher": to_latex(record.publisher),
            "address": to_latex(record.place),
        }
        return {
            name: value
            for name, value in written.items()
            if value and CARRIES.get(name, name) not in carried
        }

    def type_fields(self, record: CitationRecord) -> tuple[str, dict[str, str]]:
        """The entry type and the fields only that type carries."""
        kind = record.type
        if kind in REPORT_TYPES and record.container_title and not record.publisher:
            return "article", {
                **self.article_fields(record),
                # The kind itself (never the series, which goes in series): our reader
                # tells a commentary from a journal article by it.
                "type": REPORT_TYPES[kind],
                "address": to_latex(record.place),
            }
        if kind in REPORT_TYPES and record.publisher:
            return "techreport", {
                **self.report_fields(record),
                "howpublished": self.protect(record.container_title, record),
            }
        if kind == "article":
            return "article", self.article_fields(record)
        if kind == "book":
            return "book", self.book_fields(record)
        if kind == "chapter":
            return "incollection", {
                "booktitle": self.protect(record.container_title, record),
                **self.book_fields(record),
                "pages": latex_range(record.pages),
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
            "type": to_latex(kind) if record.number else self.protect(kind, record),
            "number": to_latex(record.number),
            "institution": to_latex(record.publisher),
            "address": to_latex(record.place),
        }

    def article_fields(self, record: CitationRecord) -> dict[str, str]:
        return {
            "journal": self.protect(record.container_title, record),
            "volume": latex_range(record.volume),
            # Both known: the number in ``number``, the issue in ``issue`` (read back so).
            "number": latex_range(record.number or record.issue),
            "issue": latex_range(record.issue) if record.number else "",
            "pages": latex_range(record.pages),
        }

    def book_fields(self, record: CitationRecord) -> dict[str, str]:
        return {
            "volume": to_latex(record.volume),
            "series": to_latex(record.series),  # printed as written, never case-changed
            "number": to_latex(record.number),
            "edition": bibtex_edition(record.edition) if record.edition else "",
            "publisher": to_latex(record.publisher),
            "address": to_latex(record.place),
        }

    def misc_fields(self, record: CitationRecord) -> dict[str, str]:
        """``howpublished``: where it appeared, for styles that print nothing else.

        plain's ``@misc`` prints only ``howpublished``, so the venue, series, publisher and
        place are glued there for it; they are also written in their own fields, which
        plain ignores and biber, JabRef, Zotero, pandoc and our reader take. The URL is in
        ``url`` like every other entry's (plain prints no URL for any type).
        """
        series = " ".join(to_latex(p) for p in (record.series, record.number) if p)
        venue = self.protect(record.container_title, record)
        where = [
            r"\emph{" + venue + "}" if venue else "",
            series,
            to_latex(record.publisher),
            to_latex(record.place),
        ]
        return {
            "howpublished": ", ".join(part for part in where if part),
            "series": to_latex(record.series),
            "number": to_latex(record.number),
            "publisher": to_latex(record.publisher),
            "address": to_latex(record.place),
        }
