"""Writing pieces: the one place that creates and updates them.

The web forms, the ``ingest`` and ``load_demo`` commands all call these functions, so a
piece is saved the same way whichever door it came in by.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction
from django.db.models.functions import Lower

from library.catalogue.authors import AuthorSpec, find_or_create_author
from library.catalogue.concurrency import claim_version, same_work_saved
from library.catalogue.locking import lock_piece_saves
from library.catalogue.models import (
    Author,
    Authorship,
    DatePrecision,
    Piece,
    Region,
    Role,
    Topic,
    VocabularyTerm,
)
from library.catalogue.save_reads import BylineRow, byline_rows, tag_ids
from library.citations.keys import ascii_token, base_key, disambiguate, organisation_token
from library.search.sync import deferred as deferred_indexing

if TYPE_CHECKING:  # a class of the stubs only: Django makes each relation's manager class
    from django.db.models.fields.related_descriptors import ManyRelatedManager

_Term = TypeVar("_Term", bound=VocabularyTerm)

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})$"), DatePrecision.YEAR),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), DatePrecision.MONTH),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), DatePrecision.DAY),
)


def parse_partial_date(text: str) -> tuple[datetime.date | None, str]:
    """``2016`` / ``2016-10`` / ``2016-10-28`` -> (date, precision); empty -> (None, day).

    Raises ``ValueError`` with a message for anything else, including impossible dates.
    """
    value = text.strip()
    if not value:
        return None, DatePrecision.DAY
    for pattern, precision in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            parts = [int(p) for p in match.groups()] + [1] * (3 - len(match.groups()))
            try:
                return datetime.date(*parts), precision
            except ValueError:
                break
    raise ValueError(f"{value!r} is not a date; write 2016, 2016-10 or 2016-10-28")


def format_partial_date(date: datetime.date | None, precision: str) -> str:
    """The inverse of :func:`parse_partial_date`."""
    if date is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{date.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()


def generate_citation_key(piece: Piece, first_author: Author | AuthorSpec | None) -> str:
    """A free key by the documented pattern (see ``library.citations.keys``)."""
    if first_author is None:
        token = "anon"
    elif first_author.kind == "organisation":
        token = organisation_token(first_author.family)
    else:
        token = ascii_token(first_author.family)
    base = base_key(author_token=token, year=piece.year, title=piece.title)
    taken = set(
        Piece.objects.annotate(k=Lower("citation_key"))
        .filter(k__startswith=base.lower())
        .exclude(pk=piece.pk)
        .values_list("k", flat=True)
    )
    return disambiguate(base, lambda key: key.lower() in taken)


def citation_key_is_free(key: str, *, exclude: Piece | None = None) -> bool:
    """Keys are unique ignoring case: BibTeX itself treats ``Basit2016`` and ``basit2016`` alike."""
    qs = Piece.objects.annotate(k=Lower("citation_key")).filter(k=key.lower())
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    return not qs.exists()


@dataclass
class PieceContributors:
    authors: Sequence[AuthorSpec] = ()
    editors: Sequence[AuthorSpec] = ()


@dataclass
class PieceTags:
    topics: Iterable[Topic] = ()
    regions: Iterable[Region] = ()
    keywords: list[str] = field(default_factory=list)


def set_contributors(piece: Piece, contributors: PieceContributors) -> None:
    """Replace the piece's byline with the given authors and editors, in order.

    An unchanged byline (most edits: a title, a synopsis) is left as it is: deleting and
    re-inserting the same rows wrote the byline table and its four indexes on every save,
    and matching each name to an author row cost a query apiece (at 100,000 pieces on
    PostgreSQL, ~2 ms of a 14 ms save).
    """
    current = byline_rows(piece.pk)
    if _same_byline(current, contributors):
        return
    rows: list[Authorship] = []
    seen: set[tuple[int, str]] = set()
    for role, specs in ((Role.AUTHOR, contributors.authors), (Role.EDITOR, contributors.editors)):
        for position, spec in enumerate(specs):
            author = find_or_create_author(spec)
            if (author.pk, role) in seen:  # the same name typed twice: keep the first
                continue
            seen.add((author.pk, role))
            rows.append(Authorship(piece=piece, author=author, role=role, position=position))
    wanted = {(row.author_id, row.role, row.position) for row in rows}
    if {(row.author_id, row.role, row.position) for row in current} == wanted and len(
        current
    ) == len(rows):
        return  # the names matched the same rows (a name typed in other capitals)
    piece.authorships.all().delete()
    Authorship.objects.bulk_create(rows)


def _same_byline(current: list[BylineRow], contributors: PieceContributors) -> bool:
    """Whether the byline rows already name exactly these people, in this order.

    Exact text, so any difference (capitals, a suffix) still goes through
    ``find_or_create_author``; so does a name given with an affiliation or bio, which may
    fill the author's empty ones.
    """
    wanted = [
        (role, position, spec)
        for role, specs in (
            (Role.AUTHOR, contributors.authors),
            (Role.EDITOR, contributors.editors),
        )
        for position, spec in enumerate(specs)
    ]
    if len(wanted) != len(current):
        return False
    for row, (role, position, spec) in zip(current, wanted, strict=True):
        if spec.affiliation or spec.bio:
            return False
        if (row.role, row.position) != (role, position) or (
            row.kind,
            row.family,
            row.given,
            row.particle,
            row.suffix,
        ) != (spec.kind, spec.family, spec.given, spec.particle, spec.suffix):
            return False
    return True


def set_tags(piece: Piece, tags: PieceTags, *, saved_before: bool) -> None:
    """Give the piece exactly these topics and regions; a relation already so is not touched.

    ``RelatedManager.set()`` reads the relation's ids to compare them (one ORM query per
    relation, ~0.4 ms of CPU each at 100,000 pieces) even when nothing changed, as in most
    edits; here both relations' ids come in one statement (none for a piece that was not
    saved before: it has no tags yet), and ``set()`` runs only for a relation whose ids
    differ, or that is given something other than saved terms of its own kind, so
    ``set()``'s own checks and errors apply to those unchanged.
    """
    topics, regions = list(tags.topics), list(tags.regions)
    topic_ids, region_ids = tag_ids(piece.pk) if saved_before else (set(), set())
    _set_terms(piece.topics, Topic, topics, topic_ids)
    _set_terms(piece.regions, Region, regions, region_ids)


def _set_terms(
    manager: ManyRelatedManager[_Term, Any], model: type[_Term], objects: list[_Term], ids: set[int]
) -> None:
    """One relation of :func:`set_tags`: ``set()`` unless it holds exactly these saved terms."""
    if all(isinstance(o, model) and o.pk is not None for o in objects) and (
        {o.pk for o in objects} == ids
    ):
        return
    manager.set(objects)


@transaction.atomic
def save_piece(
    piece: Piece,
    contributors: PieceContributors,
    tags: PieceTags,
    *,
    expected_version: int | None = None,
) -> Piece:
    """Save a new or changed piece with its byline and tags, assigning a key if it has none.

    ``expected_version`` is the version an edit form was built on: if the piece has been
    saved since, :class:`~library.catalogue.concurrency.StalePiece` is raised and nothing is
    written, rather than silently reverting the other save. A new piece from a text or file
    already saved raises :class:`~library.catalogue.concurrency.DuplicateWork`.
    """
    lock_piece_saves()  # before the key and author look-ups it protects
    claim_version(piece, expected_version)
    if piece.pk is None and (piece.source_hash or piece.attachment_sha256):
        # Two saves of the same text or file at once both passed the draft's duplicate
        # check; under the lock only the first is written.
        duplicate = same_work_saved(
            source_hash=piece.source_hash, attachment_sha256=piece.attachment_sha256
        )
        if duplicate is not None:
            raise duplicate
    if not piece.citation_key:
        first = contributors.authors[0] if contributors.authors else None
        if first is None and contributors.editors:
            first = contributors.editors[0]
        piece.normalise_date()
        piece.citation_key = generate_citation_key(piece, first)
    piece.keywords = list(dict.fromkeys(k.strip() for k in tags.keywords if k.strip()))
    piece.full_clean()
    # The search index follows through signals (library.search.sync). The piece's own
    # post_save notes it even when only the byline changed (bulk-created rows send no
    # signal); the index is written once, when this block ends, still inside this
    # transaction, so it sees the byline and tags.
    saved_before = piece.pk is not None  # else it has no tags to read yet
    with deferred_indexing():
        piece.save()
        set_contributors(piece, contributors)
        set_tags(piece, tags, saved_before=saved_before)
    return piece
