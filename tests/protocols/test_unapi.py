"""unAPI as Zotero's unAPI translator uses it: formats, formats for an id, one record."""

from __future__ import annotations

import rispy
from lxml import etree


def formats(response) -> dict[str, str]:
    root = etree.fromstring(response.content)
    assert root.tag == "formats"
    return {f.get("name"): f.get("type") for f in root.findall("format")}


def test_the_server_lists_the_export_formats(client):
    response = client.get("/unapi/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert formats(response) == {
        "bibtex": "application/x-bibtex",
        "biblatex": "application/x-bibtex",
        "ris": "application/x-research-info-systems",
        "csljson": "application/vnd.citationstyles.csl+json",
    }


def test_an_id_alone_answers_300_with_its_formats(client, commentary):
    response = client.get("/unapi/", {"id": commentary.citation_key})
    assert response.status_code == 300
    assert etree.fromstring(response.content).get("id") == commentary.citation_key
    assert "ris" in formats(response)


def test_an_id_and_a_format_give_the_record_itself(client, commentary):
    response = client.get("/unapi/", {"id": commentary.citation_key, "format": "ris"})
    assert response.status_code == 200
    (entry,) = rispy.loads(response.content.decode())
    assert entry["type_of_reference"] == "RPRT"
    assert entry.get("title", entry.get("primary_title", "")).startswith("Mosul Operation")
    bib = client.get("/unapi/", {"id": commentary.citation_key, "format": "bibtex"})
    assert f"{{{commentary.citation_key}," in bib.content.decode()


def test_unknown_ids_and_formats_get_the_status_codes_the_spec_names(client, commentary):
    assert client.get("/unapi/", {"id": "nosuchkey2020x"}).status_code == 404
    assert (
        client.get("/unapi/", {"id": commentary.citation_key, "format": "marc"}).status_code == 406
    )
    assert client.get("/unapi/", {"format": "ris"}).status_code == 400
    assert client.get("/unapi/", {"id": "a\x00b", "format": "ris"}).status_code == 404
