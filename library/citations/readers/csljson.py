"""Read CSL-JSON (the citeproc input format Zotero and pandoc write) into citation records.

``found`` is the length of the top-level array; an item that is not an object, or has no
title, is a rejection named by its position. CSL has no line numbers, so rejections carry
the item's ``id`` and its position instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

from library.citations.readers.common import (
    ImportedEntry,
    ReadResult,
    Rejection,
    UnreadableFile,
    access_date,
    also_at,
    clean_url,
    fit_date,
    html_to_text,
    join_note,
    language_code,
    organisation,
    person,
    split_title,
    tidy,
    warn_unkept,
)
from library.citations.records import CitationRecord, Name

TYPE_MAP = {
    "article-journal": "article",
    "article": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "review": "article",
    "book": "book",
    "chapter": "chapter",
    "paper-conference": "chapter",
    "entry-encyclopedia": "chapter",
    "entry-dictionary": "chapter",
    "report": "report",
    "thesis": "thesis",
    "webpage": "web_article",
    "post-weblog": "web_article",
    "post": "web_article",
    "document": "other",
}
GENRES = {"commentary": "commentary", "policy brief": "policy_brief"}
MAGAZINE_GENRES = {**GENRES, "report": "report"}

#: The CSL variables the mapping below reads; any other an item carries is named in a warning.
KEPT_VARIABLES = frozenset(
    """id citation-key type title author editor issued container-title collection-title
    collection-number number genre publisher publisher-place volume issue page edition url
    accessed doi language abstract keyword note""".split()
)


def read_csljson(text: str) -> ReadResult:
    """Parse CSL-JSON text; ``UnreadableFile`` if it is not JSON or not a list of items."""
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            f"this is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        # json recurses per level: thousands of nested arrays are no citation data.
        raise UnreadableFile("this is not CSL-JSON: it is nested too deeply") from None
    if isinstance(data, dict):
        data = data.get("items", [data]) if "items" in data else [data]
    if not isinstance(data, list):
        raise UnreadableFile("this is not CSL-JSON: expected a list of items")
    result = ReadResult(format="csljson", found=len(data))
    for position, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            result.rejections.append(
                Rejection(None, f"item {position}", "not a CSL item (expected a JSON object)")
            )
            continue
        try:
            result.entries.append(item_to_imported(item, position))
        except (ValueError, TypeError) as exc:
            key = str(item.get("citation-key") or item.get("id") or f"item {position}")
            result.rejections.append(Rejection(None, key, f"item {position}: {exc}"))
    return result


def csl_name(value: Any) -> Name | None:
    if not isinstance(value, dict):
        raise ValueError(f"a name is not an object: {value!r}")
    if value.get("literal"):
        return organisation(str(value["literal"]))
    family = str(value.get("family", ""))
    if not family.strip():
        return None
    particle = value.get("non-dropping-particle") or value.get("dropping-particle") or ""
    return person(family, str(value.get("given", "")), str(particle), str(value.get("suffix", "")))


def _names(item: dict, variable: str) -> tuple[Name, ...]:
    values = item.get(variable) or []
    if not isinstance(values, list):
        raise ValueError(f"{variable} is not a list of names")
    return tuple(n for n in map(csl_name, values) if n)


def _date(value: Any) -> tuple[int | None, int | None, int | None]:
    if not isinstance(value, dict):
        return None, None, None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        numbers = [int(p) for p in parts[0][:3]]
        return tuple(numbers + [None] * (3 - len(numbers)))  # type: ignore[return-value]
    raw = str(value.get("raw") or value.get("literal") or "")
    match = re.match(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", raw)
    if match:
        return tuple(int(g) if g else None for g in match.groups())  # type: ignore[return-value]
    return None, None, None


def _accessed(value: Any, warnings: list[str]) -> str:
    """A CSL ``accessed`` date, kept only as a whole day."""
    if value is None:
        return ""
    year, month, day = _date(value)
    if year and month and day:
        return access_date(f"{year:04d}-{month:02d}-{day:02d}", "accessed", warnings)
    warnings.append(f"accessed {value!r} is not a whole date; not kept")
    return ""


def _text(item: dict, variable: str) -> str:
    value = item.get(variable)
    return tidy(str(value)) if value is not None else ""


# CSL's rich text: citeproc reads these tags in a string as formatting, and Zotero and pandoc
# write them (pandoc's "\\emph{Acta}" is "<i>Acta</i>"). Only a tag with its closing tag is
# formatting; "x < y" or a lone "<i>" stays text.
_FORMATTING = re.compile(r"<(i|b|sup|sub|sc)>(.*?)</\1>", re.DOTALL)
_SPAN = re.compile(r"<span(?:\s+(?:style|class)=\"[^\"<>]*\")+\s*>(.*?)</span>", re.DOTALL)


def _rich_text(item: dict, variable: str) -> str:
    """A title-like variable without CSL's formatting tags (``<i>``, ``<sup>``, ``<span
    class="nocase">``…), which would otherwise be kept as text."""
    text = _text(item, variable)
    while "</" in text:
        plain = _SPAN.sub(r"\1", _FORMATTING.sub(r"\2", text))
        if plain == text:
            break
        text = plain
    return tidy(text)


def item_to_imported(item: dict, position: int) -> ImportedEntry:
    """Map one CSL item to a record; ``ValueError`` says why it cannot be imported."""
    warnings: list[str] = []
    csl_type = _text(item, "type")
    kind = TYPE_MAP.get(csl_type)
    if kind is None:
        kind = "other"
        warnings.append(f"unknown CSL type {csl_type!r}; imported as 'other'")
    full_title = _rich_text(item, "title")
    if not full_title:
        raise ValueError("the item has no title")
    title, subtitle = split_title(full_title)
    genre = _text(item, "genre")
    if kind == "report" and genre.lower() in GENRES:
        kind = GENRES[genre.lower()]
    elif csl_type == "article-magazine" and genre.lower() in MAGAZINE_GENRES:
        # Our export's commentary in a venue with no publisher.
        kind, genre = MAGAZINE_GENRES[genre.lower()], ""
    year, month, day = _date(item.get("issued"))
    year, month, day = fit_date(year, month, day, warnings)
    keywords = item.get("keyword") or ""
    if isinstance(keywords, list):
        keywords = ", ".join(str(k) for k in keywords)
    key = _text(item, "citation-key") or _text(item, "id")
    url, more_urls = clean_url(str(item.get("URL") or ""), "URL", warnings)
    language, language_note = language_code(_text(item, "language"), "language", warnings)
    record = CitationRecord(
        key=key,
        type=kind,
        title=title,
        subtitle=subtitle,
        authors=_names(item, "author"),
        editors=_names(item, "editor"),
        year=year,
        month=month if year else None,
        day=day if year and month else None,
        publisher=_text(item, "publisher"),
        place=_text(item, "publisher-place"),
        series=_rich_text(item, "collection-title"),
        number=_text(item, "collection-number") or _text(item, "number"),
        container_title=_rich_text(item, "container-title"),
        volume=_text(item, "volume"),
        issue=_text(item, "issue"),
        pages=_text(item, "page"),
        edition=_text(item, "edition"),
        url=url,
        accessed=_accessed(item.get("accessed"), warnings),
        doi=_text(item, "DOI"),
        language=language,
        abstract=_text(item, "abstract"),
        keywords=tuple(k.strip() for k in str(keywords).split(",") if k.strip()),
        note=join_note(
            html_to_text(_text(item, "note"))
            or ("Master's thesis" if "master" in genre.lower() else ""),
            language_note,
            also_at(more_urls),
        ),
    )
    warn_unkept(item, KEPT_VARIABLES, warnings, noun="variables")
    return ImportedEntry(
        record=record,
        line=None,
        source_key=key,
        original_type=csl_type,
        warnings=tuple(warnings),
    )
