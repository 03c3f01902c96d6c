"""Export -> import into an empty catalogue -> export again gives identical output.

The catalogue is seeded with the citation tests' nasty corpus (LaTeX specials, <script>,
Vietnamese and transliterated Arabic names, organisations with "and", particles, every
piece type), exported with the real writers, wiped, re-imported and exported again.
"""

from __future__ import annotations

import pytest

from library.catalogue.models import Author, Piece
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.citations.formats import get_writer
from library.citations.from_piece import record_from_piece
from library.imports.pieces import author_spec, build_piece
from library.imports.service import apply_plan, plan_import
from tests.citations.corpus import NASTY

pytestmark = pytest.mark.django_db
FILENAMES = {"bibtex": "export.bib", "ris": "export.ris", "csljson": "export.json"}


def seed() -> None:
    for record in NASTY:
        piece = build_piece(record, filename="seed", line=None, original_type=record.type)
        piece.citation_key = record.key
        save_piece(
            piece,
            PieceContributors(
                authors=[author_spec(n) for n in record.authors],
                editors=[author_spec(n) for n in record.editors],
            ),
            PieceTags(keywords=list(record.keywords)),
        )


def export(fmt: str) -> str:
    pieces = Piece.objects.with_related().order_by("citation_key")
    return "".join(get_writer(fmt).write(record_from_piece(p) for p in pieces))


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csljson"])
def test_export_import_export_is_identical(fmt):
    seed()
    first = export(fmt)
    Piece.objects.all().delete()
    Author.objects.all().delete()

    plan = plan_import([(FILENAMES[fmt], first.encode("utf-8"))])
    file_plan = plan.files[0]
    assert (file_plan.found, len(file_plan.created)) == (len(NASTY), len(NASTY))
    assert all(not o.key_note for o in file_plan.created)  # every key kept
    # Everything our own writers put in a file has a place in the catalogue.
    assert [w for o in file_plan.created for w in o.warnings if "not kept" in w] == []
    apply_plan(plan)

    assert export(fmt) == first
