"""What every citation reader returns, and the helpers the three readers share.

A reader turns the text of one file into a :class:`ReadResult`: the entries it understood
(each a :class:`~library.citations.records.CitationRecord` with its line and original key),
the entries it could not use (:class:`Rejection`, with line and reason), warnings, and
``found``: the number of entries counted in the text *independently of the parser* (a
regex over ``@type{`` for BibTeX, ``TY`` lines for RIS). The importer checks that
``found`` equals what it created, skipped as duplicates and rejected, so an entry a parser
drops without a word becomes an error instead of a silent loss.

Pure Python: no Django here.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import langcodes
import lxml.html
from langcodes.tag_parser import LanguageTagError

from library.citations.records import CitationRecord, Name


class UnreadableFile(ValueError):
    """The file as a whole cannot be read in the format asked for (not just one entry)."""


@dataclass(frozen=True)
class ImportedEntry:
    """One entry a reader understood: the record, where it was, and what it was called."""

    record: CitationRecord
    line: int | None
    source_key: str
    original_type: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    """An entry that was found but cannot be imported, and why."""

    line: int | None
    key: str
    reason: str

    def as_json(self) -> dict:
        return {"key": self.key, "line": self.line, "reason": self.reason}


@dataclass
class ReadResult:
    """A reader's answer for one file."""

    format: str
    found: int
    entries: list[ImportedEntry] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_WHITESPACE = re.compile(r"\s+")


def tidy(text: str) -> str:
    """NFC, whitespace collapsed: what every stored string field gets."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


_SUBTITLE_JOINERS = (": ",)


def split_title(full: str) -> tuple[str, str]:
    """``Mosul Operation: The Endgame`` -> title and subtitle, split at the first ``: ``."""
    title, sep, subtitle = full.partition(": ")
    if sep and title.strip() and subtitle.strip():
        return title.strip(), subtitle.strip()
    return full.strip(), ""


# "al-" and "d'" written onto the family name: the catalogue stores them as a particle.
_ATTACHED_PARTICLE = re.compile(r"^([a-z]{1,3}[-'’])(\S.*)$")


def person(family: str, given: str = "", particle: str = "", suffix: str = "") -> Name:
    """A person's :class:`Name`, with an attached particle (``al-Raḥmān``) split off."""
    family, given, particle, suffix = (tidy(p) for p in (family, given, particle, suffix))
    if not particle:
        match = _ATTACHED_PARTICLE.match(family)
        if match:
            particle, family = match.group(1), match.group(2)
    return Name(family=family, given=given, particle=particle, suffix=suffix)


def organisation(name: str) -> Name:
    return Name(family=tidy(name), is_organisation=True)


def check_date(year: int | None, month: int | None, day: int | None) -> list[str]:
    """Problems with a date's parts, as messages (an empty list when it is fine)."""
    problems = []
    if year is not None and not 1 <= year <= 9999:
        problems.append(f"year {year} is out of range")
    if month is not None and not 1 <= month <= 12:
        problems.append(f"month {month} is not between 1 and 12")
    if day is not None and not 1 <= day <= 31:
        problems.append(f"day {day} is not between 1 and 31")
    return problems


_ACCESS_DATE = re.compile(r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T/].*)?$")


