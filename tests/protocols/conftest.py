"""Pieces with every field the embedded formats carry, and page parsing as readers do it."""

from __future__ import annotations

import datetime
from collections import defaultdict

import pytest
from lxml import html

from library.catalogue.models import DatePrecision, PieceType


def meta_tags(page: bytes | str) -> dict[str, list[str]]:
    """``<meta name content>`` pairs the way Zotero's Embedded Metadata translator reads them:
    every ``meta`` in the document, by name (case as written), repeated names kept in order."""
    tree = html.fromstring(page)
    tags: dict[str, list[str]] = defaultdict(list)
    for meta in tree.xpath("//meta[@name][@content]"):
        tags[meta.get("name")].append(meta.get("content"))
    return dict(tags)


@pytest.fixture
def commentary(make_piece):
    """An RSIS-style commentary: two people, an organisation, series, number, DOI, tags."""
    piece = make_piece(
        "Mosul Operation: What Next for IS?",
        subtitle="The Coming Dispersal",
        authors=("Abdul Basit", "Jaap de Wilde", "{International Crisis Group}"),
        date=datetime.date(2016, 10, 28),
        date_precision=DatePrecision.DAY,
        type=PieceType.COMMENTARY,
        publisher="S. Rajaratnam School of International Studies",
        series="RSIS Commentaries",
        number="263/2016",
        doi="10.5555/rsis.2016.263",
        synopsis="The battle for Mosul will scatter fighters & <ideas>.",
        topics=("terrorism",),
        regions=("iraq",),
        url="https://www.rsis.edu.sg/rsis-publication/cens/co16263/",
    )
    # save_piece takes keywords with the tags; set them directly, as an import would.
    piece.keywords = ["foreign fighters", "Mosul"]
    piece.save(update_fields=["keywords"])
    return piece


@pytest.fixture
def article(make_piece):
    """A journal article dated to the month, with volume, issue and pages."""
    return make_piece(
        "Securitization and Desecuritization",
        authors=("Ole Wæver",),
        date=datetime.date(1995, 3, 1),
        date_precision=DatePrecision.MONTH,
        type=PieceType.ARTICLE,
        container_title="On Security",
        volume="12",
        issue="3",
        pages="46–86",
        publisher="Columbia University Press",
    )


def ordered_meta(page: bytes | str) -> list[tuple[str, str]]:
    """Every ``<meta name content>`` in document order, as the translator walks them."""
    tree = html.fromstring(page)
    return [(m.get("name"), m.get("content")) for m in tree.xpath("//meta[@name][@content]")]
