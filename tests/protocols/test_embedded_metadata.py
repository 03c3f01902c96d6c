"""Piece pages as Zotero's Embedded Metadata translator and Google Scholar read them."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from urllib.parse import parse_qs

import jsonschema
import pytest
from django.core.files.base import ContentFile
from lxml import html

from library.catalogue.models import DatePrecision, PieceType
from tests.protocols.conftest import meta_tags

SCHEMA = json.loads((Path(__file__).parent / "schemaorg-works.schema.json").read_text())


def page_of(client, piece) -> bytes:
    response = client.get(piece.get_absolute_url())
    assert response.status_code == 200
    return response.content


def json_ld(page: bytes) -> dict:
    scripts = html.fromstring(page).xpath('//script[@type="application/ld+json"]/text()')
    assert len(scripts) == 1
    return json.loads(scripts[0])


def coins_of(element) -> dict[str, list[str]]:
    spans = element.xpath('.//span[contains(concat(" ", @class, " "), " Z3988 ")]')
    assert len(spans) == 1
    return parse_qs(spans[0].get("title"), keep_blank_values=False, strict_parsing=True)


def test_a_commentary_page_carries_every_highwire_field_a_report_needs(client, commentary):
    tags = meta_tags(page_of(client, commentary))
    assert tags["citation_title"] == ["Mosul Operation: What Next for IS? The Coming Dispersal"]
    assert tags["citation_author"] == [
        "Basit, Abdul",
        "de Wilde, Jaap",
        "International Crisis Group",
    ]
    assert tags["citation_publication_date"] == ["2016/10/28"]
    institution = "S. Rajaratnam School of International Studies"
    # Zotero types the item a report from citation_technical_report_institution.
    assert tags["citation_technical_report_institution"] == [institution]
    assert tags["citation_technical_report_number"] == ["263/2016"]
    assert tags["citation_publisher"] == [institution]
    assert tags["citation_series_title"] == ["RSIS Commentaries"]
    assert tags["citation_doi"] == ["10.5555/rsis.2016.263"]
    assert tags["citation_language"] == ["en"]
    assert tags["citation_keywords"] == ["foreign fighters", "Mosul", "Terrorism"]
    assert tags["citation_abstract_html_url"] == [
        f"http://testserver{commentary.get_absolute_url()}"
    ]
    assert "citation_journal_title" not in tags
    assert "citation_pdf_url" not in tags  # no attachment
    assert tags["DC.description"] == ["The battle for Mosul will scatter fighters & <ideas>."]
    assert tags["DC.date"] == ["2016-10-28"]
    assert tags["DC.creator"] == tags["citation_author"]


def test_an_article_page_carries_the_journal_fields_and_a_month_date(client, article):
    tags = meta_tags(page_of(client, article))
    assert tags["citation_author"] == ["Wæver, Ole"]
    assert tags["citation_publication_date"] == ["1995/03"]
    assert tags["citation_journal_title"] == ["On Security"]
    assert tags["citation_volume"] == ["12"]
    assert tags["citation_issue"] == ["3"]
    assert tags["citation_firstpage"] == ["46"]
    assert tags["citation_lastpage"] == ["86"]
    assert "citation_technical_report_institution" not in tags
    assert tags["DC.date"] == ["1995-03"]


def test_a_year_only_date_is_written_as_the_year_alone(client, make_piece):
    piece = make_piece(
        "People, States and Fear",
        authors=("Barry Buzan",),
        date=datetime.date(1991, 1, 1),
        date_precision=DatePrecision.YEAR,
        type=PieceType.BOOK,
        publisher="Harvester Wheatsheaf",
    )
    page = page_of(client, piece)
    assert meta_tags(page)["citation_publication_date"] == ["1991"]
    data = json_ld(page)
    assert data["datePublished"] == "1991"
    assert data["@type"] == "Book"
    assert coins_of(html.fromstring(page))["rft.date"] == ["1991"]


@pytest.mark.parametrize(
    ("precision", "value"),
    [
        (DatePrecision.YEAR, "2016"),
        (DatePrecision.MONTH, "2016-10"),
        (DatePrecision.DAY, "2016-10-28"),
    ],
)
def test_time_elements_state_the_date_at_its_precision(client, make_piece, precision, value):
    piece = make_piece("Dated", date=datetime.date(2016, 10, 28), date_precision=precision)
    for url in (piece.get_absolute_url(), "/pieces/"):
        tree = html.fromstring(client.get(url).content)
        assert tree.xpath("//time/@datetime") == [value]


def test_an_attached_pdf_is_named_in_citation_pdf_url(client, commentary, reader):
    commentary.attachment.save("x.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
    # ATTACHMENTS_PUBLIC=0: only a reader who may download the PDF is told where it is.
    assert "citation_pdf_url" not in meta_tags(page_of(client, commentary))
    client.force_login(reader)
    tags = meta_tags(page_of(client, commentary))
    assert tags["citation_pdf_url"] == [
        f"http://testserver/pieces/{commentary.citation_key}/attachment/"
    ]


def test_the_piece_page_has_a_coins_span_zotero_reads_as_a_report(client, commentary):
    coins = coins_of(html.fromstring(page_of(client, commentary)))
    assert coins["ctx_ver"] == ["Z39.88-2004"]
    assert coins["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:book"]
    assert coins["rft.genre"] == ["report"]
    assert coins["rft.btitle"] == ["Mosul Operation: What Next for IS? The Coming Dispersal"]
    assert coins["rft.aulast"] == ["Basit"]
    assert coins["rft.aufirst"] == ["Abdul"]
    assert coins["rft.au"] == ["de Wilde, Jaap", "International Crisis Group"]
    assert coins["rft.date"] == ["2016-10-28"]
    assert coins["rft.pub"] == ["S. Rajaratnam School of International Studies"]
    assert coins["rft.series"] == ["RSIS Commentaries"]
    assert coins["rft_id"] == [
        "info:doi/10.5555/rsis.2016.263",
        f"http://testserver{commentary.get_absolute_url()}",
    ]


def test_an_article_coins_span_uses_the_journal_format(client, article):
    coins = coins_of(html.fromstring(page_of(client, article)))
    assert coins["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:journal"]
    assert coins["rft.atitle"] == ["Securitization and Desecuritization"]
    assert coins["rft.jtitle"] == ["On Security"]
    assert coins["rft.volume"] == ["12"]
    assert coins["rft.pages"] == ["46–86"]
    assert coins["rft.date"] == ["1995-03"]


@pytest.mark.parametrize("where", ["browse", "topic", "region", "author", "home", "search"])
def test_each_result_of_a_list_page_has_its_own_coins_span(client, commentary, article, where):
    urls = {
        "browse": "/pieces/",
        "topic": "/topics/terrorism/",
        "region": "/regions/iraq/",
        "author": commentary.authors[0].get_absolute_url(),
        "home": "/",
        "search": "/search/?q=mosul",
    }
    tree = html.fromstring(client.get(urls[where]).content)
    items = tree.xpath('//li[contains(@class, "piece-item")]')
    assert items
    titles = set()
    for item in items:
        coins = coins_of(item)
        titles.add((coins.get("rft.btitle") or coins.get("rft.atitle"))[0])
        keys = item.xpath('.//abbr[@class="unapi-id"]/@title')
        assert len(keys) == 1
    assert "Mosul Operation: What Next for IS? The Coming Dispersal" in titles


def test_the_json_ld_is_a_schema_org_report_with_every_field(client, commentary):
    data = json_ld(page_of(client, commentary))
    jsonschema.validate(data, SCHEMA)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Report"
    assert data["name"] == "Mosul Operation: What Next for IS? The Coming Dispersal"
    assert [a["name"] for a in data["author"]] == [
        "Abdul Basit",
        "Jaap de Wilde",
        "International Crisis Group",
    ]
    assert data["author"][0] == {
        "@type": "Person",
        "name": "Abdul Basit",
        "givenName": "Abdul",
        "familyName": "Basit",
    }
    assert data["author"][2] == {"@type": "Organization", "name": "International Crisis Group"}
    assert data["datePublished"] == "2016-10-28"
    assert data["reportNumber"] == "263/2016"
    assert data["isPartOf"] == {"@type": "CreativeWorkSeries", "name": "RSIS Commentaries"}
    assert data["sameAs"] == "https://doi.org/10.5555/rsis.2016.263"
    assert data["keywords"] == ["foreign fighters", "Mosul", "Terrorism"]
    assert data["spatialCoverage"] == [{"@type": "Place", "name": "Iraq"}]


def test_the_json_ld_of_an_article_nests_issue_volume_and_journal(client, article):
    data = json_ld(page_of(client, article))
    jsonschema.validate(data, SCHEMA)
    assert data["@type"] == "ScholarlyArticle"
    assert data["isPartOf"] == {
        "@type": "PublicationIssue",
        "issueNumber": "3",
        "isPartOf": {
            "@type": "PublicationVolume",
            "volumeNumber": "12",
            "isPartOf": {"@type": "Periodical", "name": "On Security"},
        },
    }
    assert (data["pageStart"], data["pageEnd"]) == ("46", "86")


@pytest.mark.parametrize("kind", [value for value, _ in PieceType.choices])
def test_every_piece_type_gives_valid_json_ld(client, make_piece, kind):
    piece = make_piece(f"A {kind}", type=kind, publisher="Somewhere", container_title="Host")
    jsonschema.validate(json_ld(page_of(client, piece)), SCHEMA)


def test_a_nasty_title_cannot_break_out_of_the_meta_tags_or_the_script(client, make_piece):
    title = '</script><script>alert(1)</script> "quoted" & <b>'
    piece = make_piece(title, authors=('Ann "<x>" O\'Neil',))
    page = page_of(client, piece)
    assert b"<script>alert(1)" not in page
    tags = meta_tags(page)
    assert tags["citation_title"] == [title]
    (author,) = tags["citation_author"]
    assert '"<x>"' in author
    assert author.endswith("O'Neil, Ann")
    assert json_ld(page)["name"] == title
    assert coins_of(html.fromstring(page))["rft.btitle"] == [title]


def test_every_page_links_the_unapi_server_and_the_opensearch_description(client, commentary):
    tree = html.fromstring(page_of(client, commentary))
    assert tree.xpath('//link[@rel="unapi-server"]/@href') == ["/unapi/"]
    assert tree.xpath('//link[@rel="search"]/@type') == ["application/opensearchdescription+xml"]
    assert tree.xpath('//abbr[@class="unapi-id"]/@title') == [commentary.citation_key]
