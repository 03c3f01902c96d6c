"""The web catalogue: pages, filters, escaping, and who may write."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from library.catalogue.models import Piece, PieceType, Provenance

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def test_home_shows_newest_pieces_and_browse_counts(client, make_piece):
    make_piece("Mosul Operation", topics=("terrorism",), regions=("iraq",))
    response = client.get(reverse("catalogue:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mosul Operation" in html
    assert "?topic=terrorism" in html
    assert "?region=iraq" in html
    assert "?year=2016" in html
    assert "?type=commentary" in html


def test_piece_page_shows_the_full_record_with_headings(client, make_piece):
    piece = make_piece(
        "Mosul Operation",
        subtitle="The Endgame for IS?",
        synopsis="The loss of Mosul will be a huge setback.",
        body="First paragraph.\n\n## The Aftermath\n\nSecond paragraph.",
        series="RSIS Commentaries",
        number="263/2016",
        doi="10.1000/xyz",
    )
    response = client.get(piece.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>The Aftermath</h2>" in html
    assert "<p>Second paragraph.</p>" in html
    assert "RSIS Commentaries" in html
    assert 'href="/authors/abdul-basit/"' in html
    assert piece.citation_key in html


def test_unknown_piece_is_a_404(client):
    assert client.get(reverse("catalogue:piece", args=["nobody2020nothing"])).status_code == 404


@pytest.mark.parametrize("field", ["title", "synopsis", "tag", "author", "body", "note"])
def test_pages_escape_script_in_every_user_field(client, make_piece, field):
    piece = make_piece(
        XSS if field == "title" else "Harmless",
        synopsis=XSS if field == "synopsis" else "",
        note=XSS if field == "note" else "",
        body=f"## {XSS}\n\n{XSS}" if field == "body" else "",
        authors=(f"{{{XSS}}}",) if field == "author" else ("Abdul Basit",),
        topics=("xss-topic",) if field == "tag" else (),
    )
    if field == "tag":
        topic = piece.topics.get()
        topic.name = XSS
        topic.save()
    urls = [reverse("catalogue:home"), reverse("catalogue:piece_list"), piece.get_absolute_url()]
    urls += [a.get_absolute_url() for a in piece.authors]
    urls += [t.get_absolute_url() for t in piece.topics.all()]
    for url in urls:
        html = client.get(url).content.decode()
        assert XSS not in html, url
        if field not in ("body", "note") or url == piece.get_absolute_url():
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_filters_combine_and_return_exactly_the_matching_pieces(client, make_piece):
    wanted = make_piece(
        "Iraq terrorism 2016", topics=("terrorism",), regions=("iraq",), authors=("Abdul Basit",)
    )
    make_piece(
        "Wrong year", topics=("terrorism",), regions=("iraq",), date=datetime.date(2015, 1, 1)
    )
    make_piece("Wrong region", topics=("terrorism",), regions=("syria",))
    make_piece("Wrong topic", topics=("piracy",), regions=("iraq",))
    make_piece(
        "Wrong author", topics=("terrorism",), regions=("iraq",), authors=("Rohan Gunaratna",)
    )
    make_piece("Wrong type", topics=("terrorism",), regions=("iraq",), type=PieceType.BOOK)
    response = client.get(
        reverse("catalogue:piece_list"),
        {
            "topic": "terrorism",
            "region": "iraq",
            "year": "2016",
            "type": "commentary",
            "author": "abdul-basit",
        },
    )
    assert [p.pk for p in response.context["page"]] == [wanted.pk]
    assert "1 piece matching your filters" in response.content.decode()


def test_facet_counts_reflect_the_other_active_filters(client, make_piece):
    make_piece("A", topics=("terrorism",), regions=("iraq",))
    make_piece("B", topics=("terrorism",), regions=("syria",))
    make_piece("C", topics=("piracy",), regions=("syria",))
    response = client.get(reverse("catalogue:piece_list"), {"topic": "terrorism"})
    facets = {f.name: {v.value: v.count for v in f.values} for f in response.context["facets"]}
    assert facets["region"] == {"iraq": 1, "syria": 1}
    # The topic facet ignores its own filter, so a reader can switch topics.
    assert facets["topic"] == {"terrorism": 2, "piracy": 1}


def test_unfiltered_facets_count_the_whole_catalogue_most_common_first(client, make_piece):
    for n in range(3):
        make_piece(f"T{n}", topics=("terrorism",), date=datetime.date(2016 + n, 1, 1))
    make_piece("P", authors=("Abdul Basit", "Zoë Marks"), topics=("piracy",), date=None)
    response = client.get(reverse("catalogue:piece_list"))
    facets = {f.name: [(v.value, v.count) for v in f.values] for f in response.context["facets"]}
    assert facets["topic"] == [("terrorism", 3), ("piracy", 1)]
    assert facets["year"] == [("2018", 1), ("2017", 1), ("2016", 1)]  # newest first, undated out
    assert facets["author"][0] == ("abdul-basit", 4)
    assert ("zoe-marks", 1) in facets["author"]


def test_a_selected_value_outside_the_most_common_is_still_shown_with_its_count(client, make_piece):
    for n in range(14):  # more topics than the facet shows, each more common than the last
        for copy in range(n + 1):
            make_piece(f"Topic {n} copy {copy}", topics=(f"topic-{n:02d}",))
    response = client.get(reverse("catalogue:piece_list"), {"topic": "topic-00"})
    topic = next(f for f in response.context["facets"] if f.name == "topic")
    values = [(v.value, v.count, v.selected) for v in topic.values]
    assert len(values) == 13
    assert values[0] == ("topic-13", 14, False)
    assert values[-1] == ("topic-00", 1, True)


def test_a_multi_tag_piece_appears_once_in_a_filtered_list(client, make_piece):
    make_piece("Both", topics=("terrorism", "piracy"), regions=("iraq", "syria"))
    response = client.get(reverse("catalogue:piece_list"), {"topic": "terrorism"})
    assert response.context["page"].paginator.count == 1


@pytest.mark.parametrize(
    "query",
    [
        {"year": "twenty"},
        {"year": "²⁰¹⁶"},  # str.isdigit() says yes, int() says no
        {"type": "banana"},
        {"page": "999"},
        {"page": "-1"},
        {"topic": "\x00"},  # PostgreSQL refuses NUL in any text parameter
        {"author": "basit\x00", "region": "\x00iraq"},
    ],
)
def test_malformed_filters_never_cause_an_error(client, make_piece, query):
    make_piece("A")
    assert client.get(reverse("catalogue:piece_list"), query).status_code == 200


def test_list_paginates(client, make_piece, settings):
    settings.DOSSIER_PAGE_SIZE = 2
    for n in range(5):
        make_piece(f"Piece {n}")
    page2 = client.get(reverse("catalogue:piece_list"), {"page": 2})
    assert len(page2.context["page"]) == 2
    assert "Page 2 of 3" in page2.content.decode()


def test_author_topic_and_region_pages_list_their_pieces(client, make_piece):
    piece = make_piece("Tagged", topics=("terrorism",), regions=("iraq",))
    for url in (
        piece.authors[0].get_absolute_url(),
        piece.topics.get().get_absolute_url(),
        piece.regions.get().get_absolute_url(),
    ):
        response = client.get(url)
        assert [p.pk for p in response.context["page"]] == [piece.pk], url
    for name in ("author_index", "topic_index", "region_index"):
        assert client.get(reverse(f"catalogue:{name}")).status_code == 200


WRITE_URLS = [
    ("get", "catalogue:piece_create", False),
    ("post", "catalogue:piece_create", False),
    ("get", "catalogue:piece_paste", False),
    ("post", "catalogue:piece_paste", False),
    ("get", "catalogue:piece_edit", True),
    ("post", "catalogue:piece_edit", True),
    ("get", "catalogue:piece_delete", True),
    ("post", "catalogue:piece_delete", True),
]


@pytest.mark.parametrize(("method", "name", "needs_key"), WRITE_URLS)
def test_anonymous_visitors_cannot_write(client, make_piece, method, name, needs_key):
    piece = make_piece("Untouchable")
    url = reverse(name, args=[piece.citation_key] if needs_key else [])
    response = getattr(client, method)(url, {"title": "Changed", "text": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    piece.refresh_from_db()
    assert piece.title == "Untouchable"
    assert Piece.objects.count() == 1


@pytest.mark.parametrize(("method", "name", "needs_key"), WRITE_URLS)
def test_signed_in_readers_without_permission_get_403(
    client, reader, make_piece, method, name, needs_key
):
    client.force_login(reader)
    piece = make_piece("Untouchable")
    url = reverse(name, args=[piece.citation_key] if needs_key else [])
    response = getattr(client, method)(url, {"title": "Changed", "text": "x"})
    assert response.status_code == 403
    assert Piece.objects.get().title == "Untouchable"


def test_writes_require_a_csrf_token(editor, make_piece):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(editor)
    piece = make_piece("Protected")
    response = csrf_client.post(reverse("catalogue:piece_delete", args=[piece.citation_key]))
    assert response.status_code == 403
    assert Piece.objects.filter(pk=piece.pk).exists()


def _form_data(**overrides) -> dict:
    data = {
        "type": "report",
        "title": "Crime & Punishment: 100% of $5 #1_{x}",
        "subtitle": "",
        "authors_text": (
            "Nguyễn Thị Minh\n"
            "{Centre for Non-Traditional Security Studies and Humanitarian Affairs}"
        ),
        "editors_text": "",
        "date_text": "2019-05",
        "synopsis": "A synopsis.",
        "body": "Para one.\n\n## Heading\n\nPara two.",
        "publisher": "RSIS",
        "language": "en",
        "topics_text": "",
        "regions_text": "",
        "keywords_text": "alpha, beta",
        "citation_key": "",
    }
    data.update(overrides)
    return data


def test_editors_add_a_piece_with_the_blank_form(editor_client):
    response = editor_client.post(reverse("catalogue:piece_create"), _form_data())
    piece = Piece.objects.get()
    assert response.status_code == 302
    assert response["Location"] == piece.get_absolute_url()
    assert piece.title == "Crime & Punishment: 100% of $5 #1_{x}"
    assert [a.display_name for a in piece.authors] == [
        "Nguyễn Thị Minh",
        "Centre for Non-Traditional Security Studies and Humanitarian Affairs",
    ]
    assert piece.authors[1].is_organisation
    assert piece.date == datetime.date(2019, 5, 1)
    assert piece.display_date == "May 2019"
    assert piece.headings == ["Heading"]
    assert piece.keywords == ["alpha", "beta"]
    # Without a comma the last word is the family name (BibTeX's rule); "Nguyễn, Thị Minh"
    # is how an editor says otherwise.
    assert piece.citation_key == "minh2019crime"
    assert piece.created_by.username == "ed"
    assert piece.provenance == Provenance.FORM


def test_the_form_reports_a_bad_date_and_unknown_tags_and_saves_nothing(editor_client, vocabulary):
    response = editor_client.post(
        reverse("catalogue:piece_create"),
        _form_data(date_text="2019-02-30", topics_text="terrorism, underwater basket weaving"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "is not a date" in errors["date_text"][0]
    assert "underwater basket weaving" in errors["topics_text"][0]
    assert Piece.objects.count() == 0


def test_a_new_url_without_an_access_date_was_checked_today(editor_client):
    editor_client.post(
        reverse("catalogue:piece_create"),
        _form_data(url="https://example.org/a", note="Translated & abridged"),
    )
    piece = Piece.objects.get()
    assert piece.accessed == timezone.localdate()
    assert piece.note == "Translated & abridged"
    html = editor_client.get(piece.get_absolute_url()).content.decode()
    assert f'<time datetime="{piece.accessed:%Y-%m-%d}">' in html
    assert "Translated &amp; abridged" in html


def test_an_access_date_given_is_kept_and_an_unchanged_url_keeps_its_date(editor_client):
    data = _form_data(url="https://example.org/a", accessed="2016-10-30")
    editor_client.post(reverse("catalogue:piece_create"), data)
    piece = Piece.objects.get()
    assert piece.accessed == datetime.date(2016, 10, 30)
    edit = reverse("catalogue:piece_edit", args=[piece.citation_key])
    editor_client.post(edit, {**data, "accessed": "", "citation_key": piece.citation_key})
    piece.refresh_from_db()
    assert piece.accessed is None  # cleared on purpose: the URL did not change
    editor_client.post(
        edit,
        {
            **data,
            "url": "https://example.org/b",
            "accessed": "",
            "citation_key": piece.citation_key,
        },
    )
    piece.refresh_from_db()
    assert piece.accessed == timezone.localdate()


def test_a_piece_without_a_url_gets_no_access_date(editor_client):
    editor_client.post(reverse("catalogue:piece_create"), _form_data())
    assert Piece.objects.get().accessed is None


def test_the_form_resolves_tag_aliases(editor_client, vocabulary):
    editor_client.post(
        reverse("catalogue:piece_create"),
        _form_data(topics_text="ISIL", regions_text="Iraq, Mosul"),
    )
    piece = Piece.objects.get()
    assert [t.slug for t in piece.topics.all()] == ["islamic-state"]
    assert sorted(r.slug for r in piece.regions.all()) == ["iraq", "mosul"]


def test_editors_edit_a_piece_and_its_key_stays(editor_client, make_piece):
    piece = make_piece("Old title", authors=("Abdul Basit", "Rohan Gunaratna"))
    key = piece.citation_key
    url = reverse("catalogue:piece_edit", args=[key])
    form = editor_client.get(url).context["form"]
    assert form.initial["authors_text"] == "Basit, Abdul\nGunaratna, Rohan"
    data = _form_data(
        title="New title", authors_text="Gunaratna, Rohan\nBasit, Abdul", citation_key=key
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302
    piece.refresh_from_db()
    assert piece.title == "New title"
    assert piece.citation_key == key
    assert [a.family for a in piece.authors] == ["Gunaratna", "Basit"]


def test_a_citation_key_already_in_use_is_refused_case_insensitively(editor_client, make_piece):
    make_piece("First", authors=("Abdul Basit",))
    taken = Piece.objects.get().citation_key
    response = editor_client.post(
        reverse("catalogue:piece_create"), _form_data(citation_key=taken.upper())
    )
    assert "already used" in response.context["form"].errors["citation_key"][0]
    assert Piece.objects.count() == 1


def test_editors_delete_a_piece_after_confirming(editor_client, make_piece):
    piece = make_piece("Doomed")
    url = reverse("catalogue:piece_delete", args=[piece.citation_key])
    assert "Delete" in editor_client.get(url).content.decode()
    assert Piece.objects.count() == 1
    assert editor_client.post(url).status_code == 302
    assert Piece.objects.count() == 0


def test_pasting_a_commentary_fills_in_the_form_then_saves(editor_client, vocabulary, seed_text):
    response = editor_client.post(reverse("catalogue:piece_paste"), {"text": seed_text})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["title"] == "Mosul Operation: The Endgame for IS?"
    assert form.initial["authors_text"] == "Abdul Basit"
    assert "Islamic State" in form.initial["topics_text"]
    assert "Iraq" in form.initial["regions_text"]
    assert Piece.objects.count() == 0  # nothing saved before the editor confirms

    data = _form_data(
        type="commentary",
        title=form.initial["title"],
        authors_text=form.initial["authors_text"],
        date_text="2016",
        synopsis=form.initial["synopsis"],
        body=form.initial["body"],
        topics_text=form.initial["topics_text"],
        regions_text=form.initial["regions_text"],
        source_hash=response.context["source_hash"],
    )
    saved = editor_client.post(reverse("catalogue:piece_create"), data)
    piece = Piece.objects.get()
    assert saved["Location"] == piece.get_absolute_url()
    assert piece.provenance == Provenance.PASTE
    assert piece.citation_key == "basit2016mosul"
    assert "The Aftermath" in piece.headings

    again = editor_client.post(reverse("catalogue:piece_paste"), {"text": seed_text})
    assert again.context["existing"] == piece
    assert "already in the catalogue" in again.content.decode()


def test_pasting_something_that_is_not_a_commentary_explains_why(editor_client, vocabulary):
    response = editor_client.post(
        reverse("catalogue:piece_paste"), {"text": "@article{key, title={Not a commentary}}"}
    )
    assert response.status_code == 200
    assert "does not read as a commentary" in response.context["form"].errors["text"][0]
    assert Piece.objects.count() == 0


def test_pasted_text_over_the_limit_is_refused(editor_client, settings):
    settings.DOSSIER_MAX_INGEST_BYTES = 1024
    response = editor_client.post(reverse("catalogue:piece_paste"), {"text": "x" * 2000})
    assert "the limit is 1,024 bytes" in response.context["form"].errors["text"][0]
