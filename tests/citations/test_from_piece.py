"""Records built from catalogued pieces: the one place the citation layer meets Django."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import pytest

from library.catalogue.authors import AuthorSpec
from library.catalogue.models import AuthorKind, DatePrecision, PieceType
from library.catalogue.services import PieceContributors, set_contributors
from library.citations.from_piece import record_from_piece
from library.citations.records import Name

PACKAGE = Path(__file__).resolve().parents[2] / "library" / "citations"


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        (DatePrecision.DAY, (2016, 10, 28)),
        (DatePrecision.MONTH, (2016, 10, None)),
        (DatePrecision.YEAR, (2016, None, None)),
    ],
)
def test_record_date_stops_at_the_pieces_precision(make_piece, precision, expected):
    piece = make_piece("Mosul", date=datetime.date(2016, 10, 28), date_precision=precision)
    record = record_from_piece(piece)
    assert (record.year, record.month, record.day) == expected


def test_record_without_a_date_has_no_year(make_piece):
    record = record_from_piece(make_piece("Undated", date=None))
    assert record.year is None


def test_record_maps_piece_fields_authors_and_editors(make_piece):
    piece = make_piece(
        "Jihadism in the Gulf",
        type=PieceType.CHAPTER,
        subtitle="A Survey",
        container_title="Handbook",
        pages="45–67",
        synopsis="What it says.",
        citation_key="rahman2018jihadism",
    )
    piece.keywords = ["Gulf", "jihadism"]
    piece.save()
    set_contributors(
        piece,
        PieceContributors(
            authors=[AuthorSpec(family="Raḥmān", given="Ḥasan", particle="al-")],
            editors=[
                AuthorSpec(family="King", given="Martin Luther", suffix="Jr."),
                AuthorSpec(family="Centre for X and Y", kind=AuthorKind.ORGANISATION),
            ],
        ),
    )
    record = record_from_piece(piece)
    assert record.key == "rahman2018jihadism"
    assert record.type == "chapter"
    assert (record.title, record.subtitle) == ("Jihadism in the Gulf", "A Survey")
    assert record.authors == (Name(family="Raḥmān", given="Ḥasan", particle="al-"),)
    assert record.editors == (
        Name(family="King", given="Martin Luther", suffix="Jr."),
        Name(family="Centre for X and Y", is_organisation=True),
    )
    assert record.abstract == "What it says."
    assert record.keywords == ("Gulf", "jihadism")
    assert record.container_title == "Handbook"
    assert record.pages == "45–67"


def test_only_from_piece_may_touch_django():
    for module in PACKAGE.glob("*.py"):
        if module.name == "from_piece.py":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(name.startswith(("django", "library.catalogue")) for name in imported), (
            module
        )
