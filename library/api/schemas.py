"""The API's JSON shapes, and the functions that fill them from catalogue rows.

Building the outputs by hand (rather than from ``ModelSchema``) keeps the API's field names
stable when a model field is renamed, and keeps internal fields (source hashes, file names)
out of it by construction.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import StringConstraints, field_validator

from library.catalogue.models import (
    CITATION_KEY_PATTERN,
    Author,
    Piece,
    PieceType,
    Region,
    Topic,
)
from library.catalogue.services import format_partial_date
from library.readinglists.models import ReadingList

#: Path parameters, constrained so that a URL the API documents always reaches the API.
#: The example is a singular ``example``: ninja copies a list of ``examples`` to the
#: parameter itself, where OpenAPI wants a map, and the document would not validate.
CitationKey = Annotated[
    str,
    StringConstraints(pattern=CITATION_KEY_PATTERN),
    Field(json_schema_extra={"example": "basit2016mosul"}),
]
StyleId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$", max_length=200),
    Field(
        description=(
            "Any bundled CSL style with a bibliography, by id (search them at "
            "/api/styles/); the four shown first on the site are chicago-author-date, apa, "
            "harvard-cite-them-right and modern-language-association."
        ),
        json_schema_extra={"example": "chicago-author-date"},
    ),
]


class StyleOut(Schema):
    """A bundled CSL style usable wherever the API takes ``style``."""

    id: str
    title: str
    dependent: bool = Field(description="Formats exactly as another (independent) style.")
    formats_as: str | None = Field(
        None, description="For a dependent style, the id of the style that formats it."
    )


class StylePage(Schema):
    count: int = Field(description="How many styles match in all.")
    results: list[StyleOut]


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[-a-zA-Z0-9_]{1,200}$"),
    Field(json_schema_extra={"example": "terrorism"}),
]
PieceTypeName = Literal[tuple(PieceType.values)]  # type: ignore[valid-type]


class Error(Schema):
    """Every error: ``detail`` is a message, or a list of field errors for a 422."""

    detail: str | list[dict[str, Any]] | dict[str, Any]


class TermRef(Schema):
    slug: str
    name: str


class AuthorRef(Schema):
    slug: str
    name: str
    kind: Literal["person", "organisation"]


class PieceSummary(Schema):
    """A piece as a list shows it: enough to cite and to find the rest."""

    key: str = Field(description="The citation key, stable and unique; the piece's id.")
    type: PieceTypeName
    title: str
    subtitle: str
    date: str | None = Field(description="At its own precision: 2016, 2016-10 or 2016-10-28.")
    authors: list[AuthorRef]
    editors: list[AuthorRef]
    topics: list[TermRef]
    regions: list[TermRef]
    synopsis: str
    html_url: str
    api_url: str


class PieceDetail(PieceSummary):
    """Everything a citation needs, and the body text."""

    publisher: str
    place: str
    series: str
    number: str
    container_title: str
    volume: str
    issue: str
    pages: str
    edition: str
    url: str = Field(description="Where the work itself is published.")
    accessed: datetime.date | None
    doi: str
    language: str
    keywords: list[str]
    note: str
    body: str
    attachment_url: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PiecePage(Schema):
    """One page of pieces; ``next`` is the cursor of the following page, null at the end."""

    results: list[PieceSummary]
    next: str | None
    next_url: str | None


def _author_ref(author: Author) -> AuthorRef:
    return AuthorRef(slug=author.slug, name=author.display_name, kind=author.kind)


def _terms(rows) -> list[TermRef]:
    return [TermRef(slug=t.slug, name=t.name) for t in sorted(rows, key=lambda t: t.name)]


def _summary_fields(piece: Piece) -> dict[str, Any]:
    return {
        "key": piece.citation_key,
        "type": piece.type,
        "title": piece.title,
        "subtitle": piece.subtitle,
        "date": format_partial_date(piece.date, piece.date_precision) or None,
        "authors": [_author_ref(a) for a in piece.authors],
        "editors": [_author_ref(a) for a in piece.editors],
        "topics": _terms(piece.topics.all()),
        "regions": _terms(piece.regions.all()),
        "synopsis": piece.synopsis,
        "html_url": piece.get_absolute_url(),
        "api_url": reverse("api:piece_detail", args=[piece.citation_key]),
    }


def piece_summary(piece: Piece) -> PieceSummary:
    return PieceSummary(**_summary_fields(piece))


def piece_detail(piece: Piece) -> PieceDetail:
    names = ("publisher", "place", "series", "number", "container_title", "volume", "issue")
    names += ("pages", "edition", "url", "accessed", "doi", "language", "note", "body")
    return PieceDetail(
        **_summary_fields(piece),
        **{name: getattr(piece, name) for name in names},
        keywords=[str(k) for k in piece.keywords or []],
        attachment_url=reverse("catalogue:piece_attachment", args=[piece.citation_key])
        if piece.attachment
        else None,
        created_at=piece.created_at,
        updated_at=piece.updated_at,
    )


# --- writing pieces ---------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _no_control(value: Any) -> Any:
    """Refuse control characters (tab and line breaks aside) and lone surrogates as a 422.

    PostgreSQL refuses NUL in text and cannot encode a lone surrogate (a 500 at save time),
    and the BibTeX writer has no LaTeX for a control character, so a piece holding one would
    break every export that includes it. No real title or name contains them.
    """
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValueError("text may not contain control characters")
    if isinstance(value, list):
        for item in value:
            _no_control(item)
    return value


def _text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length)]


Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Keyword = Annotated[str, StringConstraints(max_length=200)]


class PieceIn(Schema):
    """A new piece, or all of a piece's fields for PUT.

    Names are written as in a byline or a .bib file (``Abdul Basit``, ``Basit, Abdul``,
    ``{International Crisis Group}``); topics and regions by slug, name or alias.
    """

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "title": "Jihadist Networks in Mindanao",
                    "date": "2017-06",
                    "authors": ["Rohan Gunaratna", "{International Crisis Group}"],
                    "topics": ["terrorism"],
                    "regions": ["philippines"],
                    "series": "RSIS Commentaries",
                }
            ]
        }
    }

    type: PieceTypeName = PieceType.COMMENTARY.value
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    subtitle: _text(500) = ""
    citation_key: str = Field(
        "", max_length=80, description="Generated when empty; never changed once set."
    )
    date: str = Field("", max_length=10, description="2016, 2016-10, 2016-10-28 or empty.")
    publisher: _text(300) = ""
    place: _text(200) = ""
    series: _text(300) = ""
    number: _text(50) = ""
    container_title: _text(500) = ""
    volume: _text(30) = ""
    issue: _text(30) = ""
    pages: _text(30) = ""
    edition: _text(30) = ""
    synopsis: str = ""
    body: str = ""
    url: _text(1000) = ""
    accessed: datetime.date | None = None
    doi: _text(200) = ""
    language: _text(20) = "en"
    keywords: list[Keyword] = Field(default_factory=list, max_length=100)
    note: str = ""
    authors: list[Name] = Field(default_factory=list, max_length=100)
    editors: list[Name] = Field(default_factory=list, max_length=100)
    topics: list[Label] = Field(default_factory=list, max_length=100)
    regions: list[Label] = Field(default_factory=list, max_length=100)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_control_characters(cls, value: Any) -> Any:
        return _no_control(value)


class PiecePatch(Schema):
    """Only the fields to change; the others keep their values."""

    type: PieceTypeName | None = None
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    subtitle: _text(500) | None = None
    date: str | None = Field(None, max_length=10)
    publisher: _text(300) | None = None
    place: _text(200) | None = None
    series: _text(300) | None = None
    number: _text(50) | None = None
    container_title: _text(500) | None = None
    volume: _text(30) | None = None
    issue: _text(30) | None = None
    pages: _text(30) | None = None
    edition: _text(30) | None = None
    synopsis: str | None = None
    body: str | None = None
    url: _text(1000) | None = None
    accessed: datetime.date | None = None
    doi: _text(200) | None = None
    language: _text(20) | None = None
    keywords: list[Keyword] | None = Field(None, max_length=100)
    note: str | None = None
    authors: list[Name] | None = Field(None, max_length=100)
    editors: list[Name] | None = Field(None, max_length=100)
    topics: list[Label] | None = Field(None, max_length=100)
    regions: list[Label] | None = Field(None, max_length=100)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_control_characters(cls, value: Any) -> Any:
        return _no_control(value)


# --- search -------------------------------------------------------------------------------


class SearchPiece(Schema):
    key: str
    type: PieceTypeName
    title: str
    subtitle: str
    date: str | None
    authors: list[str]
    synopsis: str
    html_url: str
    api_url: str


class SearchHit(Schema):
    piece: SearchPiece
    score: float
    snippet: str = Field(description="The matching passage as plain text.")
    snippet_html: str = Field(description="The same, HTML-escaped, matches in <mark>.")


class FacetCount(Schema):
    key: str = Field(description="What to add to the query, as name:key (topic:terrorism).")
    label: str
    count: int


class SearchOut(Schema):
    query: str
    total: int
    page: int
    pages: int
    page_size: int
    results: list[SearchHit]
    facets: dict[str, list[FacetCount]]
    hints: list[str]
    suggestion: str


# --- vocabulary and authors ---------------------------------------------------------------------


class AuthorOut(Schema):
    slug: str
    kind: Literal["person", "organisation"]
    name: str
    sort_name: str
    given: str
    particle: str
    family: str
    suffix: str
    affiliation: str
    piece_count: int
    html_url: str
    api_url: str
    pieces_url: str


class AuthorDetail(AuthorOut):
    bio: str


class AuthorPage(Schema):
    count: int
    page: int
    pages: int
    results: list[AuthorOut]


class TermOut(Schema):
    slug: str
    name: str
    aliases: list[str]
    parent: str | None
    piece_count: int
    html_url: str
    api_url: str
    pieces_url: str


class TermDetail(TermOut):
    description: str
    children: list[TermRef]


class RegionOut(TermOut):
    kind: Literal["region", "country", "place"]
    iso_code: str


class RegionDetail(RegionOut):
    description: str
    children: list[TermRef]


def author_out(author: Author, count: int, *, detail: bool = False) -> AuthorOut:
    fields = {
        "slug": author.slug,
        "kind": author.kind,
        "name": author.display_name,
        "sort_name": author.sort_name,
        "given": author.given,
        "particle": author.particle,
        "family": author.family,
        "suffix": author.suffix,
        "affiliation": author.affiliation,
        "piece_count": count,
        "html_url": author.get_absolute_url(),
        "api_url": reverse("api:author_detail", args=[author.slug]),
        "pieces_url": reverse("api:piece_list") + f"?author={author.slug}",
    }
    return AuthorDetail(**fields, bio=author.bio) if detail else AuthorOut(**fields)


def term_out(term: Topic | Region, count: int, *, detail: bool = False) -> TermOut:
    is_region = isinstance(term, Region)
    name = "region" if is_region else "topic"
    fields: dict[str, Any] = {
        "slug": term.slug,
        "name": term.name,
        "aliases": [str(a) for a in term.aliases or []],
        "parent": term.parent.slug if term.parent_id else None,
        "piece_count": count,
        "html_url": term.get_absolute_url(),
        "api_url": reverse(f"api:{name}_detail", args=[term.slug]),
        "pieces_url": reverse("api:piece_list") + f"?{name}={term.slug}",
    }
    if is_region:
        fields |= {"kind": term.kind, "iso_code": term.iso_code}
    if detail:
        fields |= {
            "description": term.description,
            "children": _terms(term.children.all()),
        }
        return RegionDetail(**fields) if is_region else TermDetail(**fields)
    return RegionOut(**fields) if is_region else TermOut(**fields)


# --- reading lists ------------------------------------------------------------------------------


class ListSummary(Schema):
    id: int
    title: str
    description: str
    owner: str
    visibility: Literal["private", "unlisted", "public"]
    entry_count: int
    updated_at: datetime.datetime
    html_url: str
    api_url: str


class ListPage(Schema):
    count: int
    page: int
    pages: int
    results: list[ListSummary]


class ListEntry(Schema):
    piece: str | None = Field(description="The piece's citation key; null once it is deleted.")
    title: str
    annotation: str
    pages: str
    required: bool
    removed: bool


class ListSection(Schema):
    title: str = Field(description="Empty for the entries before the first section.")
    entries: list[ListEntry]


class ListDetail(ListSummary):
    sections: list[ListSection]


def list_summary(reading_list: ReadingList, entry_count: int) -> dict[str, Any]:
    return {
        "id": reading_list.pk,
        "title": reading_list.title,
        "description": reading_list.description,
        "owner": reading_list.owner.get_username(),
        "visibility": reading_list.visibility,
        "entry_count": entry_count,
        "updated_at": reading_list.updated_at,
        "html_url": reading_list.get_absolute_url(),
        "api_url": reverse("api:list_detail", args=[reading_list.pk]),
    }
