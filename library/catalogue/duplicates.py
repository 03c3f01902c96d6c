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
#: How alike titles must be for a shared DOI or URL to mean the same work: a catalogue
#: may lack the subtitle a file has, but a chapter and the book that holds it, which
#: share a DOI, have different titles.
IDENTIFIER_TITLE_THRESHOLD = 80.0
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_doi(doi: str) -> str:
    return _DOI_PREFIX.sub("", doi.strip()).lower()


def normalise_url(url: str) -> str:
    """``https://www.Example.org/a/`` and ``http://example.org/a`` are the same page.

    The fragment is part of the address: ``report.pdf#page=12`` and ``#page=40`` are
    often two chapters of one file.
    """
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url if "//" in url else "//" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{host}{path}{query}{fragment}"


_LEADING_ARTICLE = re.compile(r"^(?:the|a|an) ")


def normalise_title(title: str) -> str:
    """Lower-case ASCII words; a leading article is dropped (catalogues disagree on it)."""
    return _LEADING_ARTICLE.sub("", _NON_WORD.sub(" ", anyascii(title).lower()).strip())


_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_NUMBER_WORDS = dict(
    zip(
        "one two three four five six seven eight nine ten".split(),
        range(1, 11),
        strict=True,
    )
)
_PART_WORD = r"(?:part|parts|vol|vols|volume|volumes|book|chapter|band|teil|tome|tomo)"
# An upper-case Roman numeral anywhere ("Volume II", "(III)") unless the whole title is in
# capitals; a lower-case one or a number word only in brackets or after a word that
# announces a part ("(ii)", "part ii", "Part Two"), because "mix" and "di" are words too.
_NUMBER_TOKEN = re.compile(
    r"\((?P<paren>[ivxlcdm]+)\)"
    rf"|\b{_PART_WORD}\.?\s+(?P<after>[ivxlcdm]+|{'|'.join(_NUMBER_WORDS)})\b"
    r"|(?P<arabic>\d+)|\b(?P<roman>[IVXLCDM]+)\b",
    re.IGNORECASE,
)


def _roman(text: str) -> int | None:
    text = text.upper()
    if not text or not _ROMAN.match(text):
        return None
    total = 0
    for letter, following in zip(text, [*text[1:], ""], strict=True):
        value = _ROMAN_VALUES[letter]
        total += -value if following and _ROMAN_VALUES[following] > value else value
    return total


def part_numbers(title: str) -> tuple[int, ...]:
    """The numbers in a title, Roman numerals and "Part Two" read as numbers, sorted.

    Titles that differ in them are different works however alike the rest is ("Part 1"
    and "Part 2", "Volume I" and "Volume II"); "Vol. II" and "Volume 2" agree.
    """
    found: list[int] = []
    text = anyascii(title)
    capitals = text.upper() == text
    for match in _NUMBER_TOKEN.finditer(text):
        if match["arabic"]:
            found.append(int(match["arabic"]))
            continue
        if match["roman"]:
            word = match["roman"]
            # Only capitals are numerals here ("I" in "What I Saw" too, which is harmless:
            # both titles have it); "Mix" is not, nor "MIX" in a title all in capitals.
            value = _roman(word) if word.isupper() and not capitals else None
        else:
            word = (match["after"] or match["paren"]).lower()
            value = _NUMBER_WORDS.get(word) or _roman(word)
        if value is not None:
            found.append(value)
    return tuple(sorted(found))


def author_token(names: tuple[Name, ...]) -> str:
    if not names:
        return ""
    first = names[0]
    return organisation_token(first.family) if first.is_organisation else ascii_token(first.family)


