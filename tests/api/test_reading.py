"""Search, authors, topics, regions and reading lists through the API."""

from __future__ import annotations

import datetime

import pytest

from library.readinglists import services
from library.readinglists.models import Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(empty_vocabulary, make_piece):
    return [
        make_piece(
            "Mosul Operation: The Endgame for IS?",
            authors=("Abdul Basit",),
            topics=("terrorism",),
            regions=("iraq",),
            synopsis="The battle for Mosul will decide the caliphate's future.",
        ),
        make_piece(
            "After the Caliphate",
            authors=("Rohan Gunaratna",),
            date=datetime.date(2017, 3, 1),
            topics=("terrorism",),
            synopsis="What follows the fall of Mosul and Raqqa.",
        ),
        make_piece("Maritime Security", authors=("Abdul Basit",), date=datetime.date(2015, 1, 1)),
    ]


def test_search_speaks_the_query_language_and_returns_snippets_and_facets(client, catalogue):
    data = client.get("/api/search/", {"q": "mosul -raqqa"}).json()
    assert [r["piece"]["key"] for r in data["results"]] == ["basit2016mosul"]
    data = client.get("/api/search/", {"q": "Mosul author:gunaratna"}).json()
    assert [r["piece"]["key"] for r in data["results"]] == ["gunaratna2017after"]
    data = client.get("/api/search/", {"q": "Mosul", "sort": "newest"}).json()
    assert data["total"] == 2
    assert [r["piece"]["key"] for r in data["results"]] == ["gunaratna2017after", "basit2016mosul"]
    hit = data["results"][0]
    assert hit["piece"]["authors"] == ["Rohan Gunaratna"]
    assert "<mark>Mosul</mark>" in hit["snippet_html"]
    assert "<mark>" not in hit["snippet"]
    assert "Mosul" in hit["snippet"]
    topics = {f["key"]: f["count"] for f in data["facets"]["topic"]}
    assert topics == {"terrorism": 2}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["gunaratna2017after", "basit2016mosul"]),  # "After…" before "Mosul…"
        ("author", ["basit2016mosul", "gunaratna2017after"]),  # Basit before Gunaratna
    ],
)
def test_search_sorts_by_title_and_author_like_the_browse_page(client, catalogue, sort, expected):
    data = client.get("/api/search/", {"q": "Mosul", "sort": sort}).json()
    assert data["total"] == 2
    assert [r["piece"]["key"] for r in data["results"]] == expected


def test_a_malformed_query_is_a_hint_not_an_error(client, catalogue):
    response = client.get("/api/search/", {"q": "mosul year:20x6..abc ((("})
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 2
    assert data["hints"]


def test_snippets_escape_markup_from_the_text(client, make_piece):
    make_piece("Tags", synopsis="<script>alert(1)</script> insurgency")
    hit = client.get("/api/search/", {"q": "insurgency"}).json()["results"][0]
    assert "<script>" not in hit["snippet_html"]


def test_authors_topics_and_regions_with_counts_and_etags(client, catalogue):
    authors = client.get("/api/authors/").json()
    assert authors["count"] == 2
    assert [(a["slug"], a["piece_count"]) for a in authors["results"]] == [
        ("abdul-basit", 2),
        ("rohan-gunaratna", 1),
    ]
    response = client.get("/api/authors/abdul-basit/")
    assert response.json()["pieces_url"] == "/api/pieces/?author=abdul-basit"
    assert (
        client.get("/api/authors/abdul-basit/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code
        == 304
    )
    topics = {t["slug"]: t["piece_count"] for t in client.get("/api/topics/").json()}
    assert topics["terrorism"] == 2
    assert client.get("/api/topics/terrorism/").json()["children"] == []
    region = client.get("/api/regions/iraq/").json()
    assert (region["piece_count"], region["api_url"]) == (1, "/api/regions/iraq/")
    assert client.get("/api/regions/atlantis/").status_code == 404


def test_the_real_vocabulary_carries_iso_codes(client, vocabulary):
    regions = {r["slug"]: r for r in client.get("/api/regions/").json()}
    assert regions["philippines"]["iso_code"] == "PH"
    assert regions["philippines"]["kind"] == "country"


@pytest.fixture
def lists(catalogue, editor, reader):
    public = services.create_list(reader, "Week 1: Mosul", "Seminar reading.")
    services.set_visibility(public, Visibility.PUBLIC)
    private = services.create_list(reader, "My private notes")
    services.add_entry(public, catalogue[0], added_by=reader, annotation="Start here.")
    section = services.add_section(public, "Further reading", None)
    services.add_entry(public, catalogue[1], section, added_by=reader)
    services.add_entry(private, catalogue[2], added_by=reader)
    return public, private


def test_public_lists_for_everyone_and_the_callers_own_with_a_token(
    client, lists, reader_token, bearer
):
    listed = client.get("/api/lists/").json()
    assert [rl["title"] for rl in listed["results"]] == ["Week 1: Mosul"]
    assert listed["results"][0]["owner"] == "reader"
    assert client.get("/api/lists/mine/").status_code == 401
    mine = client.get("/api/lists/mine/", **bearer(reader_token)).json()
    assert {rl["title"] for rl in mine["results"]} == {"Week 1: Mosul", "My private notes"}


def test_a_private_list_is_a_404_to_others_and_readable_by_its_owner(
    client, lists, reader_token, editor_token, bearer
):
    public, private = lists
    assert client.get(f"/api/lists/{private.pk}/").status_code == 404
    assert client.get(f"/api/lists/{private.pk}/", **bearer(editor_token)).status_code == 404
    own = client.get(f"/api/lists/{private.pk}/", **bearer(reader_token))
    assert own.status_code == 200
    assert own.json()["visibility"] == "private"
    detail = client.get(f"/api/lists/{public.pk}/").json()
    assert [(s["title"], [e["piece"] for e in s["entries"]]) for s in detail["sections"]] == [
        ("", ["basit2016mosul"]),
        ("Further reading", ["gunaratna2017after"]),
    ]
    assert detail["sections"][0]["entries"][0]["annotation"] == "Start here."
    assert detail["entry_count"] == 2


def test_a_deleted_piece_stays_in_the_list_marked_removed(client, lists, catalogue):
    public, _ = lists
    catalogue[0].delete()
    entry = client.get(f"/api/lists/{public.pk}/").json()["sections"][0]["entries"][0]
    assert (entry["piece"], entry["removed"]) == (None, True)
    assert entry["title"] == "Mosul Operation: The Endgame for IS?"


def test_a_list_exports_in_each_format(client, lists):
    public, _ = lists
    for fmt in ("bibtex", "biblatex", "ris", "csljson", "bibliography"):
        response = client.get(f"/api/lists/{public.pk}/export/{fmt}/")
        assert response.status_code == 200, fmt
        body = response.streaming_content if response.streaming else [response.content]
        text = b"".join(body).decode()
        assert "Mosul" in text, fmt
        assert "Maritime" not in text, fmt
    assert client.get(f"/api/lists/{public.pk}/export/docx/").status_code == 422


def test_a_list_exports_in_any_bundled_style_and_refuses_others(client, lists):
    public, _ = lists
    url = f"/api/lists/{public.pk}/export/bibliography/"
    nature = client.get(url + "?style=nature-biotechnology")  # dependent: formats as Nature
    assert nature.status_code == 200
    assert "Basit, A. Mosul Operation" in nature.content.decode()
    for bad, status in (("no-such-style", 400), ("../apa", 422), ("mediaeval-studies", 400)):
        response = client.get(url + "?style=" + bad)
        assert response.status_code == status, bad
