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
from library.citations.latex import protect_title
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
    clean_url,
    fit_date,
    html_to_text,
    join_note,
    language_code,
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
    # Types other tools write (Zotero, Mendeley, style test files).
    "webpage": "web_article",
    "website": "web_article",
    "web": "web_article",
    "newspaper": "article",
    "magazine": "article",
}
#: Types that are ``other`` because the catalogue has nothing closer, not by choice.
_PLAIN_OTHER = frozenset({"misc", "manual", "unpublished"})


def parse_names(raw: str, field: str, warnings: list[str]) -> tuple[tuple[Name, ...], bool]:
    """``A and B and {Org}`` (LaTeX) -> names, each part decoded after splitting.

    The flag says the list ended with ``and others``: the catalogue lists named people
    only, so the caller keeps that in the note.
    """
    names: list[Name] = []
    others = False
    for written in split_multiple_persons_names(raw):
        written = written.strip()
        if not written:
            continue
        if written.lower() == "others":
            others = True
            continue
        if _single_group(written):
            names.append(organisation(latex_to_text(written[1:-1])))
            continue
        try:
            parts = parse_single_name_into_parts(written, strict=False)
        except InvalidNameError as exc:
            warnings.append(f"{field}: the name {written!r} was skipped: {exc}")
            continue
        parts = _von_without_first(written, parts)
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
    return tuple(names), others


def _von_without_first(written: str, parts: Any) -> Any:
    """``van Creveld`` is von + Last to bibtex; bibtexparser reads "van" as a first name.

    In the "First von Last" form the von part starts at the first lower-case word, even
    when it is the first word of all; only that case is corrected here.
    """
    if "," in written or parts.von or not parts.first or not parts.last:
        return parts
    if not all(_lower_word(w) for w in parts.first):
        return parts
    return type(parts)(first=[], von=list(parts.first), last=parts.last, jr=parts.jr)


def _lower_word(word: str) -> bool:
    """bibtex's case of a word: its first letter at brace level 0 (``{F}ood`` is lower)."""
    depth = 0
    for char in word:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and char.isalpha():
            return char.islower()
    return False


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
    if text.isdecimal():
        return int(text)
    for number, name in enumerate(MONTHS, start=1):
        if text and name.startswith(text[:3]) and len(text) >= 3:
            return number
    return None


def _date(fields: dict[str, str], warnings: list[str], notes: list[str]) -> tuple[int | None, ...]:
    """Year, month and day; an odd month or day costs only itself, its text goes to the note."""
    year = month = day = None
    if fields.get("date"):
        match = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", fields["date"])
        if match:
            year, month, day = (int(g) if g else None for g in match.groups())
            if match.end() < len(fields["date"].strip()) or (month or 0) > 12:
                notes.append(f"Date: {fields['date']}")
        else:
            warnings.append(
                f"date {fields['date']!r} is not YYYY, YYYY-MM or YYYY-MM-DD; kept in the note"
            )
            notes.append(f"Date: {fields['date']}")
    if year is None and fields.get("year"):
        year = _int(fields["year"])
        if year is None:
            warnings.append(f"year {fields['year']!r} has no number; kept in the note")
            notes.append(f"Year: {fields['year']}")
    if month is None and fields.get("month"):
        month = _month(fields["month"])
        if month is None and not fields["month"].strip("? "):
            warnings.append(f"month {fields['month']!r} says the month is unknown; not kept")
        elif month is None:
            warnings.append(f"month {fields['month']!r} is not a month; kept in the note")
            notes.append(f"Month: {fields['month']}")
    if day is None and fields.get("day"):
        day = _int(fields["day"])
    return fit_date(year, month, day, warnings, given=fields.get("date", ""))


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


def _howpublished(raw: str, fields: dict[str, str]) -> dict[str, str]:
    """Undo the exporter's ``howpublished``: ``\\emph{venue}, series no., publisher, place,
    \\url{...}``.

    The exporter also writes series, number, publisher and place in their own fields, which
    win: from howpublished only the venue (``\\emph{...}`` first) and the URL are taken. A
    howpublished with neither, that is not just those fields glued together, is the venue
    as a whole (biblatex's use of the field, and most people's). Files from before the
    fields were written separately get the parts assigned in order.
    """
    url = ""
    url_match = re.search(r"\\url\{([^{}]*)\}\s*$", raw)
    if url_match:
        url = url_match.group(1)
        raw = raw[: url_match.start()].rstrip().rstrip(",")
    found = {"url": url, "container_title": "", "series": "", "publisher": "", "place": ""}
    venue = _emphasised(raw)
    if venue is not None:
        found["container_title"] = latex_to_text(venue[0])
        raw = venue[1]
    structured = [
        " ".join(p for p in (fields.get("series", ""), fields.get("number", "")) if p),
        fields.get("publisher", "") or fields.get("organization", ""),
        fields.get("address", "") or fields.get("location", ""),
    ]
    glued = ", ".join(p for p in structured if p)
    if any(structured) or not raw.strip():
        if not venue and not url_match and latex_to_text(raw) != glued:
            found["container_title"] = latex_to_text(raw)
        return found
    if not venue and not url_match:
        found["container_title"] = latex_to_text(raw)
        return found
    parts = [p.strip() for p in _split_top_level(raw, ",") if p.strip()]
    slots = ["series", "publisher", "place"][-len(parts) :] if parts else []
    if len(parts) > 3:
        slots = ["series", "publisher", "place"]
        parts = [*parts[:2], ", ".join(parts[2:])]
    for slot, part in zip(slots, parts, strict=False):
        found[slot] = latex_to_text(part)
    return found


