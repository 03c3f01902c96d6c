"""Metadata embedded in pages, for the Zotero Connector, Google Scholar and search engines.

Three vocabularies say the same record three ways, because each reader trusts a different
one: Highwire Press ``citation_*`` meta tags (Zotero's "Embedded Metadata" translator and
Google Scholar's inclusion guidelines), a COinS span (OpenURL KEV in a ``title``, read by
Zotero on list pages where meta tags cannot describe several works) and schema.org JSON-LD
(general search engines). Everything here returns plain data; templates escape it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse

from library.catalogue.attachments import may_download
from library.protocols.dates import highwire_date, iso_date

if TYPE_CHECKING:
    from django.http import HttpRequest

    from library.catalogue.models import Author, Piece

#: Types whose Highwire description is a technical report (institution + number).
REPORT_TYPES = frozenset({"commentary", "report", "policy_brief"})

SCHEMA_TYPES = {
    "commentary": "Report",
    "report": "Report",
    "policy_brief": "Report",
    "article": "ScholarlyArticle",
    "book": "Book",
    "chapter": "Chapter",
    "web_article": "Article",
    "thesis": "Thesis",
    "other": "CreativeWork",
}

#: ``DC.type`` as Zotero item types: with no Highwire type tag (books, web articles), the
#: Embedded Metadata translator types the item from ``DC.type`` when it names a Zotero
#: type, and would otherwise guess "journal article" from ``citation_title``.
ZOTERO_TYPES = {
    "commentary": "report",
    "report": "report",
    "policy_brief": "report",
    "article": "journalArticle",
    "book": "book",
    "chapter": "bookSection",
    "web_article": "webpage",
    "thesis": "thesis",
    "other": "document",
}


def _value(piece: Piece, name: str) -> str:
    """A field's value, or "" when the row was loaded without it (search results).

    Reading a deferred field would cost one query per field per result.
    """
    if name in piece.get_deferred_fields():
        return ""
    return getattr(piece, name) or ""


@dataclass(frozen=True)
class Person:
    """A contributor as the embedded formats need it: display and inverted forms."""

    name: str
    family: str = ""
    given: str = ""
    is_organisation: bool = False

    @property
    def inverted(self) -> str:
        """``Family, Given``: the unambiguous form Zotero and Google Scholar split on."""
        if self.is_organisation or not self.given:
            return self.family or self.name
        return f"{self.family}, {self.given}"


def _person(author: Author) -> Person:
    family = " ".join(p for p in (author.particle, author.family) if p)
    if author.suffix and not author.is_organisation:
        family = f"{family}, {author.suffix}"
    return Person(author.display_name, family, author.given, author.is_organisation)


def authors_of(piece: Piece) -> list[Person]:
    """The byline in order; a search result carries only display names (``piece.byline``)."""
    if hasattr(piece, "byline"):
        return [Person(name) for name in piece.byline]
    return [_person(a) for a in piece.authors]


def _page_range(pages: str) -> tuple[str, str]:
    for dash in ("–", "—", "-"):
        if dash in pages:
            first, _, last = pages.partition(dash)
            return first.strip(), last.strip().lstrip("-")
    return pages.strip(), ""


def keywords_of(piece: Piece) -> list[str]:
    """The piece's keywords, then its topic names, without repeats (any case)."""
    seen: set[str] = set()
    words: list[str] = []
    for word in [*(piece.keywords or []), *(t.name for t in piece.topics.all())]:
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            words.append(word)
    return words


def attachment_url(request: HttpRequest, piece: Piece) -> str:
    """The PDF's address, only for a reader who may download it (``ATTACHMENTS_PUBLIC``):
    a reference manager given it otherwise would save a sign-in page as the full text."""
    if not _value(piece, "attachment") or not may_download(request):
        return ""
    return request.build_absolute_uri(
        reverse("catalogue:piece_attachment", args=[piece.citation_key])
    )


def _highwire_authors(people: list[Person]) -> list[str]:
    """``Family, Given`` per author, guarded against one quirk of Zotero's translator.

    With a single ``citation_author`` tag whose both sides of the comma contain a space
    ("Nguyen Van, Thi Binh"), Zotero reads a list of two authors. A trailing ``;`` makes
    it split on semicolons instead, which leaves the one name whole.
    """
    names = [p.inverted for p in people]
    if len(names) == 1 and "," in names[0]:
        family, _, given = names[0].partition(",")
        if " " in family.strip() and " " in given.strip():
            names[0] += ";"
    return names


