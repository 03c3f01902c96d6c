"""Importing citation files into the catalogue: plan first, then write all or nothing.

:func:`plan_import` reads files and decides, for every entry found, exactly one outcome —
create, duplicate or rejected — with the key each new piece will get, without writing
anything. That plan is what ``--dry-run`` prints and what the editor's preview shows.
:func:`apply_plan` writes it in one transaction through ``services.save_piece``: if any
piece fails, the catalogue is left exactly as it was.

Counts must add up: ``found`` (counted by the reader independently of its parser) must
equal created + duplicates + rejected, or :class:`CountMismatch` stops the import.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from library.catalogue.authors import AuthorSpec
from library.catalogue.drafts import expand_paths
from library.catalogue.duplicates import Candidate, DuplicateIndex, author_name, author_token
from library.catalogue.locking import lock_piece_saves
from library.catalogue.models import (
    CITATION_KEY_PATTERN,
    Author,
    AuthorKind,
    Authorship,
    Piece,
)
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.citations.keys import ascii_token, base_key, disambiguate, organisation_token
from library.citations.readers import ReadResult, UnreadableFile, read_citations
from library.citations.records import CitationRecord, Name
from library.imports.pieces import author_spec, build_piece, fit_record, validate_record
from library.imports.plan import (
    CountMismatch,
    FilePlan,
    ImportFailed,
    ImportPlan,
    ImportStopped,
    Outcome,
)
from library.imports.writing import create_pieces

__all__ = [
    "ON_DUPLICATE",
    "CountMismatch",
    "ImportFailed",
    "ImportPlan",
    "ImportStopped",
    "apply_plan",
    "citation_paths",
    "existing_pieces",
    "plan_import",
    "read_paths",
]

ON_DUPLICATE = ("skip", "update", "keep-both")
_KEY_RE = re.compile(CITATION_KEY_PATTERN)


# --- planning ---------------------------------------------------------------------------------


def catalogue_index() -> tuple[DuplicateIndex, set[str]]:
    """The duplicate index over every piece, and every key in use (lower-cased).

    Three queries, whatever the size of the catalogue: pieces, dates, first names.
    """
    index = DuplicateIndex()
    taken: set[str] = set()
    # The first author, or the first editor of a piece without authors ("author" sorts first).
    first_names: dict[int, tuple[str, str]] = {}
    for piece_id, kind, family in (
        Authorship.objects.filter(position=0)
        .order_by("role")
        .values_list("piece_id", "author__kind", "author__family")
    ):
        first_names.setdefault(piece_id, (kind, family))
    dates = dict(Piece.objects.values_list("pk", "date"))
    pieces = Piece.objects.values_list(
        "pk", "citation_key", "title", "subtitle", "doi", "url", "volume", "issue", "pages", "type"
    )
    for pk, key, title, subtitle, doi, url, volume, issue, pages, kind in pieces:
        taken.add(key.lower())
        names: tuple[Name, ...] = ()
        if pk in first_names:
            kind, family = first_names[pk]
            names = (Name(family=family, is_organisation=kind == AuthorKind.ORGANISATION),)
        full = CitationRecord(key=key, type="other", title=title, subtitle=subtitle).full_title
        date = dates.get(pk)
        index.add(
            Candidate(
                ref=pk,
                key=key,
                title=full,
                doi=doi,
                url=url,
                year=date.year if date else None,
                author=author_token(names),
                author_name=author_name(names),
                short_title=title,
                volume=volume,
                issue=issue,
                pages=pages,
                type=kind,
            )
        )
    return index, taken


def plan_import(
    files: Sequence[tuple[str, bytes]],
    *,
    on_duplicate: str = "skip",
    encoding: str | None = None,
    fmt: str | None = None,
    unreadable: Sequence[tuple[str, str]] = (),
) -> ImportPlan:
    """Read every file and decide each entry's outcome; writes nothing.

    A file that cannot be read at all (binary, not RIS, bad JSON, or one of
    ``unreadable``: file and why) gets ``error`` set and no outcomes; :func:`apply_plan`
    refuses a plan with such a file unless told to write the others.
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {', '.join(ON_DUPLICATE)}")
    index, taken = catalogue_index()
    plan = ImportPlan(files=[], on_duplicate=on_duplicate)
    for filename, data in files:
        file_plan = FilePlan(filename=filename)
        plan.files.append(file_plan)
        try:
            result = read_citations(data, filename=filename, encoding=encoding, fmt=fmt)
        except UnreadableFile as exc:
            file_plan.error = str(exc)
            continue
        _plan_file(file_plan, result, index, on_duplicate)
        file_plan.check_counts()
    plan.files.extend(FilePlan(filename=name, error=error) for name, error in unreadable)
    _assign_keys([o for f in plan.files for o in f.created], taken)
    return plan


