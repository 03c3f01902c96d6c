"""Is this already catalogued? The one duplicate detector for every way a piece comes in.

Every matching rule lives in this module. Each door checks the rules it has the facts for,
strongest first, and reports the first that matches:

- pasted text and the demo loader (:func:`find_same_work`, :func:`find_existing_piece`): the
  same source text (``source_hash``); the same title, ignoring case, and the first author's
  family name.
- commentary files (:func:`find_duplicate`): the same PDF (``attachment_sha256``,
  :func:`find_same_file`); then the two rules above; then a similar title (at least
  :data:`TITLE_THRESHOLD` alike, the same numbers in it) with the same first author's
  family name and the same year.
- citation import (:class:`DuplicateIndex`): the same DOI; the same URL (normalised); the same
  citation key with a title at least :data:`KEY_TITLE_THRESHOLD` alike; a similar title (at
  least :data:`TITLE_THRESHOLD`) with the same first author token and the same year.

A single draft (pasted text, one file) is checked with a few queries by
:func:`find_same_work` and :func:`find_duplicate`. A citation import checks thousands of
entries, so :class:`DuplicateIndex` holds a few columns of every piece in memory: an entry
costs dictionary lookups and a fuzzy comparison within one author-and-year bucket, not
queries. Titles are compared by :func:`normalise_title` and rapidfuzz's ``ratio`` in both.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from anyascii import anyascii
from django.db.models.functions import Lower
from rapidfuzz import fuzz, process

from library.catalogue.models import Piece, Role
from library.citations.keys import ascii_token, organisation_token
from library.citations.records import CitationRecord, Name

if TYPE_CHECKING:
    from library.catalogue.authors import AuthorSpec

TITLE_THRESHOLD = 92.0
KEY_TITLE_THRESHOLD = 80.0
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_doi(doi: str) -> str:
    return _DOI_PREFIX.sub("", doi.strip()).lower()


def normalise_url(url: str) -> str:
    """``https://www.Example.org/a/`` and ``http://example.org/a`` are the same page."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url if "//" in url else "//" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}"


_LEADING_ARTICLE = re.compile(r"^(?:the|a|an) ")


def normalise_title(title: str) -> str:
    """Lower-case ASCII words; a leading article is dropped (catalogues disagree on it)."""
    return _LEADING_ARTICLE.sub("", _NON_WORD.sub(" ", anyascii(title).lower()).strip())


def author_token(names: tuple[Name, ...]) -> str:
    if not names:
        return ""
    first = names[0]
    return organisation_token(first.family) if first.is_organisation else ascii_token(first.family)


@dataclass(frozen=True)
class Candidate:
    """What the index knows of one piece, or of one entry planned earlier in the file."""

    ref: object  # a Piece pk, or the planned entry itself
    key: str
    title: str
    doi: str
    url: str
    year: int | None
    author: str
    in_file: bool = False

    @classmethod
    def from_record(cls, ref: object, record: CitationRecord, *, in_file: bool) -> Candidate:
        return cls(
            ref=ref,
            key=record.key,
            title=record.full_title,
            doi=record.doi,
            url=record.url,
            year=record.year,
            author=author_token(record.authors or record.editors),
            in_file=in_file,
        )


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    reason: str


class DuplicateIndex:
    """Lookup tables over candidates; :meth:`match` says which one a record duplicates."""

    def __init__(self) -> None:
        self.by_doi: dict[str, Candidate] = {}
        self.by_url: dict[str, Candidate] = {}
        self.by_key: dict[str, Candidate] = {}
        self.buckets: dict[tuple[str, int | None], list[tuple[str, Candidate]]] = {}

    def add(self, candidate: Candidate) -> None:
        if doi := normalise_doi(candidate.doi):
            self.by_doi.setdefault(doi, candidate)
        if url := normalise_url(candidate.url):
            self.by_url.setdefault(url, candidate)
        if candidate.key:
            self.by_key.setdefault(candidate.key.lower(), candidate)
        bucket = self.buckets.setdefault((candidate.author, candidate.year), [])
        bucket.append((normalise_title(candidate.title), candidate))

    def match(self, record: CitationRecord) -> Match | None:
        """The first test that finds a candidate wins; ``None`` when the record is new."""
        title = normalise_title(record.full_title)
        if (doi := normalise_doi(record.doi)) and doi in self.by_doi:
            return Match(self.by_doi[doi], f"same DOI ({record.doi})")
        if (url := normalise_url(record.url)) and url in self.by_url:
            return Match(self.by_url[url], f"same URL ({record.url})")
        same_key = self.by_key.get(record.key.lower()) if record.key else None
        if same_key is not None:
            theirs = normalise_title(same_key.title)
            # A catalogue entry may lack the subtitle the file has (or the other way round).
            score = max(
                fuzz.ratio(title, theirs), fuzz.ratio(normalise_title(record.title), theirs)
            )
            if score >= KEY_TITLE_THRESHOLD:
                return Match(same_key, f"same citation key ({record.key}) and title")
        bucket = self.buckets.get((author_token(record.authors or record.editors), record.year))
        if bucket:
            best = process.extractOne(
                title,
                [t for t, _ in bucket],
                scorer=fuzz.ratio,
                score_cutoff=TITLE_THRESHOLD,
            )
            if best is not None:
                _, score, index = best
                return Match(
                    bucket[index][1],
                    f"similar title ({score:.0f}% alike), same first author and year",
                )
        return None


