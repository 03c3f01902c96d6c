"""One decoded BibTeX entry -> one :class:`CitationRecord`: types, names, dates, fields.

The mapping is chosen so that what our exporter (``library.citations.bibtex``) writes
comes back as the same record: a ``@techreport``'s ``type`` is the series (or the
"Commentary" / "Report" / "Policy Brief" default), a ``@misc``'s ``howpublished`` is
taken apart again, and a title is split into title and subtitle where that reproduces
the written LaTeX.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import Entry

from library.citations.bibtex import REPORT_TYPES, title_field
from library.citations.latex import protect_title, to_latex
from library.citations.readers.bibtex_middlewares import (
    MONTHS,
    SYNTAX_ERROR_KEY,
    WARN_KEY,
    block_line,
)
from library.citations.readers.common import (
    ImportedEntry,
    access_date,
    also_at,
    check_date,
    clean_url,
    join_note,
    organisation,
    person,
    split_title,
    warn_unkept,
)
from library.citations.readers.latex import latex_to_text, verbatim
from library.citations.records import CitationRecord, Name

TYPE_MAP = {
    "article": "article",
    "book": "book",
    "mvbook": "book",
    "booklet": "book",
    "proceedings": "book",
    "collection": "book",
    "mvcollection": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "chapter",
    "conference": "chapter",
    "bookinbook": "chapter",
    "suppbook": "chapter",
    "techreport": "report",
    "report": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "online": "web_article",
    "electronic": "web_article",
    "www": "web_article",
    "misc": "other",
    "manual": "other",
    "unpublished": "other",
    # The rest of biblatex's types (manual, section 2.1), standard and non-standard.
    "suppcollection": "chapter",
    "inreference": "chapter",
    "suppperiodical": "article",
    "review": "article",
    "periodical": "book",
    "mvproceedings": "book",
    "reference": "book",
    "mvreference": "book",
    "masterthesis": "thesis",
    "patent": "other",
    "dataset": "other",
    "software": "other",
    "set": "other",
    "xdata": "other",
    "artwork": "other",
    "audio": "other",
    "bibnote": "other",
    "commentary": "other",
    "image": "other",
    "jurisdiction": "other",
    "legislation": "other",
    "legal": "other",
    "letter": "other",
    "movie": "other",
    "music": "other",
    "performance": "other",
    "standard": "other",
    "video": "other",
}
#: Types that are ``other`` because the catalogue has nothing closer, not by choice.
_PLAIN_OTHER = frozenset({"misc", "manual", "unpublished"})


#: Every field the mapping below reads. ``key`` is only a sort label (our exporter writes
#: the title there for entries without authors) and ``crossref`` is resolved before
#: mapping; anything else an entry carries is named in a warning.
KEPT_FIELDS = frozenset(
    """author editor title subtitle journaltitle journal booktitle publisher institution
    school organization address location series number issue type howpublished date year
    month day volume pages edition url urldate doi langid language abstract keywords note
    key crossref""".split()
)


def parse_names(raw: str, field: str, warnings: list[str]) -> tuple[Name, ...]:
    """``A and B and {Org}`` (LaTeX) -> names, each part decoded after splitting."""
    names: list[Name] = []
    for written in split_multiple_persons_names(raw):
        written = written.strip()
        if not written:
            continue
        if written.lower() == "others":
            warnings.append(f"{field}: 'and others' dropped (the catalogue lists names only)")
            continue
        if _single_group(written):
            names.append(organisation(latex_to_text(written[1:-1])))
            continue
        try:
            parts = parse_single_name_into_parts(written, strict=False)
        except InvalidNameError as exc:
            warnings.append(f"{field}: the name {written!r} was skipped: {exc}")
            continue
        name = person(
            family=latex_to_text(" ".join(parts.last)),
            given=latex_to_text(" ".join(parts.first)),
            particle=latex_to_text(" ".join(parts.von)),
            suffix=latex_to_text(" ".join(parts.jr)),
        )
        if not name.family:
            warnings.append(f"{field}: the name {written!r} has no family name; skipped")
            continue
        names.append(name)
    return tuple(names)


def _single_group(text: str) -> bool:
    """True for ``{…}`` where the first brace closes at the very end."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return index == len(text) - 1
    return False


