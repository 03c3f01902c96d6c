"""What the index holds for one piece: the searchable text of each field, in one place.

Every engine indexes the same :class:`PieceDocument`, so the fields, their weights and the
drift check (a digest of the document) mean the same thing whichever engine is chosen.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from library.catalogue.models import Author, AuthorKind, Authorship, Piece, Region, Role, Topic
from library.search.text import clean_for_index
from library.text import display_name as byline_name
from library.text import join_title

# Field order is the index's column order. Weights: title above authors and tags, above
# the synopsis, above the body (the ranking rule).
FIELDS = ("title", "authors", "tags", "synopsis", "body")
WEIGHTS = {"title": 10.0, "authors": 5.0, "tags": 4.0, "synopsis": 2.0, "body": 1.0}
# Part of every digest; raised when an engine starts reading the same text into other words,
# so check_index reports each piece an index holds from before as stale until rebuild_index
# runs, and a save rewrites its piece's row. 2: words split at punctuation on PostgreSQL and
# Whoosh too ("Israel/Palestine", "www.rsis.edu.sg", "verbatim*").
ANALYSIS = "2"


@dataclass(frozen=True)
class PieceDocument:
    """The folded text of one piece, field by field, plus what sorting and facets need."""

    piece_id: int
    title: str
    authors: str
    tags: str
    synopsis: str
    body: str
    year: int | None
    type: str
    citation_key: str
    # For engines that keep facets in the index (Whoosh); the database joins its own tables.
    date_ordinal: int = 0
    topic_ids: tuple[int, ...] = ()
    region_ids: tuple[int, ...] = ()
    author_ids: tuple[int, ...] = ()
    # Whether folding changed the text (Đ -> D...): only then do snippets need restoring.
    folded: bool = False

    def fields(self) -> tuple[str, ...]:
        return tuple(getattr(self, name) for name in FIELDS)

    @property
    def digest(self) -> str:
        """A short hash of the indexed text: check_index compares it to spot stale rows."""
        facets = (self.topic_ids, self.region_ids, self.author_ids)
        joined = "\x1f".join(
            (*self.fields(), str(self.year), self.type, self.citation_key, repr(facets), ANALYSIS)
        )
        return hashlib.blake2b(joined.encode("utf-8"), digest_size=12).hexdigest()


def build_document(piece: Piece) -> PieceDocument:
    """The document for a saved ``piece``, read from the database as the index sees it."""
    found = documents_for([piece.pk])
    if not found:
        raise Piece.DoesNotExist(f"piece {piece.pk} is not saved")
    return found[0]


def document_of(piece: Piece) -> PieceDocument:
    """The document of a piece already loaded with its byline and tags (``with_related()``).

    The same document as :func:`build_document` without reading the piece again: a piece
    page's related pieces read it four times over (~4 ms a first view on PostgreSQL at
    100,000 pieces). The byline is in role then position order and the tags in the
    database's name order, as ``documents_for`` reads them; tests compare the two.
    """
    row = (
        piece.pk, piece.title, piece.subtitle, piece.synopsis, piece.body, piece.date,
        piece.type, piece.citation_key, piece.keywords,
    )  # fmt: skip
    byline = sorted(piece.authorships.all(), key=lambda a: (a.role, a.position))
    people = {piece.pk: [(a.role, a.author_id, a.author.display_name) for a in byline]}
    tags = {
        "topic": {piece.pk: [(t.pk, t.name) for t in piece.topics.all()]},
        "region": {piece.pk: [(r.pk, r.name) for r in piece.regions.all()]},
    }
    return _document(row, people, tags)


def iter_documents(
    pieces: QuerySet[Piece] | None = None, chunk: int = 500
) -> Iterator[list[PieceDocument]]:
    """Documents for every piece (or the given queryset) in chunks, in a bounded memory."""
    queryset = Piece.objects.all() if pieces is None else pieces
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        yield documents_for(ids[start : start + chunk])


def documents_for(ids: Iterable[int]) -> list[PieceDocument]:
    """Documents for the given piece ids, in id order (missing ids are skipped).

    Flat SQL rather than model instances and prefetches: rebuilding the index spent more
    time building ORM objects than indexing. Every path (save, rebuild, check_index) comes
    through here, so the digest of a piece is the same whichever built it.
    """
    ids = sorted(set(ids))
    if not ids:
        return []
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, title, subtitle, synopsis, body, date, type, citation_key, keywords "
            f"FROM {Piece._meta.db_table} WHERE id IN ({marks}) ORDER BY id",
            ids,
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT a.piece_id, a.role, a.author_id, au.kind, au.given, au.particle, "
            f"au.family, au.suffix FROM {Authorship._meta.db_table} a "
            f"JOIN {Author._meta.db_table} au ON au.id = a.author_id "
            f"WHERE a.piece_id IN ({marks}) ORDER BY a.piece_id, a.role, a.position",
            ids,
        )
        people: dict[int, list[tuple]] = {}
        for piece_id, role, author_id, *name in cursor.fetchall():
            people.setdefault(piece_id, []).append((role, author_id, display_name(*name)))
        tags: dict[str, dict[int, list[tuple[int, str]]]] = {}
        for kind, model, through_model in (
            ("topic", Topic, Piece.topics.through),
            ("region", Region, Piece.regions.through),
        ):
            through = through_model._meta.db_table
            cursor.execute(
                f"SELECT t.piece_id, v.id, v.name FROM {through} t "
                f"JOIN {model._meta.db_table} v ON v.id = t.{kind}_id "
                f"WHERE t.piece_id IN ({marks}) ORDER BY t.piece_id, v.name",
                ids,
            )
            grouped: dict[int, list[tuple[int, str]]] = {}
            for piece_id, term_id, name in cursor.fetchall():
                grouped.setdefault(piece_id, []).append((term_id, name))
            tags[kind] = grouped
    return [_document(row, people, tags) for row in rows]


def _document(row: tuple, people: dict, tags: dict) -> PieceDocument:
    pk, title, subtitle, synopsis, body, date, type_, key, keywords = row
    if isinstance(date, str):
        date = datetime.date.fromisoformat(date)
    if isinstance(keywords, str):
        keywords = json.loads(keywords or "[]")
    full_title = join_title(title, subtitle)  # Piece.full_title's own function
    contributors = people.get(pk, [])
    topics, regions = tags["topic"].get(pk, []), tags["region"].get(pk, [])
    words = [name for _, name in topics] + [name for _, name in regions]
    words += [k for k in keywords or [] if isinstance(k, str)]
    originals = (full_title, synopsis, body)
    cleaned = tuple(clean_for_index(text) for text in originals)
    return PieceDocument(
        folded=cleaned != originals,
        piece_id=pk,
        title=cleaned[0],
        authors=clean_for_index("\n".join(name for _, _, name in contributors)),
        tags=clean_for_index("\n".join(words)),
        synopsis=cleaned[1],
        body=cleaned[2],
        year=date.year if date else None,
        type=type_,
        citation_key=key,
        date_ordinal=date.toordinal() if date else 0,
        topic_ids=tuple(term_id for term_id, _ in topics),
        region_ids=tuple(term_id for term_id, _ in regions),
        author_ids=tuple(aid for role, aid, _ in contributors if role == Role.AUTHOR),
    )


def display_name(kind: str, given: str, particle: str, family: str, suffix: str) -> str:
    # The function the model's property calls, on the row's columns: building Author
    # objects cost more than the rest of the document.
    return byline_name(
        family=family,
        given=given,
        particle=particle,
        suffix=suffix,
        organisation=kind == AuthorKind.ORGANISATION,
    )