def author_name(names: tuple[Name, ...]) -> str:
    """The first name in full, normalised: an organisation's token is only its initials
    (the Koninklijke Nederlandse Schaatsbond and Schaakbond are both ``kns``)."""
    return normalise_title(names[0].family) if names else ""


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
    source: str = ""  # for an entry planned earlier: the file it was read from
    short_title: str = ""  # the title without its subtitle, when there is one
    volume: str = ""
    issue: str = ""
    pages: str = ""
    type: str = ""
    author_name: str = ""

    @classmethod
    def from_record(
        cls, ref: object, record: CitationRecord, *, in_file: bool, source: str = ""
    ) -> Candidate:
        return cls(
            ref=ref,
            key=record.key,
            title=record.full_title,
            doi=record.doi,
            url=record.url,
            year=record.year,
            author=author_token(record.authors or record.editors),
            in_file=in_file,
            source=source,
            short_title=record.title,
            volume=record.volume,
            issue=record.issue,
            pages=record.pages,
            type=record.type,
            author_name=author_name(record.authors or record.editors),
        )


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    reason: str


@dataclass(frozen=True)
class _Title:
    """A title as the rules compare it: normalised, without subtitle, and its numbers."""

    full: str
    short: str
    numbers: tuple[int, ...]

    @classmethod
    def of(cls, full: str, short: str = "") -> _Title:
        return cls(normalise_title(full), normalise_title(short or full), part_numbers(full))

    def alike(self, other: _Title) -> tuple[float, str]:
        """How alike two titles are (0-100), either perhaps without its subtitle; and in words."""
        whole = _ratio(self.full, other.full)
        cut = max(_ratio(self.short, other.full), _ratio(self.full, other.short))
        if whole >= cut:
            return whole, f"title {_alike(whole)}"
        return cut, f"title {_alike(cut)} leaving out a subtitle"


#: Below this many characters a title must match exactly: "LAe-long" and "AE-long", or
#: "Calendar" and "Calendars", are 90 % alike and different works.
SHORT_TITLE = 20


def _ratio(mine: str, theirs: str) -> float:
    """rapidfuzz's ``ratio``, but exact for short titles."""
    if min(len(mine), len(theirs)) < SHORT_TITLE:
        return 100.0 if mine == theirs else 0.0
    return fuzz.ratio(mine, theirs)


_DASHES = re.compile(r"\s*[-\u2010-\u2015]+\s*")


def _locator(value: str) -> str:
    """``12--30``, ``12–30`` and ``12 - 30`` alike; case and spaces ignored."""
    return _DASHES.sub("-", value.strip().lower())


def _conflict(mine: Candidate, theirs: Candidate, *, identifier: str = "") -> bool:
    """Whether the two name different works whatever their titles say.

    Different DOIs, or different URLs (unless a DOI agrees: a publisher's page and the
    DOI resolver's), or different volume, issue or pages when both give one: the
    "Calendar" of two issues of one journal in one year are two pieces. A chapter is not
    the book that holds it, one volume of a book is not the whole work, and two first
    authors are two works.
    """
    if {mine.type, theirs.type} == {"chapter", "book"}:
        return True
    if mine.author and theirs.author and mine.author != theirs.author:
        return True  # a reply posted under the post it answers has its URL
    if mine.author_name and theirs.author_name and mine.author_name != theirs.author_name:
        return True
    if "book" in (mine.type, theirs.type) and bool(mine.volume) != bool(theirs.volume):
        return True
    doi, url = normalise_doi(mine.doi), normalise_url(mine.url)
    their_doi, their_url = normalise_doi(theirs.doi), normalise_url(theirs.url)
    if doi and their_doi and doi != their_doi:
        return True
    if identifier != "doi" and url and their_url and url != their_url:
        return True
    return any(
        a and b and _locator(a) != _locator(b)
        for a, b in (
            (mine.volume, theirs.volume),
            (mine.issue, theirs.issue),
            (mine.pages, theirs.pages),
        )
    )


def _years(mine: int | None, theirs: int | None) -> str | None:
    """How two years agree, for the reason; ``None`` when they rule the match out."""
    if mine is None or theirs is None:
        return "year missing in one" if mine != theirs else "no year in either"
    return "same year" if mine == theirs else None