def _plan_file(
    plan: FilePlan, result: ReadResult, index: DuplicateIndex, on_duplicate: str
) -> None:
    plan.format, plan.found = result.format, result.found
    plan.warnings.extend(result.warnings)
    for rejection in result.rejections:
        plan.outcomes.append(
            Outcome("rejected", rejection.line, rejection.key, reason=rejection.reason)
        )
    for entry in result.entries:
        record, fitted, valid = fit_record(
            entry.record, plan.filename, entry.line, entry.original_type
        )
        outcome = Outcome(
            "create",
            entry.line,
            entry.source_key,
            title=record.full_title,
            record=record,
            original_type=entry.original_type,
            warnings=[*entry.warnings, *fitted],
        )
        problem = validate_record(
            record, plan.filename, entry.line, entry.original_type, fields_valid=valid
        )
        if problem:
            outcome.status, outcome.reason = "rejected", problem
        else:
            _classify(outcome, index, on_duplicate, plan.filename)
        plan.outcomes.append(outcome)
    plan.outcomes.sort(key=lambda o: o.line or 0)


def _classify(outcome: Outcome, index: DuplicateIndex, on_duplicate: str, filename: str) -> None:
    record = outcome.record
    assert record is not None  # only "create" outcomes are classified, and they have one
    match = index.match(record)
    if match is not None:
        target = match.candidate
        outcome.matched_key = target.key
        outcome.reason = match.reason + _where(target, filename)
        if on_duplicate == "keep-both":
            outcome.warnings.append(f"duplicate of {target.key} ({outcome.reason}); kept both")
        else:
            outcome.status = "duplicate"
            if target.in_file or on_duplicate == "skip":
                outcome.action = "skipped"
            else:
                outcome.action = "updated"
                assert isinstance(target.ref, int)  # not in_file: a catalogue piece's pk
                outcome.matched_pk = target.ref
            return
    index.add(Candidate.from_record(outcome, record, in_file=True, source=filename))


def _where(target: Candidate, filename: str) -> str:
    """Where the earlier entry a duplicate matches was read: nothing for a catalogue piece."""
    if not target.in_file:
        return ""
    if target.source == filename:
        return " as an earlier entry in this file"
    return f" as an entry of {target.source} read earlier in this import"


def _assign_keys(creates: list[Outcome], taken: set[str]) -> None:
    """Keep each valid, free key (first come first served), then generate the rest."""
    needs_key = []
    for outcome in creates:
        key = outcome.source_key
        if key and _KEY_RE.match(key) and key.lower() not in taken:
            outcome.key = key
            taken.add(key.lower())
        else:
            needs_key.append(outcome)
    for outcome in needs_key:
        assert outcome.record is not None  # a "create" outcome has its record
        outcome.key = generate_key(outcome.record, taken)
        taken.add(outcome.key.lower())
        old = outcome.source_key
        if not old:
            outcome.key_note = f"no citation key; assigned {outcome.key}"
        elif not _KEY_RE.match(old):
            outcome.key_note = f"key {old!r} is not a valid citation key; assigned {outcome.key}"
        else:
            outcome.key_note = f"key {old!r} is already taken; assigned {outcome.key}"


def generate_key(record: CitationRecord, taken: set[str]) -> str:
    """The catalogue's key rule (``services.generate_citation_key``) against ``taken``."""
    names = record.authors or record.editors
    if not names:
        token = "anon"
    elif names[0].is_organisation:
        token = organisation_token(names[0].family)
    else:
        token = ascii_token(names[0].family)
    base = base_key(author_token=token, year=record.year, title=record.title)
    return disambiguate(base, lambda key: key.lower() in taken)


# --- writing ----------------------------------------------------------------------------------


def apply_plan(
    plan: ImportPlan,
    *,
    user=None,
    progress: Callable[[int, int], None] | None = None,
    all_or_nothing: bool = True,
) -> list[Piece]:
    """Write the plan in one transaction; any failure rolls everything back.

    With ``all_or_nothing`` (the default, and the import page's rule) a plan with a file
    that could not be read is refused; without it the readable files are written.
    """
    if plan.failed_files and all_or_nothing:
        raise ImportFailed("; ".join(f"{f.filename}: {f.error}" for f in plan.failed_files))
    written: list[Piece] = []
    try:
        with transaction.atomic():
            # One import writes at a time, and checks its plan again once it may: another
            # import (or editor) may have created some of these works since it was planned.
            lock_piece_saves()
            recheck_plan(plan)
            updates = [(f, o) for f in plan.files for o in f.duplicates if o.action == "updated"]
            creates = [(f, o) for f in plan.files for o in f.created]
            total = len(updates) + len(creates)
            for done, (file_plan, outcome) in enumerate(updates, start=1):
                written.append(_update(file_plan, outcome))
                if progress is not None:
                    progress(done, total)
            written.extend(
                create_pieces(
                    creates,
                    user=user,
                    progress=None
                    if progress is None
                    else lambda done: progress(len(updates) + done, total),
                )
            )
    except (ValidationError, DatabaseError, ValueError) as exc:
        raise ImportFailed(
            f"writing failed ({type(exc).__name__}: {exc}); nothing was imported"
        ) from exc
    return written


