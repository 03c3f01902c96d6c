"""Pieces through the API: browse filters, cursor pages, details with ETags, editors' writes."""

from __future__ import annotations

import datetime
import json

import pytest

from library.catalogue.models import Piece
from library.search import service

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(make_piece):
    return [
        make_piece(
            "Mosul Operation: The Endgame for IS?",
            authors=("Abdul Basit",),
            topics=("terrorism",),
            regions=("iraq",),
        ),
        make_piece(
            "After the Caliphate",
            authors=("Rohan Gunaratna",),
            date=datetime.date(2017, 3, 1),
            topics=("terrorism",),
        ),
        make_piece("Undated notes", authors=("Kumar Ramakrishna",), date=None),
        make_piece("Maritime Security", authors=("Abdul Basit",), date=datetime.date(2015, 1, 1)),
    ]


def test_the_list_is_newest_first_with_undated_pieces_last(client, catalogue):
    data = client.get("/api/pieces/").json()
    assert [p["title"] for p in data["results"]] == [
        "After the Caliphate",
        "Mosul Operation: The Endgame for IS?",
        "Maritime Security",
        "Undated notes",
    ]
    assert data["next"] is None
    first = data["results"][0]
    assert first["key"] == "gunaratna2017after"
    assert first["authors"] == [
        {"slug": "rohan-gunaratna", "name": "Rohan Gunaratna", "kind": "person"}
    ]
    assert first["topics"] == [{"slug": "terrorism", "name": "Terrorism"}]
    assert first["api_url"] == "/api/pieces/gunaratna2017after/"


def test_the_browse_filters_combine_as_on_the_pieces_page(client, catalogue):
    def titles(query: str) -> list[str]:
        return [p["title"] for p in client.get(f"/api/pieces/?{query}").json()["results"]]

    assert titles("topic=terrorism&author=abdul-basit") == ["Mosul Operation: The Endgame for IS?"]
    assert titles("region=iraq") == ["Mosul Operation: The Endgame for IS?"]
    assert titles("year=2015") == ["Maritime Security"]
    assert titles("topic=no-such-topic") == []
    assert client.get("/api/pieces/?type=not-a-type").status_code == 422


def test_cursor_pages_walk_the_whole_list_once_even_when_pieces_are_added(
    client, catalogue, make_piece
):
    seen: list[str] = []
    url = "/api/pieces/?limit=1"
    while url:
        data = client.get(url).json()
        seen += [p["key"] for p in data["results"]]
        if len(seen) == 1:
            make_piece("Newer than everything", date=datetime.date(2030, 1, 1))
        url = data["next_url"]
    assert seen == [p["key"] for p in client.get("/api/pieces/").json()["results"]][1:]


def test_a_cursor_keeps_the_filters_and_a_forged_one_is_a_400(client, catalogue):
    data = client.get("/api/pieces/?topic=terrorism&limit=1").json()
    assert "topic=terrorism" in data["next_url"]
    rest = client.get(data["next_url"]).json()
    assert [p["title"] for p in rest["results"]] == ["Mosul Operation: The Endgame for IS?"]
    response = client.get("/api/pieces/?cursor=bm90IGpzb24")
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


