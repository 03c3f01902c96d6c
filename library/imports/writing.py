"""Writing an import's new pieces in bulk: a handful of queries per 500 pieces, not a dozen each.

``services.save_piece`` saves one piece with its byline and index entry, and is right for a
form or a file. An import of thousands of entries spent almost all its time there (40 ms a
piece: an author look-up and insert per name, a slug probe per new author, a key probe,
the piece's own index write). Everything that call checks has already been decided by
the plan, under the same piece-save lock (``apply_plan`` re-checks the plan against the
catalogue first): each key is free and valid, each record passed ``full_clean``. What
is left is writing, done here in bulk, with the same results as one ``save_piece`` per
entry: the same authors found or created (matched by kind and name ignoring case), the
same slugs, the same byline rows, the same index documents.

Duplicates that update a catalogued piece still go through ``save_piece`` one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from library.catalogue.authors import AuthorSpec
from library.catalogue.citation_jobs import store_cite_texts
from library.catalogue.models import Author, Authorship, Piece, Role, slug_base
from library.imports.pieces import author_spec, build_piece
from library.search.backends import get_backend
from library.search.documents import documents_for
from library.search.sync import index_pieces

if TYPE_CHECKING:
    from library.imports.plan import FilePlan, Outcome

BATCH = 500
_NameKey = tuple[str, str, str, str]


def _name_key(kind: str, family: str, given: str, particle: str) -> _NameKey:
    """How ``find_or_create_author`` matches a name: kind, and family/given/particle in any case."""
    return (kind, family.lower(), given.lower(), particle.lower())


class AuthorResolver:
    """Author rows for specs: the catalogue's, or new ones created in one batch.

    Loads every author's name once; a new name gets its row (and a slug no author has,
    as ``unique_slug`` would pick it) when :meth:`create_missing` runs.
    """

    def __init__(self) -> None:
        self.known: dict[_NameKey, int] = {}
        for pk, kind, family, given, particle in Author.objects.order_by("-pk").values_list(
            "pk", "kind", "family", "given", "particle"
        ):
            self.known[_name_key(kind, family, given, particle)] = pk  # lowest pk wins
        self.pending: dict[_NameKey, AuthorSpec] = {}

    def note(self, spec: AuthorSpec) -> _NameKey:
        key = _name_key(spec.kind, spec.family, spec.given, spec.particle)
        if key not in self.known:
            self.pending.setdefault(key, spec)
        return key

    def create_missing(self) -> None:
        if not self.pending:
            return
        slugs = set(Author.objects.values_list("slug", flat=True))
        rows = []
        for spec in self.pending.values():
            author = Author(
                kind=spec.kind,
                family=spec.family,
                given=spec.given,
                particle=spec.particle,
                suffix=spec.suffix,
                affiliation=spec.affiliation[:500],
                bio=spec.bio,
            )
            base = slug_base(author.display_name)
            slug, n = base, 1
            while slug in slugs:
                n += 1
                slug = f"{base}-{n}"
            slugs.add(slug)
            author.slug = slug
            rows.append(author)
        Author.objects.bulk_create(rows, batch_size=BATCH)
        for key, author in zip(self.pending, rows, strict=True):
            self.known[key] = author.pk
        self.pending = {}

    def pk(self, key: _NameKey) -> int:
        return self.known[key]


def create_pieces(
    work: Sequence[tuple[FilePlan, Outcome]],
    *,
    user=None,
    progress: Callable[[int], None] | None = None,
) -> list[Piece]:
    """Insert the plan's new pieces, their authors and bylines, and index them.

    Must run inside the import's transaction, after ``lock_piece_saves`` and the plan's
    re-check. ``progress`` is called with the number of pieces written after each batch.
    """
    authors = AuthorResolver()
    pieces: list[Piece] = []
    bylines: list[list[tuple[str, int, _NameKey]]] = []
    for file_plan, outcome in work:
        record = outcome.record
        assert record is not None  # a "create" outcome has its record
        piece = build_piece(
            record,
            filename=file_plan.filename,
            line=outcome.line,
            original_type=outcome.original_type,
        )
        piece.citation_key = outcome.key
        piece.created_by = user
        piece.keywords = list(dict.fromkeys(k.strip() for k in record.keywords if k.strip()))
        piece.normalise_date()
        pieces.append(piece)
        bylines.append(
            [
                (role, position, authors.note(author_spec(name)))
                for role, names in ((Role.AUTHOR, record.authors), (Role.EDITOR, record.editors))
                for position, name in enumerate(names)
            ]
        )
    authors.create_missing()
    written = 0
    for start in range(0, len(pieces), BATCH):
        batch = pieces[start : start + BATCH]
        Piece.objects.bulk_create(batch)
        rows: list[Authorship] = []
        for piece, byline in zip(batch, bylines[start : start + BATCH], strict=True):
            seen: set[tuple[int, str]] = set()
            for role, position, key in byline:
                author_id = authors.pk(key)
                if (author_id, role) in seen:  # the same name twice: keep the first, as save_piece
                    continue
                seen.add((author_id, role))
                rows.append(
                    Authorship(piece=piece, author_id=author_id, role=role, position=position)
                )
        Authorship.objects.bulk_create(rows)
        _index([p.pk for p in batch])
        # Bulk-created rows send no post_save, which queues a saved piece's Cite box texts.
        store_cite_texts.enqueue([p.pk for p in batch])
        written += len(batch)
        if progress is not None:
            progress(written)
    return pieces


def _index(ids: list[int]) -> None:
    """New pieces into the search index: in this transaction for a database engine.

    Bulk-created rows send no signals, so this is the one write to the index that does
    not come through ``library.search.signals``; engines outside the database get the
    ids after commit, as a signal would have scheduled them.
    """
    backend = get_backend()
    if backend.transactional:
        backend.add_bulk(documents_for(ids))
    else:
        index_pieces(ids)
