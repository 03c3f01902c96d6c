"""OAI-PMH requests one by one: the answers and every error condition the protocol names."""

from __future__ import annotations

import pytest
from django.core import signing
from lxml import etree

from library.protocols import oai

NS = {"o": oai.OAI_NS, "dc": oai.DC_NS, "oai_dc": oai.OAI_DC_NS}


def ask(client, method: str = "get", **params) -> etree._Element:
    response = getattr(client, method)("/oai/", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return etree.fromstring(response.content)


def error_code(root: etree._Element) -> str:
    (error,) = root.xpath("o:error", namespaces=NS)
    assert len(root) == 3  # responseDate, request, error: nothing else
    return error.get("code")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Dance"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "Identify", "extra": "1"}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2020-01-01",
                "until": "2020-01-01T00:00:00Z",
            },
            "badArgument",
        ),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "oai_dc",
                "from": "2021-01-01",
                "until": "2020-01-01",
            },
            "badArgument",
        ),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "colour:red"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "topic:nope"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "forged"}, "badResumptionToken"),
        (
            {"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
            "badArgument",
        ),
        ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
        (
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x:y"},
            "idDoesNotExist",
        ),
        (
            {"verb": "GetRecord", "metadataPrefix": "mods", "identifier": "oai:x:y"},
            "cannotDisseminateFormat",
        ),
        ({"verb": "ListMetadataFormats", "identifier": "oai:testserver:none"}, "idDoesNotExist"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}, "noRecordsMatch"),
    ],
)
def test_each_error_condition_answers_with_its_code(client, db, params, code):
    root = ask(client, **params)
    assert error_code(root) == code
    echoed = root.find("o:request", NS)
    if code in ("badVerb", "badArgument"):
        assert dict(echoed.attrib) == {}
    assert echoed.text == "http://testserver/oai/"


def test_a_repeated_argument_is_a_bad_argument(client, db):
    response = client.get("/oai/?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc")
    assert error_code(etree.fromstring(response.content)) == "badArgument"
    response = client.get("/oai/?verb=Identify&verb=Identify")
    assert error_code(etree.fromstring(response.content)) == "badVerb"


def test_a_token_for_another_verb_is_refused(client, commentary):
    token = signing.dumps(
        {"verb": "ListIdentifiers", "prefix": "oai_dc", "after": 0, "cursor": 0},
        salt=oai.TOKEN_SALT,
    )
    root = ask(client, verb="ListRecords", resumptionToken=token)
    assert error_code(root) == "badResumptionToken"


def test_post_is_answered_like_get(client, commentary):
    root = ask(client, "post", verb="Identify")
    assert root.findtext("o:Identify/o:repositoryName", namespaces=NS) == "Dossier"
    assert root.findtext("o:Identify/o:deletedRecord", namespaces=NS) == "no"


def test_list_metadata_formats_offers_oai_dc(client, commentary):
    root = ask(
        client, verb="ListMetadataFormats", identifier=f"oai:testserver:{commentary.citation_key}"
    )
    prefixes = root.xpath("//o:metadataPrefix/text()", namespaces=NS)
    assert prefixes == ["oai_dc"]


def test_a_record_in_dublin_core_has_every_element(client, commentary):
    root = ask(
        client,
        verb="GetRecord",
        metadataPrefix="oai_dc",
        identifier=f"oai:testserver:{commentary.citation_key}",
    )
    dc = root.find(".//oai_dc:dc", NS)
    values = {}
    for element in dc:
        values.setdefault(etree.QName(element).localname, []).append(element.text)
    assert values == {
        "title": ["Mosul Operation: What Next for IS? The Coming Dispersal"],
        "creator": ["Basit, Abdul", "Wilde, Jaap de", "International Crisis Group"],
        "subject": ["foreign fighters", "Mosul", "Terrorism"],
        "description": ["The battle for Mosul will scatter fighters & <ideas>."],
        "publisher": ["S. Rajaratnam School of International Studies"],
        "date": ["2016-10-28"],
        "type": ["Text", "Commentary"],
        "identifier": [
            f"http://testserver{commentary.get_absolute_url()}",
            "https://doi.org/10.5555/rsis.2016.263",
            "https://www.rsis.edu.sg/rsis-publication/cens/co16263/",
        ],
        "language": ["en"],
        "relation": ["RSIS Commentaries, no. 263/2016"],
        "coverage": ["Iraq"],
    }


def test_the_last_page_carries_an_empty_token_with_the_list_size(client, make_piece, monkeypatch):
    monkeypatch.setattr(oai, "PAGE_SIZE", 2)
    for n in range(3):
        make_piece(f"Piece {n}")
    first = ask(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.find(".//o:resumptionToken", NS)
    assert (token.get("completeListSize"), token.get("cursor")) == ("3", "0")
    second = ask(client, verb="ListIdentifiers", resumptionToken=token.text)
    last = second.find(".//o:resumptionToken", NS)
    assert (last.get("completeListSize"), last.get("cursor"), last.text) == ("3", "2", None)
    assert len(second.findall(".//o:header", NS)) == 1
