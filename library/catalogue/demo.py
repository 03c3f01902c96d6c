"""Demo content: the seed commentary plus real security-studies works from ``data/demo.json``.

Loading is all-or-nothing and idempotent: a record already in the catalogue (same title
and first author) is skipped, and a bad record stops the load with its position and field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from library.catalogue.authors import AuthorSpec
from library.catalogue.drafts import prepare_draft, save_draft
from library.catalogue.duplicates import find_existing_piece
from library.catalogue.models import AuthorKind, Piece, Provenance, Region, Topic
from library.catalogue.services import (
    PieceContributors,
    PieceTags,
    parse_partial_date,
    save_piece,
)
from library.catalogue.vocabulary import resolve_terms

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_FILE = DATA_DIR / "demo.json"
SEED_FILES = sorted((DATA_DIR / "seed").glob("*.txt"))
PIECE_FIELDS = (
    "type title subtitle publisher place series number container_title volume issue pages "
    "edition url doi language synopsis note"
).split()


class DemoDataError(ValueError):
    """A demo record cannot be loaded; the message names the record and the field."""


@dataclass
class DemoReport:
    created: int = 0
    skipped: int = 0


def _author_spec(data: dict, where: str) -> AuthorSpec:
    if "organisation" in data:
        return AuthorSpec(family=data["organisation"], kind=AuthorKind.ORGANISATION)
    if not data.get("family"):
        raise DemoDataError(f"{where}: an author has neither 'family' nor 'organisation'")
    return AuthorSpec(
        family=data["family"],
        given=data.get("given", ""),
        particle=data.get("particle", ""),
        suffix=data.get("suffix", ""),
    )


def _terms(model, labels: list[str], where: str) -> list:
    terms, unknown = resolve_terms(model, labels)
    if unknown:
        raise DemoDataError(f"{where}: unknown {model.__name__.lower()}(s): {', '.join(unknown)}")
    return terms


def load_record(record: dict, where: str) -> Piece | None:
    """Create one piece from a demo record, or return None if it is already catalogued."""
    authors = [_author_spec(a, f"{where} authors") for a in record.get("authors", [])]
    editors = [_author_spec(a, f"{where} editors") for a in record.get("editors", [])]
    if find_existing_piece(title=record.get("title", ""), authors=authors or editors):
        return None
    try:
        date, precision = parse_partial_date(record.get("date", ""))
    except ValueError as exc:
        raise DemoDataError(f"{where} date: {exc}") from None
    piece = Piece(
        **{name: record[name] for name in PIECE_FIELDS if name in record},
        date=date,
        date_precision=precision,
        provenance=Provenance.DEMO,
        source_file=DEMO_FILE.name,
    )
    tags = PieceTags(
        topics=_terms(Topic, record.get("topics", []), f"{where} topics"),
        regions=_terms(Region, record.get("regions", []), f"{where} regions"),
        keywords=record.get("keywords", []),
    )
    try:
        return save_piece(piece, PieceContributors(authors=authors, editors=editors), tags)
    except Exception as exc:  # ValidationError and friends: say which record
        raise DemoDataError(f"{where}: {exc}") from exc


def _apply_sidecar(draft, path: Path) -> None:
    """Publication facts the seed text does not carry (its date, series), from ``NAME.json``."""
    if not path.exists():
        return
    facts = json.loads(path.read_text(encoding="utf-8"))
    parsed = draft.parsed
    if facts.get("date"):
        parsed.date, parsed.date_precision = parse_partial_date(facts["date"])
    for name in ("series", "number", "publisher"):
        if facts.get(name):
            setattr(parsed, name, facts[name])


@transaction.atomic
def load_demo(progress: Callable[[int, int], None] | None = None) -> DemoReport:
    """Load the seed commentaries and every demo record that is not yet in the catalogue.

    ``progress`` is called with (works done, works in all) after each one.
    """
    report = DemoReport()
    if not Topic.objects.exists():
        raise DemoDataError("the vocabulary is empty; run `python manage.py load_vocabulary` first")
    records = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    total = len(SEED_FILES) + len(records)
    for done, path in enumerate(SEED_FILES, start=1):
        draft = prepare_draft(path.read_text(encoding="utf-8"), source=path.name)
        if draft.duplicate is None:
            _apply_sidecar(draft, path.with_suffix(".json"))
            save_draft(draft, provenance=Provenance.DEMO)
            report.created += 1
        else:
            report.skipped += 1
        if progress is not None:
            progress(done, total)
    for index, record in enumerate(records, start=1):
        where = f"{DEMO_FILE.name} record {index} ({record.get('title', 'untitled')!r})"
        if load_record(record, where) is None:
            report.skipped += 1
        else:
            report.created += 1
        if progress is not None:
            progress(len(SEED_FILES) + index, total)
    return report