def highwire_tags(request: HttpRequest, piece: Piece) -> list[tuple[str, str]]:
    """``(name, content)`` pairs for ``<meta>``: Highwire ``citation_*`` then Dublin Core.

    The choice of tags also tells Zotero the item type: ``citation_journal_title`` makes a
    journal article, ``citation_technical_report_institution`` a report,
    ``citation_dissertation_institution`` a thesis, ``citation_inbook_title`` a chapter.
    """
    tags: list[tuple[str, str]] = [("citation_title", piece.full_title)]
    people = authors_of(piece)
    tags += [("citation_author", name) for name in _highwire_authors(people)]
    if date := highwire_date(piece):
        tags.append(("citation_publication_date", date))
    kind = piece.type
    if kind in REPORT_TYPES:
        if piece.publisher:
            tags.append(("citation_technical_report_institution", piece.publisher))
        if piece.number:
            tags.append(("citation_technical_report_number", piece.number))
    elif kind == "thesis" and piece.publisher:
        tags.append(("citation_dissertation_institution", piece.publisher))
    if piece.publisher:
        tags.append(("citation_publisher", piece.publisher))
    if piece.series:
        tags.append(("citation_series_title", piece.series))
    if kind == "article" and piece.container_title:
        tags.append(("citation_journal_title", piece.container_title))
    elif kind == "chapter" and piece.container_title:
        tags.append(("citation_inbook_title", piece.container_title))
    if piece.volume:
        tags.append(("citation_volume", piece.volume))
    if piece.issue:
        tags.append(("citation_issue", piece.issue))
    if piece.pages:
        first, last = _page_range(piece.pages)
        tags.append(("citation_firstpage", first))
        if last:
            tags.append(("citation_lastpage", last))
    if piece.doi:
        tags.append(("citation_doi", piece.doi))
    if piece.language:
        tags.append(("citation_language", piece.language))
    tags += [("citation_keywords", word) for word in keywords_of(piece)]
    page = request.build_absolute_uri(piece.get_absolute_url())
    tags.append(("citation_abstract_html_url", page))
    if pdf := attachment_url(request, piece):
        tags.append(("citation_pdf_url", pdf))
    tags += _dublin_core(piece, people, page)
    return tags


def _dublin_core(piece: Piece, people: list[Person], page: str) -> list[tuple[str, str]]:
    """Dublin Core meta tags: Zotero reads the abstract from ``DC.description`` and, for
    types Highwire cannot name, the item type from ``DC.type``."""
    tags = [("DC.title", piece.full_title)]
    tags += [("DC.creator", p.inverted) for p in people]
    if date := iso_date(piece):
        tags.append(("DC.date", date))
    if piece.publisher:
        tags.append(("DC.publisher", piece.publisher))
    tags.append(("DC.type", ZOTERO_TYPES.get(piece.type, "document")))
    if piece.synopsis:
        tags.append(("DC.description", piece.synopsis))
    tags.append(("DC.identifier", page))
    if piece.doi:
        tags.append(("DC.identifier", f"https://doi.org/{piece.doi}"))
    if piece.language:
        tags.append(("DC.language", piece.language))
    tags += [("DC.subject", word) for word in keywords_of(piece)]
    return tags


# --- COinS ----------------------------------------------------------------------------------


def coins_title(piece: Piece, page_url: str = "") -> str:
    """The OpenURL 1.0 KEV context object a ``<span class="Z3988">`` carries.

    Journal articles use the journal format, theses the dissertation format, everything
    else the book format with a genre (``report`` for commentaries, reports and briefs).
    Fields the row was loaded without (search results) are simply left out.
    """
    kind = piece.type
    pairs: list[tuple[str, str]] = [("ctx_ver", "Z39.88-2004")]
    title = piece.full_title if "subtitle" not in piece.get_deferred_fields() else piece.title
    container = _value(piece, "container_title")
    if kind == "article":
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"), ("rft.genre", "article")]
        pairs += [("rft.atitle", title)]
        if container:
            pairs.append(("rft.jtitle", container))
    elif kind == "thesis":
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:dissertation"), ("rft.title", title)]
        if publisher := _value(piece, "publisher"):
            pairs.append(("rft.inst", publisher))
    else:
        genre = {"book": "book", "chapter": "bookitem"}.get(
            kind, "report" if kind in REPORT_TYPES else "document"
        )
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"), ("rft.genre", genre)]
        if kind == "chapter":
            pairs.append(("rft.atitle", title))
            if container:
                pairs.append(("rft.btitle", container))
        else:
            pairs.append(("rft.btitle", title))
    for i, person in enumerate(authors_of(piece)):
        if i == 0 and person.family and person.given:
            pairs += [("rft.aulast", person.family), ("rft.aufirst", person.given)]
        elif person.is_organisation and i == 0:
            pairs.append(("rft.aucorp", person.name))
        else:
            pairs.append(("rft.au", person.inverted if person.family else person.name))
    if date := iso_date(piece):
        pairs.append(("rft.date", date))
    for field, key in (
        ("publisher", "rft.pub"),
        ("place", "rft.place"),
        ("series", "rft.series"),
        ("volume", "rft.volume"),
        ("issue", "rft.issue"),
        ("pages", "rft.pages"),
        ("edition", "rft.edition"),
        ("language", "rft.language"),
    ):
        if kind == "thesis" and field == "publisher":
            continue
        if value := _value(piece, field):
            pairs.append((key, value))
    if doi := _value(piece, "doi"):
        pairs.append(("rft_id", f"info:doi/{doi}"))
    if page_url:
        pairs.append(("rft_id", page_url))
    return urlencode(pairs)


