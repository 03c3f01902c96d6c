"""The list pages: reading, sharing, printing, exporting, adding and editing through forms."""

from __future__ import annotations

import json

import bibtexparser
import pytest
import rispy
from django.urls import reverse

from library.readinglists import services
from library.readinglists.models import Entry, ReadingList, Visibility


def _v(rl: ReadingList) -> int:
    return ReadingList.objects.get(pk=rl.pk).version


@pytest.fixture
def syllabus(reading_list, pieces):
    one = services.add_section(reading_list, "Week 1: Mosul", _v(reading_list))
    two = services.add_section(reading_list, "Week 2: Aftermath", _v(reading_list))
    services.add_entry(reading_list, pieces[0], one, annotation="Why read: the COIN debate.")
    services.add_entry(reading_list, pieces[1], two, required=False, pages="pp. 3–9")
    services.add_entry(reading_list, pieces[2], two)
    return reading_list


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_list_page_shows_sections_annotations_and_citations_in_order(syllabus, login, owner):
    html = page(login(owner), syllabus.get_absolute_url())
    order = [
        html.index("Week 1: Mosul"),
        html.index("Mosul Operation: The Endgame for IS?"),
        html.index("Why read: the COIN debate."),
        html.index("Week 2: Aftermath"),
        html.index("After the Caliphate"),
        html.index("Foreign Fighters Return"),
    ]
    assert order == sorted(order)
    assert "Optional" in html
    assert "Read: pp. 3–9" in html
    assert "Basit, Abdul" in html  # Chicago author-date, the default style


def test_the_reader_picks_the_citation_style(syllabus, login, owner):
    client = login(owner)
    apa = page(client, syllabus.get_absolute_url() + "?style=apa")
    assert "Basit, A." in apa
    bad = page(client, syllabus.get_absolute_url() + "?style=<b>nope</b>")
    # An unknown style falls back to the reader's last choice in this session (APA).
    assert "There is no citation style called “&lt;b&gt;nope&lt;/b&gt;”; showing APA" in bad
    assert "Basit, A." in bad
    assert "Basit, A." in page(client, syllabus.get_absolute_url())


def test_any_bundled_style_can_be_found_and_chosen(syllabus, login, owner):
    client = login(owner)
    url = syllabus.get_absolute_url()
    found = page(client, url + "?style_q=nature+biotech")
    assert "Nature Biotechnology" in found
    assert f'href="{url}?style=nature-biotechnology"' in found
    assert "(formats as Nature)" in found
    chosen = page(client, url + "?style=nature-biotechnology")
    assert '<option value="nature-biotechnology" selected>Nature Biotechnology</option>' in chosen
    assert "Basit, A. <i>Mosul Operation: The Endgame for IS?</i> (2016)." in chosen  # Nature
    assert "1.Basit" not in chosen  # each entry stands alone: no citation numbers
    for path in ("../../settings", "dependent/nature", "apa.csl"):
        refused = page(client, url + "?style=" + path)
        assert "There is no citation style called" in refused
    notes_only = page(client, url + "?style=mediaeval-studies")
    assert "“Mediaeval Studies” formats citations only, not a bibliography" in notes_only


def test_user_text_is_escaped_everywhere(reading_list, make_piece, login, owner):
    piece = make_piece("<script>alert(1)</script> & % $ # _ {", authors=("Ḥasan ʿAbd al-Raḥmān",))
    services.update_list(
        reading_list, _v(reading_list), title="<script>x</script> Week", description="<b>d</b>"
    )
    services.add_section(reading_list, "<img src=x onerror=1>", _v(reading_list))
    services.add_entry(reading_list, piece, annotation="<script>bad()</script> & notes")
    client = login(owner)
    for url in (
        reading_list.get_absolute_url(),
        reverse("readinglists:print", args=[reading_list.pk]),
    ):
        html = page(client, url)
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=1&gt;" in html
        assert "&lt;script&gt;bad()&lt;/script&gt; &amp; notes" in html
        assert "Raḥmān" in html


