"""Read RIS files (EndNote, Zotero, Mendeley exports) into citation records.

rispy parses each record's tags. We split the file into records ourselves first, at every
``TY`` line, because rispy silently drops a record whose ``ER`` line is missing; doing
the split here gives each record its line number and turns a missing ``ER`` into a
warning instead of a lost reference. ``found`` is the number of ``TY`` lines.

A file with no ``TY`` line is not RIS, whatever its name: a Web of Science "tagged"
export (``FN``/``PT``/``ER``) saved as ``.ris`` is the common case, and it is rejected
with a message saying so rather than imported as zero entries.
"""

from __future__ import annotations

import re

import rispy

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

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])[ \t]{1,2}-(?:[ \t](.*)|[ \t]*)$")
_TY_LINE = re.compile(r"^TY[ \t]{1,2}-", re.MULTILINE)
_WOS = re.compile(r"^(FN|VR|PT) ", re.MULTILINE)

TYPE_MAP = {
    "JOUR": "article",
    "JFULL": "article",
    "MGZN": "article",
    "NEWS": "article",
    "EJOUR": "article",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "CONF": "chapter",
    "CPAPER": "chapter",
    "RPRT": "report",
    "THES": "thesis",
    "ELEC": "web_article",
    "BLOG": "web_article",
    "WEB": "web_article",
    "GEN": "other",
    "PAMP": "other",
}
GENRES = {"commentary": "commentary", "policy brief": "policy_brief"}

#: The rispy keys the mapping below reads; any other tag a record carries is named in a
#: warning (``unknown_tag`` holds tags rispy does not know, of which only ED is read).
KEPT_KEYS = frozenset(
    """type_of_reference id first_authors authors secondary_authors title primary_title
    type_of_work date year publication_year start_page end_page urls access_date number
    secondary_title journal_name alternate_title3 notes publisher place_published
    tertiary_title volume edition doi language abstract notes_abstract keywords
    unknown_tag tertiary_authors""".split()
)
# rispy key -> the tag it came from, so warnings name what the file says.
_TAG_OF = {key: tag for tag, key in rispy.TAG_KEY_MAPPING.items()}


def count_records(text: str) -> int:
    """Every ``TY`` line: the independent count the importer checks against."""
    return len(_TY_LINE.findall(text))


def _normalise(line: str) -> str:
    """``TY - JOUR`` or ``TY  -JOUR`` -> rispy's strict ``TY  - JOUR``."""
    match = _TAG_LINE.match(line)
    if not match:
        return line
    return f"{match.group(1)}  - {(match.group(2) or '').strip()}"


def _chunks(lines: list[str]) -> list[tuple[int, list[str], bool]]:
    """(first line number, lines, ended with ER) for each record, split at TY lines."""
    chunks: list[tuple[int, list[str], bool]] = []
    current: list[str] | None = None
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.startswith("TY  -"):
            if current is not None:
                chunks.append((start, current, False))
            current, start = [line], number
        elif current is not None:
            if line.startswith("ER  -"):
                chunks.append((start, [*current, line], True))
                current = None
            else:
                current.append(line)
    if current is not None:
        chunks.append((start, current, False))
    return chunks