def _emphasised(raw: str) -> tuple[str, str] | None:
    """``\\emph{venue}, rest`` -> (``{venue}``, ``rest``); None when it does not start so."""
    match = re.match(r"\s*\\emph\s*\{", raw)
    if not match:
        return None
    depth = 0
    for index in range(match.end() - 1, len(raw)):
        depth += {"{": 1, "}": -1}.get(raw[index], 0)
        if depth == 0:
            rest = raw[index + 1 :].strip()
            if rest and not rest.startswith(","):
                return None
            return raw[match.end() - 1 : index + 1], rest.removeprefix(",")
    return None


def _commentary_type(type_text: str) -> bool:
    """An @article's ``type`` naming a commentary, report or brief (our exporters write it)."""
    return type_text.strip().lower() in {label.lower() for label in REPORT_TYPES.values()}


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


#: eprinttype (or arXiv's archivePrefix) -> the label for the note and the link it makes.
EPRINTS = {
    "arxiv": ("arXiv", "https://arxiv.org/abs/{}"),
    "jstor": ("JSTOR", "https://www.jstor.org/stable/{}"),
    "pubmed": ("PubMed", "https://pubmed.ncbi.nlm.nih.gov/{}/"),
    "pmid": ("PubMed", "https://pubmed.ncbi.nlm.nih.gov/{}/"),
    "pmcid": ("PMC", "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"),
    "pmc": ("PMC", "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"),
    "hdl": ("hdl", "https://hdl.handle.net/{}"),
    "handle": ("hdl", "https://hdl.handle.net/{}"),
    "googlebooks": ("Google Books", "https://books.google.com/books?id={}"),
    "mr": ("MR", "https://mathscinet.ams.org/mathscinet-getitem?mr={}"),
    "zbl": ("Zbl", "https://zbmath.org/?q=an:{}"),
    "ssrn": ("SSRN", "https://ssrn.com/abstract={}"),
}


def _eprint(fields: dict[str, str], raw: dict[str, Any], used: set[str]) -> tuple[str, str]:
    """``eprint`` + ``eprinttype`` -> text for the note (``arXiv: 2101.00001 [cs.CL]``), link.

    An eprint is often an entry's only link (arXiv, JSTOR, PubMed), so it is kept: the
    identifier in the note and, for the known archives, the link it stands for.
    """
    identifier = verbatim(raw.get("eprint", "")).strip()
    if not identifier:
        return "", ""
    archive = (fields.get("eprinttype") or fields.get("archiveprefix") or "").strip()
    kind = (fields.get("eprintclass") or fields.get("primaryclass") or "").strip()
    used.update({"eprint", "eprinttype", "archiveprefix", "eprintclass", "primaryclass"})
    label, link = EPRINTS.get(archive.lower(), (archive or "eprint", ""))
    text = f"{label}: {identifier}" + (f" [{kind}]" if kind else "")
    return text, link.format(identifier) if link else ""