def access_date(value: str, field: str, warnings: list[str]) -> str:
    """``2016-10-28``, ``2016/10/28/`` or ``2016-10-28T09:00`` -> ``2016-10-28``.

    The catalogue keeps a whole day; anything else is not kept, with a warning naming it.
    """
    text = (value or "").strip()
    if not text:
        return ""
    match = _ACCESS_DATE.match(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        try:
            return datetime.date(year, month, day).isoformat()
        except ValueError:
            pass
    warnings.append(f"{field} {text!r} is not a whole date (YYYY-MM-DD); not kept")
    return ""


def warn_unkept(
    present: Iterable[str], kept: Collection[str], warnings: list[str], *, noun: str = "fields"
) -> None:
    """Add a warning naming what the entry had and the catalogue has no place for.

    Nothing is dropped silently: an importer that cannot store a field says so.
    """
    names = sorted({name for name in present if name.lower() not in kept})
    if names:
        warnings.append(
            f"{noun} not kept (the catalogue has no place for them): {', '.join(names)}"
        )


_LINE_BREAK = re.compile(r"[ \t]*\n\s*")
_URL_START = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")
_URL_SEPARATORS = re.compile(r"\s*;\s*|\s+(?=(?:[A-Za-z][A-Za-z0-9+.-]*:)?//)|\s+and\s+")


def clean_url(value: str, field: str, warnings: list[str]) -> tuple[str, tuple[str, ...]]:
    """The URL a field gives, and any further URLs it gives, for the note.

    bibliographies wrap long URLs over lines (``http://host/path/⏎   more``): whitespace
    inside one URL is a line break, not part of it. Two URLs in one field (``a; b`` or
    ``a⏎ b``, as Beebe's files write them) are both kept: the first in the field, the
    rest in the note, with a warning.
    """
    text = (value or "").strip()
    if not text:
        return "", ()
    parts = [p for p in _URL_SEPARATORS.split(text) if p and p.strip()]
    if len(parts) > 1 and sum(bool(_URL_START.match(p)) for p in parts) > 1:
        urls = [_LINE_BREAK.sub("", p) for p in parts]
        warnings.append(
            f"{field}: {len(urls)} URLs given; the first is kept as the URL, the others in the note"
        )
        return urls[0], tuple(urls[1:])
    return _LINE_BREAK.sub("", text), ()


def join_note(note: str, *extra: str) -> str:
    """The note with more text appended (``; `` between), for what has no field of its own."""
    return "; ".join(part for part in (note.strip(), *extra) if part)


def also_at(urls: Iterable[str]) -> str:
    """``Also at: url2, url3``: the further URLs a field gave, kept in the note."""
    urls = list(urls)
    return f"Also at: {', '.join(urls)}" if urls else ""


def fit_date(
    year: int | None, month: int | None, day: int | None, warnings: list[str], *, given: str = ""
) -> tuple[int | None, int | None, int | None]:
    """Keep every part of a date that is good: an odd month costs the month, not the year.

    ``given`` is the date as written, named in the warning.
    """
    problems = check_date(year, month, day)
    if not problems and year is not None and month is not None and day is not None:
        try:
            datetime.date(year, month, day)
        except ValueError:
            problems = [f"day {day} is not a day of {year}-{month:02d}"]
    if not problems:
        if year is None:
            return None, None, None
        return year, month, day if month is not None else None
    what = f" ({given})" if given else ""
    if year is not None and not 1 <= year <= 9999:
        warnings.append(f"date{what} ignored: " + "; ".join(problems))
        return None, None, None
    if month is not None and not 1 <= month <= 12:
        warnings.append(f"date{what}: {problems[0]}; the year alone is kept")
        return year, None, None
    warnings.append(f"date{what}: {problems[-1]}; the year and month are kept")
    return year, month, None


_HTML = re.compile(r"<\s*(p|div|br|span|b|i|em|strong|a|ul|ol|li|h[1-6])\b[^>]*>", re.IGNORECASE)


def html_to_text(value: str) -> str:
    """A note as Zotero writes it (``<div …><p>Text</p></div>``) -> its text.

    Notes that are not HTML pass through. Paragraph and line breaks become spaces, as
    every stored string is one line.
    """
    if not _HTML.search(value):
        return value
    fragment = lxml.html.fragment_fromstring(value, create_parent="div")
    for element in fragment.iter("p", "br", "div", "li"):
        element.tail = " " + (element.tail or "")
    return tidy(fragment.text_content())


# Language names as babel and polyglossia write them, where they are not English names.
_BABEL = {
    "american": "en-US",
    "british": "en-GB",
    "UKenglish": "en-GB",
    "USenglish": "en-US",
    "canadian": "en-CA",
    "australian": "en-AU",
    "newzealand": "en-NZ",
    "ngerman": "de",
    "naustrian": "de-AT",
    "austrian": "de-AT",
    "swissgerman": "de-CH",
    "nswissgerman": "de-CH",
    "francais": "fr",
    "french": "fr",
    "acadian": "fr-CA",
    "canadien": "fr-CA",
    "brazil": "pt-BR",
    "brazilian": "pt-BR",
    "portuges": "pt",
    "portuguese": "pt",
    "spanish": "es",
    "mexican": "es-MX",
    "polutonikogreek": "el",
    "greek": "el",
    "norsk": "nb",
    "nynorsk": "nn",
    "magyar": "hu",
    "farsi": "fa",
    "slovene": "sl",
    "bahasa": "id",
    "bahasai": "id",
    "bahasam": "ms",
    "malay": "ms",
    "chinese": "zh",
    "latin": "la",
}
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def _language_named(name: str) -> str:
    """The code of the language with this English name or autonym, exactly; else ``""``.

    langcodes also matches a name shortened or lengthened ("Klingonish" -> Klingon): a
    guess, which is not kept.
    """
    try:
        found = langcodes.find(name)
    except LookupError:
        return ""
    wanted = name.casefold()
    names = {found.display_name("en").casefold(), found.autonym().casefold()}
    return found.to_tag() if wanted in names else ""


def language_code(value: str, field: str, warnings: list[str]) -> tuple[str, str]:
    """A language as written -> (BCP 47 code, text for the note); both empty when absent.

    Nothing is invented: no language stays no language. A code is kept, in its standard
    form when langcodes knows it (``pt-br`` -> ``pt-BR``, ``eng`` -> ``en``, ``iw`` ->
    ``he``) and as given when not; a name becomes its code through babel's names or
    langcodes, which knows names in English and in the language itself (``Portuguese``,
    ``Deutsch``, ``français``); anything else is kept in the note, with a warning.
    """
    text = tidy(value)
    if not text:
        return "", ""
    if _LANGUAGE_TAG.fullmatch(text) and len(text) <= 20 and len(text.split("-")[0]) <= 3:
        try:
            tag = langcodes.standardize_tag(text)
        except LanguageTagError:
            return text, ""
        return (tag if langcodes.tag_is_valid(tag) else text), ""
    code = _BABEL.get(text) or _BABEL.get(text.lower()) or _language_named(text)
    if code:
        return code, ""
    warnings.append(f"{field} {text!r} is not a language name or code; kept in the note")
    return "", f"{field}: {text}"