def read_ris(text: str) -> ReadResult:
    """Parse RIS text (already decoded); ``UnreadableFile`` if it is not RIS at all."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [_normalise(line.rstrip()) for line in text.split("\n")]
    found = count_records("\n".join(lines))
    if found == 0:
        if _WOS.search(text):
            raise UnreadableFile(
                "this is not a RIS file: it looks like a Web of Science tagged export "
                "(FN/PT fields, no 'TY  - ' lines); export the records as RIS instead"
            )
        raise UnreadableFile("this is not a RIS file: it has no 'TY  - ' line")
    result = ReadResult(format="ris", found=found)
    for start, chunk, ended in _chunks(lines):
        warnings = [] if ended else ["no 'ER  - ' line; the record ends at the next 'TY' line"]
        body = "\n".join(chunk) + ("" if ended else "\nER  - ")
        try:
            parsed = rispy.loads(body)
        except Exception as exc:  # rispy raises bare exceptions on malformed input
            result.rejections.append(Rejection(start, "", f"not valid RIS: {exc}"))
            continue
        if len(parsed) != 1:
            result.rejections.append(Rejection(start, "", "not valid RIS: no record found"))
            continue
        try:
            result.entries.append(record_to_imported(parsed[0], start, warnings))
        except ValueError as exc:
            key = str(parsed[0].get("id", ""))
            result.rejections.append(Rejection(start, key, str(exc)))
    return result


def ris_name(text: str) -> Name | None:
    """``particle Family, Given, Suffix``; a multi-word name without a comma is an organisation."""
    text = tidy(text)
    if not text:
        return None
    if "," not in text:
        return organisation(text) if " " in text else person(text)
    family_part, _, rest = text.partition(",")
    given, _, suffix = rest.partition(",")
    words = family_part.split()
    particle_words = []
    while len(words) > 1 and words[0][:1].islower():
        particle_words.append(words.pop(0))
    return person(" ".join(words), given, " ".join(particle_words), suffix)


def _date(value: str) -> tuple[int | None, int | None, int | None]:
    match = re.match(r"^\s*(\d{4})(?:[/-](\d{0,2}))?(?:[/-](\d{0,2}))?", value or "")
    if not match:
        return None, None, None
    year, month, day = (int(g) if g else None for g in match.groups())
    return year, month, day


def _first(value) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


#: The rispy key holding a record's number, per type (SN: a report's number, else an
#: ISBN/ISSN, which the catalogue does not keep; M1 elsewhere; a chapter's SV is unknown
#: to rispy and read from its unknown tags).
NUMBER_KEYS = {"RPRT": "issn"}

_REPORT_LABELS = {"commentary": "commentary", "report": "report", "policy brief": "policy_brief"}


def _report_genre(genre: str) -> tuple[str, str] | None:
    """(kind, series) when an ``MGZN`` record's M3 names a commentary, brief or report."""
    lowered = genre.lower()
    if lowered in _REPORT_LABELS:
        return _REPORT_LABELS[lowered], ""
    return None


def _numbers_and_titles(
    ris_type: str, kind: str, item: dict, unknown: dict
) -> tuple[str, str, str, str]:
    """Number, issue, container title and series: what T2, T3, IS, SN, M1, SV mean per TY.

    The tags follow Zotero's RIS map (see ``library/citations/ris.py``): a report's and a
    book's T2 is the series, a report's SN its number, a book's M1 and a chapter's SV the
    series number. IS is the issue; from a report that gives its number in IS and has no
    SN (EndNote, older Dossier exports) it is read as the number.
    """
    t2 = tidy(_first(item.get("secondary_title")))
    t3 = tidy(_first(item.get("tertiary_title")))
    journal = tidy(_first(item.get("journal_name") or item.get("alternate_title3")))
    issue = tidy(_first(item.get("number")))
    if ris_type in ("RPRT", "BOOK"):
        # Zotero writes the series in T2, EndNote in T3.
        series, container = t2 or t3, journal
    else:
        series, container = t3, t2 or journal
    if ris_type == "CHAP":
        number = tidy(_first(unknown.get("SV")))
    else:
        number = tidy(_first(item.get(NUMBER_KEYS.get(ris_type, "note"))))
    if not number and ris_type == "RPRT":
        number, issue = issue, ""
    return number, issue, container, series


