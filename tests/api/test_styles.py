"""GET /api/styles/: the bundled CSL styles every ``style`` parameter accepts."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_without_a_query_the_defaults_come_first_and_the_count_is_every_style(client):
    body = client.get("/api/styles/?limit=5").json()
    assert [s["id"] for s in body["results"][:4]] == [
        "chicago-author-date",
        "apa",
        "harvard-cite-them-right",
        "modern-language-association",
    ]
    assert len(body["results"]) == 5
    assert body["count"] > 10_000
    page_two = client.get("/api/styles/?limit=5&offset=5").json()["results"]
    assert {s["id"] for s in page_two}.isdisjoint(s["id"] for s in body["results"])


def test_a_query_finds_styles_by_title_and_says_what_a_dependent_formats_as(client):
    body = client.get("/api/styles/?q=nature+biotechnology").json()
    match = next(s for s in body["results"] if s["id"] == "nature-biotechnology")
    assert match == {
        "id": "nature-biotechnology",
        "title": "Nature Biotechnology",
        "dependent": True,
        "formats_as": "nature",
    }
    assert body["count"] >= 1


def test_every_listed_style_is_accepted_by_the_exports(client, make_piece):
    make_piece("Mosul Operation")
    for style in client.get("/api/styles/?q=harvard&limit=3").json()["results"]:
        response = client.get(f"/api/export/bibliography-text/?style={style['id']}")
        assert response.status_code == 200, style
        assert "Mosul Operation" in b"".join(response.streaming_content).decode()


def test_an_unknown_style_is_a_400_naming_it(client, make_piece):
    make_piece("Mosul Operation")
    response = client.get("/api/export/bibliography-text/?style=no-such-style")
    assert response.status_code == 400
    assert "no-such-style" in response.json()["detail"]