def test_a_private_list_is_404_to_strangers_and_anonymous_readers(syllabus, client, stranger):
    url = syllabus.get_absolute_url()
    for path in (url, url + "print/", url + "export/bibtex/", url + "settings/"):
        assert client.get(path).status_code in (302, 404)  # settings sends anonymous to sign in
        assert client.get(path).status_code != 200
    client.force_login(stranger)
    for path in (url, url + "print/", url + "export/bibtex/", url + "settings/"):
        assert client.get(path).status_code == 404


def test_a_public_list_is_readable_by_anyone_without_edit_controls(syllabus, client):
    services.set_visibility(syllabus, Visibility.PUBLIC)
    html = page(client, syllabus.get_absolute_url())
    assert "Mosul Operation" in html
    assert "Add section" not in html
    assert "Remove" not in html


def test_an_unlisted_list_opens_by_its_link_only_until_revoked(syllabus, client):
    services.set_visibility(syllabus, Visibility.UNLISTED)
    old = syllabus.share_url()
    assert client.get(syllabus.get_absolute_url()).status_code == 404
    assert "Mosul Operation" in page(client, old)
    assert "Mosul Operation" in page(client, old + "print/")
    services.reissue_link(syllabus)
    assert client.get(old).status_code == 404
    assert client.get(old + "export/ris/").status_code == 404
    assert client.get(syllabus.share_url()).status_code == 200
    services.set_visibility(syllabus, Visibility.PRIVATE)
    assert client.get(syllabus.share_url() or old).status_code == 404


def test_the_index_lists_public_lists_and_searches_titles(syllabus, owner, client):
    hidden = services.create_list(owner, "Private briefing pack")
    services.set_visibility(syllabus, Visibility.PUBLIC)
    html = page(client, reverse("readinglists:index"))
    assert syllabus.title in html
    assert hidden.title not in html
    assert syllabus.title in page(client, reverse("readinglists:index") + "?q=mosul+week")
    miss = page(client, reverse("readinglists:index") + "?q=caliphate")
    assert "No public list has “caliphate” in its title." in miss
    assert "Private briefing pack" not in miss


def test_the_print_view_has_no_navigation_and_breaks_pages_between_sections(syllabus, login, owner):
    html = page(login(owner), reverse("readinglists:print", args=[syllabus.pk]))
    assert "site-header" not in html
    assert "<form" not in html
    assert html.count('class="rl-section"') == 2
    css = (
        __import__("pathlib").Path(__file__).resolve().parents[2] / "library/static/css/dossier.css"
    ).read_text()
    assert ".rl-section + .rl-section { break-before: page;" in css


def test_exports_use_the_catalogue_writers_in_list_order(syllabus, login, owner):
    client = login(owner)
    base = reverse("readinglists:export", args=[syllabus.pk, "bibtex"])
    response = client.get(base)
    assert response["Content-Disposition"].endswith('.bib"')
    text = b"".join(response.streaming_content).decode()
    library = bibtexparser.parse_string(text)
    assert "Mosul" in library.entries[0]["title"]
    assert len(library.entries) == 3

    ris = b"".join(client.get(base.replace("bibtex", "ris")).streaming_content).decode()
    assert [r["title"] for r in rispy.loads(ris)][1] == "After the Caliphate"
    csl = json.loads(b"".join(client.get(base.replace("bibtex", "csljson")).streaming_content))
    assert len(csl) == 3
    biblatex = b"".join(client.get(base.replace("bibtex", "biblatex")).streaming_content)
    assert biblatex.count(b"@") == 3

    bib = client.get(base.replace("bibtex", "bibliography") + "?style=apa")
    assert bib["Content-Type"].startswith("text/plain")
    assert "Basit, A." in bib.content.decode()
    assert client.get(base.replace("bibtex", "docx")).status_code == 404


