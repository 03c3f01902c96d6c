"""Is this imported reference already in the catalogue, or earlier in the same file?

Four tests, strongest first: the same DOI; the same URL (normalised: scheme, ``www.``,
trailing slash and fragment ignored); the same citation key with a matching title; or a
fuzzy match of the title (rapidfuzz ratio on normalised text, at least
:data:`TITLE_THRESHOLD`) with the same first author's family name and the same year.

The index is built in memory once per import (a few columns of every piece), so a
10,000-entry file costs dictionary lookups and a fuzzy comparison within one
author-and-year bucket per entry, not 10,000 queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from anyascii import anyascii
from rapidfuzz import fuzz, process

from library.citations.keys import ascii_token, organisation_token
from library.citations.records import CitationRecord, Name

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
