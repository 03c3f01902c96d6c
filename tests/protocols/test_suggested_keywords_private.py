"""Machine keyword suggestions (``Piece.suggested_keywords``, issue 14) are not the piece's
keywords: no page, feed, harvest, API answer or export carries them until an editor accepts
them."""

from __future__ import annotations

import pytest

from library.catalogue.exports import available_formats

pytestmark = pytest.mark.django_db

SUGGESTED = "zanzibarquokka"  # a word no other field of the piece contains


@pytest.fixture
def suggested(commentary):
    commentary.suggested_keywords = [SUGGESTED, "Quokka Zanzibar"]
    commentary.save(update_fields=["suggested_keywords"])
    return commentary


def _text(response) -> str:
    assert response.status_code == 200
    body = b"".join(response) if response.streaming else response.content
    return body.decode("utf-8").casefold()


def test_the_piece_page_and_its_embedded_metadata_leave_suggestions_out(client, suggested):
    page = _text(client.get(suggested.get_absolute_url()))
    assert "foreign fighters" in page  # the accepted keywords are there
    assert SUGGESTED not in page
    assert "quokka zanzibar" not in page


def test_feeds_oai_and_unapi_leave_suggestions_out(client, suggested):
    key = suggested.citation_key
    for url in ("/feeds/pieces.atom", "/feeds/pieces.rss"):
        assert SUGGESTED not in _text(client.get(url))
    record = client.get(
        "/oai/",
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": f"oai:testserver:{key}"},
    )
    text = _text(record)
    assert "foreign fighters" in text
    assert SUGGESTED not in text
    for fmt in ("ris", "bibtex"):
        assert SUGGESTED not in _text(client.get("/unapi/", {"id": key, "format": fmt}))


def test_the_api_and_every_export_format_leave_suggestions_out(client, suggested):
    detail = client.get(f"/api/pieces/{suggested.citation_key}/")
    data = detail.json()
    assert data["keywords"] == ["foreign fighters", "Mosul"]
    assert "suggested_keywords" not in data
    assert SUGGESTED not in _text(detail)
    for fmt, _label in available_formats():
        url = f"/pieces/{suggested.citation_key}/export/"
        assert SUGGESTED not in _text(client.get(url, {"format": fmt})), fmt
        assert SUGGESTED not in _text(client.get("/export/", {"format": fmt})), fmt