def test_a_removed_piece_is_shown_and_exported_from_its_last_known_citation(
    syllabus, pieces, login, owner
):
    pieces[1].delete()
    client = login(owner)
    html = page(client, syllabus.get_absolute_url())
    assert "Removed from the catalogue — last known citation" in html
    assert "After the Caliphate" in html
    assert "Gunaratna" in html
    text = b"".join(
        client.get(reverse("readinglists:export", args=[syllabus.pk, "ris"])).streaming_content
    ).decode()
    assert "After the Caliphate" in text


def test_the_piece_page_offers_the_users_lists_and_sections(syllabus, pieces, login, owner, client):
    anonymous = page(client, pieces[0].get_absolute_url())
    assert "Add to reading list" not in anonymous
    html = page(login(owner), pieces[0].get_absolute_url())
    assert "Add to reading list" in html
    assert f'value="{syllabus.pk}:' in html
    assert "Week 3: Islamic State after Mosul › Week 2: Aftermath" in html


def test_adding_from_a_piece_page_returns_there_with_a_message(syllabus, make_piece, login, owner):
    piece = make_piece("Deradicalisation in Singapore")
    week2 = syllabus.sections.get(title__startswith="Week 2")
    client = login(owner)
    response = client.post(
        reverse("readinglists:add_piece"),
        {
            "piece": piece.citation_key,
            "target": f"{syllabus.pk}:{week2.pk}",
            "next": piece.get_absolute_url(),
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == piece.get_absolute_url()
    assert "Added “Deradicalisation in Singapore” to" in response.content.decode()
    assert Entry.objects.get(piece=piece).section == week2
    again = client.post(
        reverse("readinglists:add_piece"),
        {"piece": piece.citation_key, "target": str(syllabus.pk)},
        follow=True,
    )
    assert "is already in" in again.content.decode()


@pytest.mark.parametrize(
    ("target", "message"),
    [("", "Choose a list"), ("abc", "Choose a list"), ("{pk}:99999", "is not a section of")],
)
def test_a_bad_add_target_gets_a_clear_message(target, message, syllabus, pieces, login, owner):
    client = login(owner)
    response = client.post(
        reverse("readinglists:add_piece"),
        {"piece": pieces[0].citation_key, "target": target.format(pk=syllabus.pk)},
        follow=True,
    )
    assert message in response.content.decode()


def test_an_off_site_next_is_ignored(syllabus, make_piece, login, owner):
    piece = make_piece("Another")
    response = login(owner).post(
        reverse("readinglists:add_piece"),
        {"piece": piece.citation_key, "target": str(syllabus.pk), "next": "https://evil.example/"},
    )
    assert response["Location"] == syllabus.get_absolute_url()


def test_a_stale_reorder_through_the_page_is_refused_with_a_message(syllabus, login, owner):
    client = login(owner)
    seen = _v(syllabus)
    entries = list(Entry.objects.filter(section__title__startswith="Week 2").order_by("position"))
    url = reverse("readinglists:entry_move", args=[syllabus.pk, entries[1].pk])
    client.post(url, {"direction": "up", "version": seen})
    response = client.post(
        reverse("readinglists:entry_move", args=[syllabus.pk, entries[0].pk]),
        {"direction": "up", "version": seen},
        follow=True,
    )
    assert (
        "Someone else changed this list while you were looking at it" in response.content.decode()
    )
    order = Entry.objects.filter(section__title__startswith="Week 2").order_by("position")
    assert [e.pk for e in order] == [entries[1].pk, entries[0].pk]


def test_a_stale_note_is_refused_but_what_was_typed_is_kept(syllabus, login, owner, collaborator):
    entry = Entry.objects.get(annotation__startswith="Why read")
    seen = _v(syllabus)
    services.add_section(syllabus, "Week 3", seen)  # a collaborator's change lands first
    response = login(owner).post(
        reverse("readinglists:entry_edit", args=[syllabus.pk, entry.pk]),
        {"annotation": "My careful note & more", "pages": "", "version": seen},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Someone else changed this list" in html
    assert "My careful note &amp; more" in html
    entry.refresh_from_db()
    assert entry.annotation == "Why read: the COIN debate."


def test_moving_to_a_section_through_the_page(syllabus, login, owner):
    entry = Entry.objects.get(annotation__startswith="Why read")
    week2 = syllabus.sections.get(title__startswith="Week 2")
    login(owner).post(
        reverse("readinglists:entry_move", args=[syllabus.pk, entry.pk]),
        {"section": str(week2.pk), "version": _v(syllabus)},
    )
    entry.refresh_from_db()
    assert entry.section == week2
    assert entry.position == 2


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"title": ""}, "Give the list a title."),
        ({"title": "   "}, "Give the list a title."),
        ({"title": "x" * 201}, "at most 200 characters"),
        ({"title": "ok", "description": "d" * 5001}, "at most 5000 characters"),
    ],
)
def test_creating_a_list_checks_its_fields(data, error, login, owner):
    response = login(owner).post(reverse("readinglists:create"), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ReadingList.objects.exists()


def test_creating_a_list_with_unicode_and_symbols(login, owner):
    response = login(owner).post(
        reverse("readinglists:create"), {"title": "Ḥizb al-Taḥrīr & % $ # _ {", "description": ""}
    )
    rl = ReadingList.objects.get()
    assert response["Location"] == rl.get_absolute_url()
    assert rl.title == "Ḥizb al-Taḥrīr & % $ # _ {"
    assert rl.owner == owner


def test_find_lists_catalogue_matches_with_add_buttons(syllabus, make_piece, login, owner):
    make_piece("Jemaah Islamiyah in Decline", authors=("Nur Azlin",))
    html = page(login(owner), reverse("readinglists:find", args=[syllabus.pk]) + "?q=azlin")
    assert "1 result for “azlin”" in html
    assert "Jemaah Islamiyah in Decline" in html
    assert 'name="target"' in html
    already = page(login(owner), reverse("readinglists:find", args=[syllabus.pk]) + "?q=mosul")
    assert "Already in this list." in already


def test_settings_page_shows_the_share_link_to_the_owner(syllabus, login, owner, collaborator):
    services.set_visibility(syllabus, Visibility.UNLISTED)
    html = page(login(owner), reverse("readinglists:manage", args=[syllabus.pk]))
    assert syllabus.share_url() in html
    html = page(login(collaborator), reverse("readinglists:manage", args=[syllabus.pk]))
    assert syllabus.share_url() not in html
    assert "Title and description" in html


def test_adding_an_unknown_collaborator_names_them(syllabus, login, owner):
    response = login(owner).post(
        reverse("readinglists:add_collaborator", args=[syllabus.pk]),
        {"username": "nobody<b>"},
        follow=True,
    )
    assert "There is no user called “nobody&lt;b&gt;”." in response.content.decode()


def test_editing_a_note_saves_it_and_refuses_a_huge_one(syllabus, login, owner):
    entry = Entry.objects.get(annotation__startswith="Why read")
    url = reverse("readinglists:entry_edit", args=[syllabus.pk, entry.pk])
    client = login(owner)
    assert "Why read: the COIN debate." in page(client, url)
    huge = client.post(url, {"annotation": "x" * 5001, "pages": "", "version": _v(syllabus)})
    assert huge.status_code == 400
    assert "at most 5000 characters" in huge.content.decode()
    ok = client.post(
        url, {"annotation": "Ḥasan’s view & % $ # _ {", "pages": "12–20", "version": _v(syllabus)}
    )
    assert ok.status_code == 302
    entry.refresh_from_db()
    assert (entry.annotation, entry.pages, entry.required) == (
        "Ḥasan’s view & % $ # _ {",
        "12–20",
        False,
    )


def test_an_empty_list_says_so_and_offers_to_find_pieces(reading_list, login, owner):
    html = page(login(owner), reading_list.get_absolute_url())
    assert "This list has no readings yet." in html
    assert reverse("readinglists:find", args=[reading_list.pk]) in html


def test_a_blank_section_title_is_refused_with_a_message(reading_list, login, owner):
    response = login(owner).post(
        reverse("readinglists:section_add", args=[reading_list.pk]),
        {"title": "   ", "version": _v(reading_list)},
        follow=True,
    )
    assert "Give the section a title." in response.content.decode()
    assert not reading_list.sections.exists()


def test_deleting_a_list_asks_first_then_keeps_the_pieces(syllabus, pieces, login, owner):
    client = login(owner)
    url = reverse("readinglists:delete", args=[syllabus.pk])
    assert "Delete “Week 3: Islamic State after Mosul”?" in page(client, url)
    assert client.post(url)["Location"] == reverse("readinglists:index")
    assert not ReadingList.objects.filter(pk=syllabus.pk).exists()
    assert pieces[0].__class__.objects.count() == 3


def test_the_piece_page_invites_a_reader_without_lists_to_start_one(pieces, login, stranger):
    html = page(login(stranger), pieces[0].get_absolute_url())
    assert "No reading lists yet." in html
    assert reverse("readinglists:create") in html


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ("1,x", "entry numbers separated by commas"),
        ("", "This field is required."),
        # A digit int() cannot read ("²".isdigit() is true): refused, not a server error.
        ("1,\u00b2", "entry numbers separated by commas"),
    ],
)
def test_a_malformed_order_is_refused_with_a_message(order, message, syllabus, login, owner):
    response = login(owner).post(
        reverse("readinglists:section_reorder", args=[syllabus.pk]),
        {"order": order, "section": "", "version": _v(syllabus)},
        follow=True,
    )
    assert message in response.content.decode()