def recheck_plan(plan: ImportPlan) -> None:
    """Reclassify the plan's new entries against the catalogue as it is now.

    Runs under the piece-save lock, inside the writing transaction. An entry that now
    matches a piece (a parallel import of the same works committed first) becomes a
    duplicate, as it would have been had the imports run one after the other; a key taken
    meanwhile is replaced by a free one. Entries rejected or duplicated within the file
    keep their outcome. The counts still add up: only ``create`` outcomes change.
    """
    index, taken = catalogue_index()
    for file_plan in plan.files:
        for outcome in file_plan.outcomes:
            if outcome.status != "create" or outcome.record is None:
                continue
            before, warnings = outcome.matched_key, list(outcome.warnings)
            _classify(outcome, index, plan.on_duplicate, file_plan.filename)
            if outcome.status != "create":
                outcome.reason += " (created meanwhile, by another import or editor)"
                continue
            if outcome.matched_key == before:
                outcome.warnings = warnings  # the same match as planned: noted once
            else:  # keep-both: a new match, noted as a warning
                outcome.warnings[-1] += " (created meanwhile)"
            if outcome.key.lower() in taken:
                old = outcome.key
                outcome.key = generate_key(outcome.record, taken)
                outcome.key_note = f"key {old!r} was taken meanwhile; assigned {outcome.key}"
            taken.add(outcome.key.lower())


def _update(file_plan: FilePlan, outcome: Outcome) -> Piece:
    """The entry's fields written over the piece it duplicates (``--on-duplicate update``)."""
    record = outcome.record
    # An "updated" duplicate has its record and the matched piece's pk (see _classify).
    assert record is not None
    assert outcome.matched_pk is not None
    contributors = PieceContributors(
        authors=[author_spec(n) for n in record.authors],
        editors=[author_spec(n) for n in record.editors],
    )
    fresh = build_piece(
        record, filename=file_plan.filename, line=outcome.line, original_type=outcome.original_type
    )
    piece = Piece.objects.get(pk=outcome.matched_pk)
    for name in UPDATED_FIELDS:
        value = getattr(fresh, name)
        if value not in ("", None, []):
            setattr(piece, name, value)
    if not record.authors and not record.editors:
        contributors = PieceContributors(
            authors=[_spec_of(a) for a in piece.authors],
            editors=[_spec_of(a) for a in piece.editors],
        )
    tags = PieceTags(
        topics=piece.topics.all(),
        regions=piece.regions.all(),
        keywords=list(dict.fromkeys([*piece.keywords, *record.keywords])),
    )
    return save_piece(piece, contributors, tags)


UPDATED_FIELDS = (
    "type",
    "title",
    "subtitle",
    "date",
    "date_precision",
    "publisher",
    "place",
    "series",
    "number",
    "container_title",
    "volume",
    "issue",
    "pages",
    "edition",
    "synopsis",
    "url",
    "accessed",
    "doi",
    "language",
    "note",
)


def _spec_of(author: Author) -> AuthorSpec:
    return AuthorSpec(
        family=author.family,
        given=author.given,
        particle=author.particle,
        suffix=author.suffix,
        kind=author.kind,
    )


def existing_pieces(plan: ImportPlan) -> dict[str, Piece]:
    """The catalogue pieces that duplicates matched, by key, for the side-by-side preview."""
    keys = {o.matched_key for f in plan.files for o in f.duplicates if o.matched_key}
    keys |= {o.matched_key for f in plan.files for o in f.created if o.matched_key}
    pieces = Piece.objects.with_related().filter(citation_key__in=keys)
    return {p.citation_key: p for p in pieces}


#: File names an import reads from a folder; other files there are skipped (and counted).
CITATION_SUFFIXES = (".bib", ".bibtex", ".biblatex", ".ris", ".json", ".csljson")


def citation_paths(paths: Iterable[str]) -> tuple[list[str], int]:
    """Files named, and citation files found in folders named, recursively and sorted.

    Folders are walked as ``ingest`` walks them (hidden files and folders skipped,
    symlinked folders not followed). Returns the files and how many other files the
    folders held, which are skipped.
    """
    return expand_paths(paths, keep=lambda name: name.lower().endswith(CITATION_SUFFIXES))


def read_paths(
    paths: Iterable[str], *, max_bytes: int
) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """Each file's bytes, and (file, why) for each that cannot be read.

    A file over ``max_bytes`` is refused before it is read (or parsed). One unreadable
    file does not stop the others: the caller decides (``--all-or-nothing``).
    """
    files: list[tuple[str, bytes]] = []
    unreadable: list[tuple[str, str]] = []
    for path in paths:
        try:
            size = os.path.getsize(path)
            if size > max_bytes:
                unreadable.append(
                    (
                        path,
                        f"{size:,} bytes is over the import limit of {max_bytes:,} bytes "
                        "(set MAX_IMPORT_BYTES to change it)",
                    )
                )
                continue
            with open(path, "rb") as handle:
                files.append((path, handle.read()))
        except OSError as exc:
            unreadable.append((path, f"cannot read the file ({exc.strerror})"))
    return files, unreadable