def _title_parts(decoded: str, raw: str) -> tuple[str, str]:
    """Title and subtitle; the split that re-exports to the same LaTeX wins.

    ``Title: Subtitle`` always splits at the colon. After ``?``, ``!`` or ``.`` the
    exporter joins with a space, so a split there is taken only when it is what makes the
    written title come back out unchanged (each part is brace-protected on its own).
    """
    title, subtitle = split_title(decoded)
    if subtitle or protect_title(decoded) == raw.strip():
        return title, subtitle
    for match in re.finditer(r"[?!.] ", decoded):
        head, tail = decoded[: match.start() + 1], decoded[match.end() :]
        record = CitationRecord(key="k", type="other", title=head, subtitle=tail)
        if title_field(record) == raw.strip():
            return head, tail
    return decoded, ""


def _int(value: str) -> int | None:
    match = re.search(r"\d+", value)
    return int(match.group()) if match else None


def _month(value: str) -> int | None:
    text = value.strip().lower().rstrip(".")
    if text.isdigit():
        return int(text)
    for number, name in enumerate(MONTHS, start=1):
        if text and name.startswith(text[:3]) and len(text) >= 3:
            return number
    return None


def _date(fields: dict[str, str], warnings: list[str]) -> tuple[int | None, ...]:
    year = month = day = None
    if fields.get("date"):
        match = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", fields["date"])
        if match:
            year, month, day = (int(g) if g else None for g in match.groups())
        else:
            warnings.append(f"date {fields['date']!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    if year is None and fields.get("year"):
        year = _int(fields["year"])
        if year is None:
            warnings.append(f"year {fields['year']!r} has no number; the date is left empty")
    if month is None and fields.get("month"):
        month = _month(fields["month"])
        if month is None:
            warnings.append(f"month {fields['month']!r} is not a month; ignored")
    if day is None and fields.get("day"):
        day = _int(fields["day"])
    problems = check_date(year, month, day)
    if problems:
        warnings.append("date ignored: " + "; ".join(problems))
        return None, None, None
    if year is None:
        month = day = None
    if month is None:
        day = None
    return year, month, day


def _report_kind(type_text: str) -> tuple[str, str]:
    """A techreport's ``type`` field -> our piece type and, if it is a series name, series."""
    for kind, label in REPORT_TYPES.items():
        if type_text.strip().lower() == label.lower():
            return kind, ""
    lowered = type_text.lower()
    if "comment" in lowered:
        return "commentary", type_text
    if "brief" in lowered:
        return "policy_brief", type_text
    return "report", type_text


def _howpublished(raw: str) -> dict[str, str]:
    """Undo the exporter's ``howpublished``: ``container, series no., publisher, place, \\url``.

    Parts are assigned in order; a first part that carries title protection is the
    container. Any assignment that keeps the order re-exports the same text.
    """
    url = ""
    url_match = re.search(r"\\url\{([^{}]*)\}\s*$", raw)
    if url_match:
        url = url_match.group(1)
        raw = raw[: url_match.start()].rstrip().rstrip(",")
    parts = [p.strip() for p in _split_top_level(raw, ",") if p.strip()]
    fields = {"url": url, "container_title": "", "series": "", "publisher": "", "place": ""}
    if parts:
        first = latex_to_text(parts[0])
        if protect_title(first) == parts[0] and to_latex(first) != parts[0]:
            fields["container_title"] = first
            parts = parts[1:]
    slots = ["series", "publisher", "place"][-len(parts) :] if parts else []
    if len(parts) > 3:
        slots = ["series", "publisher", "place"]
        parts = [*parts[:2], ", ".join(parts[2:])]
    for slot, part in zip(slots, parts, strict=False):
        fields[slot] = latex_to_text(part)
    return fields


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def entry_kind(original_type: str, warnings: list[str]) -> str:
    """The piece type for an entry type; an unknown type is read as the nearest known one.

    bibtex reads an entry of any type (``@fake-entry``, ``@artcle``); so do we, never
    dropping it: a misspelling close to a known type is taken as that type, anything else
    as ``@misc``, and the warning says which.
    """
    kind = TYPE_MAP.get(original_type)
    if kind is not None:
        if kind == "other" and original_type not in _PLAIN_OTHER:
            warnings.append(
                f"entry type @{original_type} has no type of its own in the catalogue; "
                "imported as 'other'"
            )
        return kind
    nearest = difflib.get_close_matches(original_type, TYPE_MAP, n=1, cutoff=0.75)
    known = nearest[0] if nearest else "misc"
    warnings.append(
        f"unknown entry type @{original_type}; imported as @{known} ('{TYPE_MAP[known]}')"
    )
    return TYPE_MAP[known]


#: Fields that stand in for a missing title, in this order (biblatex's own fallbacks).
TITLE_STAND_INS = ("shorttitle", "booktitle", "shorthand")


def _title_field(fields: dict[str, str], warnings: list[str]) -> str:
    """The field the title comes from; ``ValueError`` when nothing can stand in."""
    if fields.get("title"):
        return "title"
    for name in TITLE_STAND_INS:
        if fields.get(name):
            warnings.append(f"the entry has no title; its {name} stands in")
            return name
    raise ValueError("the entry has no title (nor shorttitle, booktitle or shorthand)")


def entry_to_imported(entry: Entry) -> ImportedEntry:
    """Map one decoded entry to a record; ``ValueError`` says why it cannot be imported."""
    warnings: list[str] = list(entry.parser_metadata.get(WARN_KEY, []))
    raw: dict[str, Any] = entry.parser_metadata.get("dossier_raw", {})
    fields = {f.key: f.value for f in entry.fields if isinstance(f.value, str)}
    original_type = entry.entry_type.lower()
    syntax_error = entry.parser_metadata.get(SYNTAX_ERROR_KEY)
    title_from = _title_field(fields, warnings)
    if syntax_error:
        warnings.append(
            f"not valid BibTeX at {syntax_error}; the fields before it are kept, "
            "as bibtex keeps them"
        )
    kind = entry_kind(original_type, warnings)
    series, number, issue = fields.get("series", ""), fields.get("number", ""), ""
    container = fields.get("journaltitle") or fields.get("journal") or fields.get("booktitle", "")
    publisher = (
        fields.get("publisher")
        or fields.get("institution")
        or fields.get("school")
        or fields.get("organization", "")
    )
    place = fields.get("address") or fields.get("location", "")
    url, more_urls = clean_url(verbatim(raw.get("url", "")), "url", warnings)
    extra: dict[str, str] = {}
    if kind == "report" and fields.get("type"):
        kind, series_from_type = _report_kind(fields["type"])
        series = series_from_type or series
    if kind == "article":
        issue, number = fields.get("issue") or number, ""
    if original_type in ("misc", "online", "electronic", "www") and raw.get("howpublished"):
        extra = _howpublished(raw["howpublished"])
        url = url or extra["url"]
        container = container or extra["container_title"]
        series = series or extra["series"]
        publisher = publisher or extra["publisher"]
        place = place or extra["place"]
    year, month, day = _date(fields, warnings)
    title, subtitle = _title_parts(fields[title_from], raw.get(title_from, fields[title_from]))
    if fields.get("subtitle"):
        subtitle = fields["subtitle"]
    keywords = tuple(k.strip() for k in re.split(r"[,;]", fields.get("keywords", "")) if k.strip())
    record = CitationRecord(
        key=entry.key.strip(),
        type=kind,
        title=title,
        subtitle=subtitle,
        authors=parse_names(raw.get("author", ""), "author", warnings),
        editors=parse_names(raw.get("editor", ""), "editor", warnings),
        year=year,
        month=month,
        day=day,
        publisher=publisher,
        place=place,
        series=series,
        number=number,
        container_title=container,
        volume=fields.get("volume", ""),
        issue=issue,
        pages=fields.get("pages", ""),
        edition=fields.get("edition", ""),
        url=url,
        accessed=access_date(fields.get("urldate", ""), "urldate", warnings),
        doi=verbatim(raw.get("doi", "")),
        language=_language(fields.get("langid") or fields.get("language", "")),
        abstract=fields.get("abstract", ""),
        keywords=keywords,
        note=join_note(
            fields.get("note", "")
            or ("Master's thesis" if original_type == "mastersthesis" else ""),
            also_at(more_urls),
        ),
    )
    warn_unkept(fields, KEPT_FIELDS, warnings)
    earlier = entry.parser_metadata.get("dossier_duplicate_key")
    if earlier:
        warnings.append(
            f"the key {entry.key!r} is used by an earlier entry in this file (line {earlier})"
        )
    return ImportedEntry(
        record=record,
        line=block_line(entry.start_line),
        source_key=entry.key.strip(),
        original_type=original_type,
        warnings=tuple(warnings),
    )


_LANGUAGES = {
    "english": "en",
    "american": "en",
    "british": "en",
    "french": "fr",
    "german": "de",
    "ngerman": "de",
    "spanish": "es",
    "arabic": "ar",
    "russian": "ru",
    "chinese": "zh",
    "indonesian": "id",
    "malay": "ms",
    "vietnamese": "vi",
}


def _language(value: str) -> str:
    """``english`` / ``en`` / ``en-GB`` -> a BCP 47 code; the catalogue default otherwise."""
    text = value.strip()
    if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", text):
        return text if len(text) <= 20 else "en"
    return _LANGUAGES.get(text.lower(), "en")