@pytest.mark.parametrize("field", ["version", "section"])
def test_a_superscript_digit_in_a_list_form_is_refused_not_a_server_error(
    field, syllabus, login, owner
):
    data = {"order": "1", "section": "", "version": _v(syllabus)} | {field: "\u00b2"}
    response = login(owner).post(
        reverse("readinglists:section_reorder", args=[syllabus.pk]), data, follow=True
    )
    assert response.status_code == 200


def test_a_superscript_digit_as_the_list_version_is_refused_with_a_message(syllabus, login, owner):
    entry = syllabus.sections.first().entries.first()
    response = login(owner).post(
        reverse("readinglists:entry_remove", args=[syllabus.pk, entry.pk]),
        {"version": "\u00b2"},
        follow=True,
    )
    assert "The form was missing the list version" in response.content.decode()
    assert syllabus.sections.first().entries.filter(pk=entry.pk).exists()


def test_the_drag_and_drop_script_is_only_for_editors(syllabus, client, login, owner):
    services.set_visibility(syllabus, Visibility.PUBLIC)
    assert "readinglists.js" not in page(client, syllabus.get_absolute_url())
    assert "readinglists.js" in page(login(owner), syllabus.get_absolute_url())


def test_the_citation_cache_holds_a_long_list_in_two_styles(db, monkeypatch):
    # 320 citations: Django's default cache of 300 entries would already evict some; they
    # are stored in the database now, which keeps them all.
    from library.catalogue import citation_store
    from library.citations.records import CitationRecord
    from library.readinglists import presentation

    records = [CitationRecord(key=f"k{i}", type="other", title=f"T{i}") for i in range(160)]
    for style in ("apa", "chicago-author-date"):
        for record in records:
            presentation.formatted_citation(record, style)

    def refuse(*args, **kwargs):
        raise AssertionError("formatted again: the cache lost an entry")

    monkeypatch.setattr(citation_store, "format_bibliography", refuse)
    assert presentation.formatted_citation(records[0], "apa") == "<i>T0</i>. (n.d.)."