# --- schema.org JSON-LD ---------------------------------------------------------------------


def _agent(person: Person, affiliation: str = "") -> dict[str, str | dict[str, str]]:
    if person.is_organisation:
        return {"@type": "Organization", "name": person.name}
    agent: dict[str, str | dict[str, str]] = {"@type": "Person", "name": person.name}
    if person.given:
        agent["givenName"] = person.given
    if person.family:
        agent["familyName"] = person.family
    if affiliation:
        agent["affiliation"] = {"@type": "Organization", "name": affiliation}
    return agent


def json_ld(request: HttpRequest, piece: Piece) -> dict:
    """The piece as a schema.org ``Report``, ``ScholarlyArticle``, ``Book``… object."""
    kind = SCHEMA_TYPES.get(piece.type, "CreativeWork")
    page = request.build_absolute_uri(piece.get_absolute_url())
    data: dict = {
        "@context": "https://schema.org",
        "@type": kind,
        "@id": page,
        "url": page,
        "name": piece.full_title,
        "headline": piece.full_title[:110],
        "inLanguage": piece.language or "en",
        "identifier": piece.citation_key,
    }
    authors = piece.authors
    if authors:
        data["author"] = [_agent(_person(a), a.affiliation) for a in authors]
    if piece.editors:
        data["editor"] = [_agent(_person(a)) for a in piece.editors]
    if date := iso_date(piece):
        data["datePublished"] = date
    if piece.publisher:
        data["publisher"] = {"@type": "Organization", "name": piece.publisher}
    if piece.synopsis:
        data["abstract"] = piece.synopsis
    if piece.series:
        data["isPartOf"] = {"@type": "CreativeWorkSeries", "name": piece.series}
    if piece.number and kind == "Report":
        data["reportNumber"] = piece.number
    if piece.container_title:
        data["isPartOf"] = _container(piece)
    if piece.pages:
        first, last = _page_range(piece.pages)
        data["pagination"] = piece.pages
        if last:
            data["pageStart"], data["pageEnd"] = first, last
    if piece.edition and kind == "Book":
        data["bookEdition"] = piece.edition
    if piece.doi:
        data["identifier"] = [
            piece.citation_key,
            {"@type": "PropertyValue", "propertyID": "DOI", "value": piece.doi},
        ]
        data["sameAs"] = f"https://doi.org/{piece.doi}"
    if words := keywords_of(piece):
        data["keywords"] = words
    topics = [
        {"@type": "Thing", "name": t.name, "url": request.build_absolute_uri(t.get_absolute_url())}
        for t in piece.topics.all()
    ]
    if topics:
        data["about"] = topics
    places = [{"@type": "Place", "name": r.name} for r in piece.regions.all()]
    if places:
        data["spatialCoverage"] = places
    if pdf := attachment_url(request, piece):
        data["encoding"] = {
            "@type": "MediaObject",
            "contentUrl": pdf,
            "encodingFormat": "application/pdf",
        }
    return data


def _container(piece: Piece) -> dict:
    """The journal (with volume and issue) or the book a piece appears in."""
    if piece.type != "article":
        return {"@type": "Book", "name": piece.container_title}
    container: dict = {"@type": "Periodical", "name": piece.container_title}
    if piece.volume:
        container = {
            "@type": "PublicationVolume",
            "volumeNumber": piece.volume,
            "isPartOf": container,
        }
    if piece.issue:
        container = {
            "@type": "PublicationIssue",
            "issueNumber": piece.issue,
            "isPartOf": container,
        }
    return container


_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld_text(data: dict) -> str:
    """JSON safe inside ``<script>``: ``</script>`` in a title cannot end the element."""
    return json.dumps(data, ensure_ascii=False, indent=1).translate(_SCRIPT_ESCAPES)