def test_a_detail_has_every_field_and_answers_304_to_its_etag(client, catalogue):
    response = client.get("/api/pieces/basit2016mosul/")
    assert response.status_code == 200
    data = response.json()
    assert data["date"] == "2016-10-28"
    assert data["html_url"] == "/pieces/basit2016mosul/"
    etag = response["ETag"]
    again = client.get("/api/pieces/basit2016mosul/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    weak = client.get("/api/pieces/basit2016mosul/", HTTP_IF_NONE_MATCH=f"W/{etag}")
    assert weak.status_code == 304


def test_the_etag_changes_when_an_author_is_renamed(client, catalogue):
    etag = client.get("/api/pieces/basit2016mosul/")["ETag"]
    author = catalogue[0].authors[0]
    author.given = "A."
    author.save()
    response = client.get("/api/pieces/basit2016mosul/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["authors"][0]["name"] == "A. Basit"


def test_an_unknown_piece_is_a_json_404(client, db):
    response = client.get("/api/pieces/nobody2000nothing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"


NEW_PIECE = {
    "type": "commentary",
    "title": "Jihadist Networks in Mindanao",
    "date": "2017-06",
    "authors": ["Rohan Gunaratna", "{International Crisis Group}"],
    "topics": ["terrorism"],
    "regions": ["philippines"],
    "keywords": ["Marawi"],
    "series": "RSIS Commentaries",
}


def test_an_editor_token_creates_a_piece_that_search_finds_at_once(
    client, vocabulary, editor, editor_token, bearer
):
    response = client.post(
        "/api/pieces/",
        json.dumps(NEW_PIECE),
        content_type="application/json",
        **bearer(editor_token),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["key"] == "gunaratna2017jihadist"
    assert response["Location"] == "/api/pieces/gunaratna2017jihadist/"
    assert data["date"] == "2017-06"
    assert [a["kind"] for a in data["authors"]] == ["person", "organisation"]
    assert data["regions"] == [{"slug": "philippines", "name": "Philippines"}]
    piece = Piece.objects.get(citation_key="gunaratna2017jihadist")
    assert piece.created_by == editor
    found = service.search("Mindanao")
    assert [p.citation_key for p, _ in found.entries] == ["gunaratna2017jihadist"]


def test_invalid_writes_are_422_with_a_reason(client, vocabulary, editor_token, bearer):
    def post(body: dict):
        return client.post(
            "/api/pieces/",
            json.dumps(body),
            content_type="application/json",
            **bearer(editor_token),
        )

    assert "date" in post({**NEW_PIECE, "date": "2017-13"}).json()["detail"]
    assert "topics" in post({**NEW_PIECE, "topics": ["knitting"]}).json()["detail"]
    assert post({**NEW_PIECE, "title": "bad\x00title"}).status_code == 422
    assert post({**NEW_PIECE, "series": "RSIS\x06"}).status_code == 422
    assert post({**NEW_PIECE, "authors": ["Abdul\x1bBasit"]}).status_code == 422
    assert post({**NEW_PIECE, "body": "One.\n\nTwo,\tindented."}).status_code == 201
    assert post({**NEW_PIECE, "url": "not a url"}).status_code == 422
    assert post({"title": ""}).status_code == 422
    assert Piece.objects.count() == 1


def test_put_replaces_patch_changes_and_the_key_never_changes(
    client, catalogue, editor_token, bearer
):
    url = "/api/pieces/basit2016mosul/"
    auth = bearer(editor_token)
    patched = client.patch(
        url, json.dumps({"subtitle": "A View", "topics": []}), "application/json", **auth
    )
    assert patched.status_code == 200, patched.content
    data = patched.json()
    assert (data["subtitle"], data["topics"], data["title"]) == (
        "A View",
        [],
        "Mosul Operation: The Endgame for IS?",
    )
    assert data["regions"] == [{"slug": "iraq", "name": "Iraq"}]
    replaced = client.put(url, json.dumps({"title": "Mosul"}), "application/json", **auth)
    assert replaced.status_code == 200
    assert replaced.json()["authors"] == []
    assert replaced.json()["key"] == "basit2016mosul"
    renamed = client.put(
        url, json.dumps({"title": "Mosul", "citation_key": "other2016"}), "application/json", **auth
    )
    assert renamed.status_code == 422
    assert service.search("Mosul").entries[0][0].title == "Mosul"


def test_delete_removes_the_piece_and_its_index_entry(client, catalogue, editor_token, bearer):
    response = client.delete("/api/pieces/basit2016mosul/", **bearer(editor_token))
    assert response.status_code == 204
    assert not Piece.objects.filter(citation_key="basit2016mosul").exists()
    assert service.search("Endgame").total == 0
    assert client.delete("/api/pieces/basit2016mosul/", **bearer(editor_token)).status_code == 404


def test_anonymous_writes_are_401_and_readers_403(client, catalogue, reader_token, bearer):
    body = json.dumps(NEW_PIECE)
    assert client.post("/api/pieces/", body, "application/json").status_code == 401
    assert client.delete("/api/pieces/basit2016mosul/").status_code == 401
    refused = client.post("/api/pieces/", body, "application/json", **bearer(reader_token))
    assert refused.status_code == 403
    assert "catalogue.add_piece" in refused.json()["detail"]
    assert client.delete("/api/pieces/basit2016mosul/", **bearer(reader_token)).status_code == 403


def test_a_session_write_needs_the_csrf_token(catalogue, editor, vocabulary):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    body = json.dumps(NEW_PIECE)
    refused = browser.post("/api/pieces/", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    browser.get("/api/tokens/")  # any page that renders a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/pieces/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201, accepted.content
    # Reading needs no CSRF token.
    assert browser.get("/api/pieces/basit2016mosul/").status_code == 200


def test_a_bad_token_is_refused_even_where_anonymous_reading_is_allowed(client, catalogue):
    response = client.get("/api/pieces/", HTTP_AUTHORIZATION="Bearer dos_not-a-real-token")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("fmt", "media_type", "marker"),
    [
        ("bibtex", "application/x-bibtex", "@"),
        ("biblatex", "application/x-bibtex", "@"),
        ("ris", "application/x-research-info-systems", "TY  - "),
        ("csljson", "application/vnd.citationstyles.csl+json", '"id": "basit2016mosul"'),
        ("bibliography-text", "text/plain", "Basit"),
        ("bibliography-html", "text/html", "<li>"),
    ],
)
def test_each_export_format_for_a_piece_and_for_a_filter(
    client, catalogue, fmt, media_type, marker
):
    one = client.get(f"/api/pieces/basit2016mosul/export/{fmt}/")
    assert one.status_code == 200
    assert one["Content-Type"].split(";")[0] == media_type
    assert marker in b"".join(one.streaming_content).decode()
    many = client.get(f"/api/export/{fmt}/?topic=terrorism")
    text = b"".join(many.streaming_content).decode()
    assert "basit2016mosul" in text or "Basit" in text
    assert "Maritime" not in text


def test_an_export_of_an_unknown_topic_is_a_400(client, catalogue):
    response = client.get("/api/export/bibtex/?topic=knitting")
    assert response.status_code == 400
    assert "knitting" in response.json()["detail"]


def test_a_token_write_needs_no_csrf_token_even_where_csrf_is_enforced(
    vocabulary, editor_token, bearer
):
    from django.test import Client

    script = Client(enforce_csrf_checks=True)
    response = script.post(
        "/api/pieces/", json.dumps(NEW_PIECE), "application/json", **bearer(editor_token)
    )
    assert response.status_code == 201


def test_a_token_write_has_the_signed_in_body_limit_not_the_anonymous_one(
    client, vocabulary, editor_token, bearer, settings
):
    settings.DOSSIER_MAX_ANONYMOUS_REQUEST_BYTES = 4096
    piece = NEW_PIECE | {"body": "Mindanao " * 2000}  # 18 kB: over the anonymous limit
    body = json.dumps(piece)
    refused = client.post("/api/pieces/", body, content_type="application/json")
    assert refused.status_code == 413  # no credentials: the anonymous limit
    response = client.post(
        "/api/pieces/", body, content_type="application/json", **bearer(editor_token)
    )
    assert response.status_code == 201, response.content
    unknown = client.post(
        "/api/pieces/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer dos_not-a-real-token",
    )
    assert unknown.status_code == 413