def record_to_imported(item: dict, line: int, warnings: list[str]) -> ImportedEntry:
    """Map one rispy dict to a record; ``ValueError`` says why it cannot be imported."""
    ris_type = str(item.get("type_of_reference", "")).strip().upper()
    kind = TYPE_MAP.get(ris_type)
    if kind is None:
        kind = "other"
        warnings.append(f"unknown RIS type {ris_type!r}; imported as 'other'")
    full_title = tidy(_first(item.get("title") or item.get("primary_title")))
    if not full_title:
        raise ValueError("the record has no title (TI or T1)")
    title, subtitle = split_title(full_title)
    genre = tidy(_first(item.get("type_of_work")))
    series_from_genre = ""
    if kind == "report" and genre.lower() in GENRES:
        kind = GENRES[genre.lower()]
    elif ris_type == "MGZN" and (from_genre := _report_genre(genre)) is not None:
        # Our export's commentary in a venue with no publisher: M3 names kind or series.
        kind, series_from_genre = from_genre
    # rispy files a blank line inside a record under the tag None: not a tag, nothing lost.
    unknown = {tag: v for tag, v in (item.get("unknown_tag") or {}).items() if tag}
    author_texts = [*item.get("first_authors", []), *item.get("authors", [])]
    editor_texts = [
        *item.get("secondary_authors", []),
        *item.get("tertiary_authors", []),
        *unknown.get("ED", []),
    ]
    year, month, day = _date(_first(item.get("date")))
    if year is None:
        year, month, day = _date(_first(item.get("year") or item.get("publication_year")))
    year, month, day = fit_date(year, month, day, warnings)
    first_page, last_page = _first(item.get("start_page")), _first(item.get("end_page"))
    pages = f"{first_page}–{last_page}" if first_page and last_page else first_page or last_page
    urls: list[str] = []
    for text in item.get("urls") or []:
        first, more = clean_url(str(text), "UR", warnings)
        urls.extend(u for u in (first, *more) if u)
    if len(urls) > 1 and not any(w.startswith("UR: ") for w in warnings):
        warnings.append(
            f"UR: {len(urls)} URLs given; the first is kept as the URL, the others in the note"
        )
    number, issue, container, series = _numbers_and_titles(ris_type, kind, item, unknown)
    series = series or series_from_genre
    notes = item.get("notes") or []
    number_key = NUMBER_KEYS.get(ris_type, "note")
    unkept_tags = [
        _TAG_OF.get(key, key) for key in item if key not in KEPT_KEYS and key != number_key
    ]
    read_unknown = ("ED", "SV") if ris_type == "CHAP" else ("ED",)
    unkept_tags += [tag for tag in unknown if tag not in read_unknown]
    warn_unkept(unkept_tags, (), warnings, noun="tags")
    language, language_note = language_code(_first(item.get("language")), "LA", warnings)
    record = CitationRecord(
        key=tidy(_first(item.get("id"))),
        type=kind,
        title=title,
        subtitle=subtitle,
        authors=tuple(n for n in map(ris_name, author_texts) if n),
        editors=tuple(n for n in map(ris_name, editor_texts) if n),
        year=year,
        month=month,
        day=day,
        publisher=tidy(_first(item.get("publisher"))),
        place=tidy(_first(item.get("place_published"))),
        series=series,
        number=number,
        container_title=container,
        volume=tidy(_first(item.get("volume"))),
        issue=issue,
        pages=tidy(pages),
        edition=tidy(_first(item.get("edition"))),
        url=urls[0] if urls else "",
        accessed=access_date(_first(item.get("access_date")), "Y2 (access date)", warnings),
        doi=tidy(_first(item.get("doi"))),
        language=language,
        abstract=tidy(_first(item.get("abstract") or item.get("notes_abstract"))),
        keywords=tuple(tidy(k) for k in item.get("keywords", []) if tidy(k)),
        note=join_note(
            "; ".join(html_to_text(tidy(n)) for n in notes)
            or ("Master's thesis" if "master" in genre.lower() else ""),
            language_note,
            also_at(urls[1:]),
        ),
    )
    return ImportedEntry(
        record=record,
        line=line,
        source_key=record.key,
        original_type=ris_type,
        warnings=tuple(warnings),
    )