def entry_to_imported(entry: Entry) -> ImportedEntry:
    """Map one decoded entry to a record; ``ValueError`` says why it cannot be imported.

    Every field the entry has is either used, kept in the note (labelled), or named in a
    warning: ``used`` collects what the mapping took, and the rest is reported.
    """
    warnings: list[str] = list(entry.parser_metadata.get(WARN_KEY, []))
    raw: dict[str, Any] = entry.parser_metadata.get("dossier_raw", {})
    fields = {f.key: f.value for f in entry.fields if isinstance(f.value, str)}
    original_type = entry.entry_type.lower()
    if original_type == "xdata":
        raise ValueError(
            "an @xdata entry holds fields for the entries that name it (biblatex), "
            "not a work of its own; its fields are imported with those entries"
        )
    syntax_error = entry.parser_metadata.get(SYNTAX_ERROR_KEY)
    title_from = _title_field(fields, warnings)
    if syntax_error:
        warnings.append(
            f"not valid BibTeX at {syntax_error}; the fields before it are kept, "
            "as bibtex keeps them"
        )
    kind = entry_kind(original_type, warnings)
    used = {title_from, "key", "crossref", "xdata", "url", "doi", "author", "editor"}
    used.update({"date", "year", "month", "day"})
    notes: list[str] = []

    def first(*names: str) -> str:
        """The first of ``names`` the entry has, marked used."""
        for name in names:
            if fields.get(name):
                used.add(name)
                return fields[name]
        return ""

    series, number = first("series"), first("number")
    container = first("journaltitle", "journal", "booktitle")
    publishers: tuple[str, ...] = ("publisher", "institution", "school", "organization")
    if original_type == "online" and not container and fields.get("organization"):
        # biblatex's @online names the site in organization (as our exporter writes it).
        container = first("organization")
        publishers = publishers[:-1]
    publisher = first(*publishers)
    place = first("address", "location")
    url, more_urls = clean_url(verbatim(raw.get("url", "")), "url", warnings)
    if kind == "article" and _commentary_type(fields.get("type", "")):
        # Our exporters write a commentary in a venue with no publisher as an article
        # whose type names the kind ("Commentary", "Report", "Policy Brief").
        kind, _ = _report_kind(first("type"))
    elif kind == "report" and fields.get("type"):
        kind, series_from_type = _report_kind(first("type"))
        series = series_from_type or series
    elif kind == "thesis" and fields.get("type"):
        degree = first("type")
        if degree.lower() in ("mathesis", "masterthesis", "mastersthesis"):
            if "master" not in fields.get("note", "").lower():
                notes.append("Master's thesis")
        elif degree.lower() != "phdthesis":
            notes.append(degree)
    issue = ""
    if kind == "article":
        # Both given (number and issue): both kept, the issue as the issue.
        issue = first("issue") or number
        number = number if fields.get("issue") else ""
    elif fields.get("issue"):
        issue = first("issue")
    if kind in REPORT_TYPES and raw.get("howpublished") and not container:
        # A report's venue, which @techreport and @report have no field of their own for.
        used.add("howpublished")
        container = latex_to_text(raw["howpublished"])
    if original_type in ("misc", "online", "electronic", "www") and raw.get("howpublished"):
        used.add("howpublished")
        extra = _howpublished(raw["howpublished"], fields)
        url = url or extra["url"]
        container = container or extra["container_title"]
        series = series or extra["series"]
        publisher = publisher or extra["publisher"]
        place = place or extra["place"]
    authors, others = parse_names(raw.get("author", ""), "author", warnings)
    editors, editors_others = parse_names(raw.get("editor", ""), "editor", warnings)
    for name in ("organization", "institution", "school"):
        if fields.get(name) and name not in used:
            used.add(name)
            if not authors and not editors:
                authors = (organisation(fields[name]),)
            else:
                notes.append(f"{name.capitalize()}: {fields[name]}")
    if others:
        notes.append("Further authors not named (and others)")
    if editors_others:
        notes.append("Further editors not named (and others)")
    if fields.get("howpublished") and "howpublished" not in used:
        used.add("howpublished")
        notes.append(latex_to_text(raw.get("howpublished", fields["howpublished"])))
    eprint_text, eprint_link = _eprint(fields, raw, used)
    if eprint_text and not url and eprint_link:
        url = eprint_link
        notes.append(eprint_text)
    elif eprint_text:
        notes.append(f"{eprint_text} ({eprint_link})" if eprint_link else eprint_text)
    year, month, day = _date(fields, warnings, notes)
    title, subtitle = _title_parts(fields[title_from], raw.get(title_from, fields[title_from]))
    if fields.get("subtitle"):
        subtitle = first("subtitle")
    keywords = tuple(k.strip() for k in re.split(r"[,;]", first("keywords")) if k.strip())
    language, language_note = language_code(first("langid", "language"), "language", warnings)
    note = first("note") or ("Master's thesis" if original_type == "mastersthesis" else "")
    if html_to_text(raw.get("note", "")) != raw.get("note", ""):
        # Zotero's HTML note: its markup and entities first, then the LaTeX left in it.
        note = latex_to_text(html_to_text(raw["note"]).replace("&", r"\&"))
    record = CitationRecord(
        key=entry.key.strip(),
        type=kind,
        title=title,
        subtitle=subtitle,
        authors=authors,
        editors=editors,
        year=year,
        month=month,
        day=day,
        publisher=publisher,
        place=place,
        series=series,
        number=number,
        container_title=container,
        volume=first("volume"),
        issue=issue,
        pages=first("pages"),
        edition=first("edition"),
        url=url,
        accessed=access_date(first("urldate"), "urldate", warnings),
        doi=verbatim(raw.get("doi", "")),
        language=language,
        abstract=first("abstract"),
        keywords=keywords,
        note=join_note(note, *notes, language_note, also_at(more_urls)),
    )
    warn_unkept(fields, used, warnings)
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