class DuplicateIndex:
    """Lookup tables over candidates; :meth:`match` says which one a record duplicates.

    A shared DOI or URL is strong evidence, but only with a title alike and a year that
    agrees: a chapter and its book share a DOI. Titles with different numbers (parts,
    volumes) are never the same work, whatever else agrees.
    """

    def __init__(self) -> None:
        self.by_doi: dict[str, list[Candidate]] = {}
        self.by_url: dict[str, list[Candidate]] = {}
        self.by_key: dict[str, Candidate] = {}
        self.buckets: dict[tuple[str, int | None], list[tuple[str, Candidate]]] = {}
        self.titles: dict[int, _Title] = {}

    def add(self, candidate: Candidate) -> None:
        self.titles[id(candidate)] = _Title.of(candidate.title, candidate.short_title)
        if doi := normalise_doi(candidate.doi):
            self.by_doi.setdefault(doi, []).append(candidate)
        if url := normalise_url(candidate.url):
            self.by_url.setdefault(url, []).append(candidate)
        if candidate.key:
            self.by_key.setdefault(candidate.key.lower(), candidate)
        bucket = self.buckets.setdefault((candidate.author, candidate.year), [])
        bucket.append((self.titles[id(candidate)].full, candidate))

    def match(self, record: CitationRecord) -> Match | None:
        """The first rule that finds a candidate wins; ``None`` when the record is new."""
        mine = Candidate.from_record(None, record, in_file=True)
        title = _Title.of(record.full_title, record.title)
        if doi := normalise_doi(record.doi):
            found = self._by_identifier(self.by_doi.get(doi, ()), mine, title, "doi")
            if found:
                return Match(found[0], f"same DOI {record.doi}, {found[1]}")
        if url := normalise_url(record.url):
            found = self._by_identifier(self.by_url.get(url, ()), mine, title, "url")
            if found:
                return Match(found[0], f"same URL {record.url}, {found[1]}")
        same_key = self.by_key.get(record.key.lower()) if record.key else None
        if same_key is not None and not _conflict(mine, same_key):
            theirs = self.titles[id(same_key)]
            score, alike = title.alike(theirs)
            years = _years(record.year, same_key.year)
            if score >= KEY_TITLE_THRESHOLD and theirs.numbers == title.numbers and years:
                return Match(same_key, f"same citation key ({record.key}) and {alike}, {years}")
        # A title alone is no evidence: "epistulae" by Aeschines and by Ambrose, both
        # catalogued without author or year, are two works.
        bucket = self.buckets.get((mine.author, record.year))
        if bucket and (mine.author or record.year is not None):
            for other, score, index in process.extract(
                title.full,
                [t for t, _ in bucket],
                scorer=fuzz.ratio,
                score_cutoff=TITLE_THRESHOLD,
                limit=None,
            ):
                if _ratio(title.full, other) < TITLE_THRESHOLD:
                    continue  # a short title, alike but not the same
                candidate = bucket[index][1]
                if self.titles[id(candidate)].numbers == title.numbers and not _conflict(
                    mine, candidate
                ):
                    year = record.year if record.year is not None else "none"
                    return Match(
                        candidate,
                        f"similar title ({_alike(score)}), same first author "
                        f"({mine.author or 'none'}) and year ({year})",
                    )
        return None

    def _by_identifier(
        self, candidates: Sequence[Candidate], mine: Candidate, title: _Title, identifier: str
    ) -> tuple[Candidate, str] | None:
        """The candidate sharing a DOI or URL whose title and year agree, and how."""
        best: tuple[float, Candidate, str] | None = None
        for candidate in candidates:
            theirs = self.titles[id(candidate)]
            years = _years(mine.year, candidate.year)
            if years is None or theirs.numbers != title.numbers:
                continue
            if _conflict(mine, candidate, identifier=identifier):
                continue
            score, alike = title.alike(theirs)
            if score >= IDENTIFIER_TITLE_THRESHOLD and (best is None or score > best[0]):
                best = (score, candidate, f"{alike}, {years}")
        return (best[1], best[2]) if best else None


def _alike(score: float) -> str:
    return "identical" if score >= 100 else f"{score:.0f}% alike"


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
    numbers = part_numbers(title)
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
        if part_numbers(piece.title) != numbers:  # "Part 1" and "Part 2" are different works
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