# --- one draft at a time: pasted text, the demo loader, commentary files ----------------------


@dataclass(frozen=True)
class Duplicate:
    """The catalogued piece a draft duplicates, and the reason shown to the editor."""

    piece: Piece
    reason: str


def find_same_work(
    *, source_hash: str = "", title: str = "", authors: Sequence[AuthorSpec] = ()
) -> Duplicate | None:
    """The piece that is the same work: same source text, or same title and first author."""
    return _same_text(source_hash) or _same_title(title, authors)


def find_existing_piece(
    *, source_hash: str = "", title: str = "", authors: Sequence[AuthorSpec] = ()
) -> Piece | None:
    """:func:`find_same_work`'s piece, for callers that need no reason (the demo loader)."""
    found = find_same_work(source_hash=source_hash, title=title, authors=authors)
    return found.piece if found else None


def find_duplicate(
    *,
    sha256: str = "",
    source_hash: str = "",
    title: str = "",
    authors: Sequence[AuthorSpec] = (),
    date: datetime.date | None = None,
) -> Duplicate | None:
    """The piece a commentary file already is, and why; ``sha256`` only for a PDF."""
    return (
        find_same_file(sha256)
        or _same_text(source_hash)
        or _same_title(title, authors)
        or _similar_title(title, authors, date)
    )


def find_same_file(sha256: str) -> Duplicate | None:
    """The piece whose attachment is this very PDF (the upload page asks again on saving)."""
    if not sha256:
        return None
    piece = Piece.objects.filter(attachment_sha256=sha256).order_by("pk").first()
    return Duplicate(piece, "the same file was ingested before") if piece else None


def _same_text(source_hash: str) -> Duplicate | None:
    if not source_hash:
        return None
    piece = Piece.objects.filter(source_hash=source_hash).order_by("pk").first()
    return Duplicate(piece, "the same text was ingested before") if piece else None


def _same_title(title: str, authors: Sequence[AuthorSpec]) -> Duplicate | None:
    if not title:
        return None
    candidates = Piece.objects.annotate(t=Lower("title")).filter(t=title.strip().lower())
    if authors:
        candidates = candidates.filter(
            authorships__role=Role.AUTHOR,
            authorships__position=0,
            authorships__author__family__iexact=authors[0].family,
        )
    piece = candidates.order_by("pk").first()
    return (
        Duplicate(piece, "a piece with the same title and first author exists") if piece else None
    )


def _similar_title(
    title: str, authors: Sequence[AuthorSpec], date: datetime.date | None
) -> Duplicate | None:
    if not authors or not title:
        return None
    wanted = normalise_title(title)
    numbers = _numbers(wanted)
    candidates = Piece.objects.filter(
        authorships__role=Role.AUTHOR,
        authorships__position=0,
        authorships__author__family__iexact=authors[0].family,
    ).only("pk", "title", "date", "citation_key")
    best: tuple[float, Piece | None] = (0.0, None)
    for piece in candidates:
        if date and piece.date and piece.date.year != date.year:
            continue
        other = normalise_title(piece.title)
        if _numbers(other) != numbers:  # "Part 1" and "Part 2" are different works
            continue
        score = fuzz.ratio(wanted, other)
        if score >= TITLE_THRESHOLD and score > best[0]:
            best = (score, piece)
    score, found = best
    if found is None:
        return None
    return Duplicate(
        found, f"a piece with a similar title ({score:.0f}% alike) and first author exists"
    )


def _numbers(title: str) -> list[str]:
    return re.findall(r"\d+", title)
