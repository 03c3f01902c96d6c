"""Citation records -> unsaved catalogue pieces, and why a record cannot become one."""

from __future__ import annotations

import dataclasses
import datetime

from django.core.exceptions import ValidationError

from library.catalogue.authors import AuthorSpec
from library.catalogue.models import AuthorKind, DatePrecision, Piece, Provenance
from library.citations.records import CitationRecord, Name


def record_date(record: CitationRecord) -> tuple[datetime.date | None, str]:
    if record.year is None:
        return None, DatePrecision.DAY
    if record.month is None:
        return datetime.date(record.year, 1, 1), DatePrecision.YEAR
    if record.day is None:
        return datetime.date(record.year, record.month, 1), DatePrecision.MONTH
    return datetime.date(record.year, record.month, record.day), DatePrecision.DAY


def author_spec(name: Name) -> AuthorSpec:
    kind = AuthorKind.ORGANISATION if name.is_organisation else AuthorKind.PERSON
    return AuthorSpec(
        family=name.family,
        given=name.given,
        particle=name.particle,
        suffix=name.suffix,
        kind=kind,
    )


def build_piece(
    record: CitationRecord, *, filename: str, line: int | None, original_type: str
) -> Piece:
    """An unsaved piece with the record's fields; the source says where it came from."""
    date, precision = record_date(record)
    where = f", line {line}" if line else ""
    return Piece(
        type=record.type,
        title=record.title,
        subtitle=record.subtitle,
        date=date,
        date_precision=precision,
        publisher=record.publisher,
        place=record.place,
        series=record.series,
        number=record.number,
        container_title=record.container_title,
        volume=record.volume,
        issue=record.issue,
        pages=record.pages,
        edition=record.edition,
        synopsis=record.abstract,
        url=record.url,
        accessed=datetime.date.fromisoformat(record.accessed) if record.accessed else None,
        doi=record.doi,
        language=record.language,
        keywords=list(record.keywords),
        note=record.note,
        provenance=Provenance.IMPORT,
        source_file=f"{filename}{where} ({original_type or record.type})"[:500],
    )


# Piece field -> record field, where the names differ.
_RECORD_FIELD = {"synopsis": "abstract"}
#: Fields whose text goes to the note when the catalogue cannot hold it in the field.
_TO_NOTE = frozenset(
    """subtitle publisher place series number container_title volume issue pages edition
    url doi language""".split()
)


def fit_record(
    record: CitationRecord, filename: str, line: int | None, original_type: str
) -> tuple[CitationRecord, list[str], bool]:
    """The record with every field the catalogue refuses moved, so the entry is not lost.

    One odd field must not cost the entry: a URL that is not a web address, a place
    longer than the column, a DOI with spaces. Its text goes to the note (labelled with
    the field), the field is left empty, and a warning names the field and the reason.
    A title too long for its column is cut at a word and kept whole in the note.
    The third value says whether the record passed ``full_clean`` as it was, so that
    :func:`validate_record` need not run it again (it is most of an entry's planning).
    """
    record, notes, warnings = _fit_names(record)
    piece = build_piece(record, filename=filename, line=line, original_type=original_type)
    try:
        piece.full_clean(exclude=["citation_key"], validate_unique=False)
    except ValidationError as exc:
        errors = exc.message_dict
    else:
        errors = {}
    changes: dict[str, str] = {}
    for name, messages in errors.items():
        field = _RECORD_FIELD.get(name, name)
        value = getattr(record, field, None)
        if not isinstance(value, str) or not value:
            continue
        reason = " ".join(messages).rstrip(".")
        if field == "title":
            limit = Piece._meta.get_field("title").max_length
            assert limit is not None  # a CharField's max_length is required
            changes["title"] = value[: limit - 1].rsplit(" ", 1)[0] + "…"
            notes.append(f"Full title: {value}")
            warnings.append(f"title: {reason}; shortened, and kept whole in the note")
        elif field in _TO_NOTE:
            changes[field] = ""
            notes.append(f"{field.replace('_', ' ')}: {value}")
            warnings.append(f"{field} {_shown(value)}: {reason}; its text is kept in the note")
    if not changes and not notes:
        return record, warnings, not errors
    note = "; ".join(part for part in (record.note.strip(), *notes) if part)
    # Each key names a str field (title or one of _TO_NOTE); mypy cannot tell from a dict.
    fitted = dataclasses.replace(record, **changes, note=note)  # type: ignore[arg-type]
    return fitted, warnings, False


def _fit_names(record: CitationRecord) -> tuple[CitationRecord, list[str], list[str]]:
    """A name with a part longer than its column is kept in the note, not in the list."""
    notes: list[str] = []
    warnings: list[str] = []
    kept: dict[str, tuple[Name, ...]] = {}
    for role in ("authors", "editors"):
        names = []
        for name in getattr(record, role):
            too_long = [p for p, limit in _NAME_LIMITS.items() if len(getattr(name, p)) > limit]
            if too_long:
                notes.append(f"{role[:-1].capitalize()}: {name.display}")
                warnings.append(
                    f"{role[:-1]} {_shown(name.display)}: {', '.join(too_long)} longer than the "
                    "catalogue holds; the name is kept in the note"
                )
            else:
                names.append(name)
        kept[role] = tuple(names)
    if not notes:
        return record, [], []
    return (
        dataclasses.replace(record, authors=kept["authors"], editors=kept["editors"]),
        notes,
        warnings,
    )


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


_NAME_LIMITS = {"family": 300, "given": 200, "particle": 50, "suffix": 50}


def validate_record(
    record: CitationRecord,
    filename: str,
    line: int | None,
    original_type: str,
    *,
    fields_valid: bool = False,
) -> str:
    """Why the record cannot become a piece, naming the field; ``""`` when it can.

    ``fields_valid``: :func:`fit_record` has just run ``full_clean`` on this very record.
    """
    try:
        record_date(record)
    except ValueError:
        return f"the date {record.year}-{record.month}-{record.day} does not exist"
    if not fields_valid:
        piece = build_piece(record, filename=filename, line=line, original_type=original_type)
        try:
            piece.full_clean(exclude=["citation_key"], validate_unique=False)
        except ValidationError as exc:
            return "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
            )
    for name in (*record.authors, *record.editors):
        for part, limit in _NAME_LIMITS.items():
            if len(getattr(name, part)) > limit:
                return f"the name {name.display[:60]!r}: {part} is longer than {limit} characters"
    return ""
