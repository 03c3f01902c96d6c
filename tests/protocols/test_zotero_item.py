"""The item Zotero's Embedded Metadata translator saves from a piece page, for every type."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile

from library.catalogue.models import DatePrecision, PieceType
from tests.protocols.conftest import ordered_meta
from tests.protocols.zotero import zotero_item

EXPECTED_TYPES = {
    PieceType.COMMENTARY: "report",
    PieceType.REPORT: "report",
    PieceType.POLICY_BRIEF: "report",
    PieceType.ARTICLE: "journalArticle",
    PieceType.BOOK: "book",
    PieceType.CHAPTER: "bookSection",
    PieceType.WEB_ARTICLE: "webpage",
    PieceType.THESIS: "thesis",
    PieceType.OTHER: "document",
}


def item_for(client, piece) -> dict:
    return zotero_item(ordered_meta(client.get(piece.get_absolute_url()).content))


@pytest.mark.parametrize(("kind", "zotero_type"), list(EXPECTED_TYPES.items()))
def test_each_piece_type_is_saved_as_the_right_zotero_item_type(
    client, make_piece, kind, zotero_type
):
    piece = make_piece(
        f"A {kind}", type=kind, publisher="An Institute", container_title="A Container"
    )
    assert item_for(client, piece)["itemType"] == zotero_type


def test_a_commentary_becomes_a_complete_report(client, commentary, reader):
    commentary.attachment.save("x.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
    # The Connector reads the page in the user's browser, signed in: the PDF is theirs to
    # save (ATTACHMENTS_PUBLIC=0 names it only to readers who may download it).
    client.force_login(reader)
    item = item_for(client, commentary)
    page = f"http://testserver{commentary.get_absolute_url()}"
    assert item == {
        "itemType": "report",
        "title": "Mosul Operation: What Next for IS? The Coming Dispersal",
        "creators": [
            {"lastName": "Basit", "firstName": "Abdul"},
            {"lastName": "de Wilde", "firstName": "Jaap"},
            # Highwire has no way to mark an organisation; Zotero splits it like a person.
            {"lastName": "Group", "firstName": "International Crisis"},
        ],
        "date": "2016/10/28",
        "institution": "S. Rajaratnam School of International Studies",
        "publisher": "S. Rajaratnam School of International Studies",
        "number": "263/2016",
        "series": "RSIS Commentaries",
        "DOI": "10.5555/rsis.2016.263",
        "language": "en",
        "url": page,
        "attachments": [{"title": "Full Text PDF", "url": f"{page}attachment/"}],
        "abstractNote": "The battle for Mosul will scatter fighters & <ideas>.",
    }


def test_an_article_becomes_a_journal_article_with_pages(client, article):
    item = item_for(client, article)
    assert item["itemType"] == "journalArticle"
    assert item["publicationTitle"] == "On Security"
    assert (item["volume"], item["issue"], item["pages"]) == ("12", "3", "46-86")
    assert item["creators"] == [{"lastName": "Wæver", "firstName": "Ole"}]
    assert item["date"] == "1995/03"
    assert item["attachments"] == [{"title": "Snapshot"}]


def test_a_lone_author_with_spaces_on_both_sides_of_the_comma_stays_one_person(client, make_piece):
    piece = make_piece(
        "One author",
        authors=("Nguyen Van, Thi Binh",),
        date=datetime.date(2001, 1, 1),
        date_precision=DatePrecision.YEAR,
    )
    assert item_for(client, piece)["creators"] == [
        {"lastName": "Nguyen Van", "firstName": "Thi Binh"}
    ]
