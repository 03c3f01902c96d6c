"""Export -> import into an empty catalogue -> export again gives identical output.

Two catalogues: the citation tests' nasty corpus (LaTeX specials, <script>, Vietnamese and
transliterated Arabic names, organisations with "and", particles, every piece type), and
the demo catalogue with its vocabulary (so titles are protected with the regions and named
topics, as a real export does). Each is exported with the real writers, wiped, re-imported
through the importer (plan and apply, the database included) and exported again. The demo
catalogue's BibTeX and BibLaTeX exports are also read by bibtex and biber, which must not
warn.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from library.catalogue.demo import load_demo
from library.catalogue.models import Author, Piece
from library.catalogue.proper_nouns import catalogue_proper_nouns
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.catalogue.vocabulary import load_vocabulary
from library.citations.formats import get_writer
from library.citations.from_piece import record_from_piece
from library.imports.pieces import author_spec, build_piece
from library.imports.service import apply_plan, plan_import
from tests.citations.corpus import NASTY
from tests.citations.toolchain import compile_biblatex, compile_bibtex, need

pytestmark = pytest.mark.django_db
FILENAMES = {
    "bibtex": "export.bib",
    "biblatex": "export.bib",
    "ris": "export.ris",
    "csljson": "export.json",
}


def seed_nasty() -> None:
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


def seed_demo() -> None:
    load_vocabulary()
    load_demo()


def export(fmt: str) -> str:
    pieces = Piece.objects.with_related().order_by("citation_key")
    writer = get_writer(fmt, catalogue_proper_nouns())
    return "".join(writer.write(record_from_piece(p) for p in pieces))


def round_trip(fmt: str) -> tuple[str, str]:
    """The catalogue's export, and the export after wiping it and importing the first."""
    count = Piece.objects.count()
    first = export(fmt)
    with transaction.atomic():
        sid = transaction.savepoint()
        Piece.objects.all().delete()
        Author.objects.all().delete()
        plan = plan_import([(FILENAMES[fmt], first.encode("utf-8"))])
        file_plan = plan.files[0]
        assert (file_plan.found, len(file_plan.created)) == (count, count)
        assert all(not o.key_note for o in file_plan.created)  # every key kept
        # Everything our own writers put in a file has a place in the catalogue.
        assert [w for o in file_plan.created for w in o.warnings if "not kept" in w] == []
        apply_plan(plan)
        second = export(fmt)
        transaction.savepoint_rollback(sid)  # the seeded catalogue again, for the next format
    return first, second


@pytest.mark.parametrize("fmt", FILENAMES)
def test_export_import_export_of_the_nasty_records_is_identical(fmt):
    seed_nasty()
    first, second = round_trip(fmt)
    assert second == first


def test_the_demo_catalogue_round_trips_and_bibtex_and_biber_read_it_without_warnings(tmp_path):
    """One test, so the demo catalogue is loaded once (it is the slow part)."""
    seed_demo()
    for fmt in FILENAMES:
        first, second = round_trip(fmt)
        assert second == first, fmt

    need("pdflatex", "bibtex", "biber")
    undated = set(Piece.objects.filter(date=None).values_list("citation_key", flat=True))
    for style in ("plain", "apalike", "plainnat"):
        run = compile_bibtex(tmp_path / style, export("bibtex"), style)
        assert run.bib_returncode == 0, run.bib_output
        assert run.latex_errors == []
        # The one warning a record can earn: no date in the catalogue (none is invented).
        warnings = [
            w
            for w in run.bibtex_warnings
            if not ((m := re.match(r"Warning--empty year in (\S+)$", w)) and m[1] in undated)
        ]
        assert warnings == [], style
    run = compile_biblatex(tmp_path / "biblatex", export("biblatex"))
    assert run.bib_returncode == 0, run.bib_output
    assert "WARN" not in run.read(".blg"), run.read(".blg")
    assert "ERROR" not in run.read(".blg")
    assert run.latex_errors == []
