"""Reading lists read stored citations: formatted when an entry is added, redone after edits.

Runs on both databases: the stored texts are what several app instances share.
"""

from __future__ import annotations

import pytest

from library.catalogue import citation_store
from library.catalogue.models import Author, FormattedCitation, Piece
from library.citations.styles import STYLES
from library.readinglists import services
from library.readinglists.models import ReadingList, Visibility


def _v(rl: ReadingList) -> int:
    return ReadingList.objects.get(pk=rl.pk).version


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def listed(reading_list, pieces):
    for piece in pieces:
        services.add_entry(reading_list, piece)
    return reading_list


@pytest.fixture
def no_citeproc(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("citeproc ran: the stored citation was not used")

    monkeypatch.setattr(citation_store, "format_bibliography", refuse)


def test_an_added_entry_is_stored_in_every_style(listed, pieces):
    for piece in pieces:
        assert set(
            FormattedCitation.objects.filter(piece_id=piece.pk).values_list("style", flat=True)
        ) == set(STYLES)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_the_first_view_in_any_style_runs_no_citeproc(listed, login, owner, no_citeproc, style):
    html = page(login(owner), listed.get_absolute_url() + f"?style={style}")
    assert "Mosul Operation" in html


def test_an_edited_piece_is_cited_as_it_now_is(listed, pieces, client):
    # Read as the public does: editors' buttons name entries by their snapshot title.
    services.set_visibility(listed, Visibility.PUBLIC)
    assert "After the Caliphate" in page(client, listed.get_absolute_url())
    piece = Piece.objects.get(pk=pieces[1].pk)
    piece.title = "Before the Caliphate"
    piece.save()
    assert not FormattedCitation.objects.filter(piece_id=piece.pk).exists()
    html = page(client, listed.get_absolute_url())
    assert "Before the Caliphate" in html
    assert "After the Caliphate" not in html
    assert FormattedCitation.objects.filter(piece_id=piece.pk).count() == 1


def test_a_renamed_author_is_cited_with_the_new_name(listed, login, owner):
    client = login(owner)
    assert "Gunaratna, Rohan" in page(client, listed.get_absolute_url())
    author = Author.objects.get(family="Gunaratna")
    author.given = "R. K."
    author.save()
    html = page(client, listed.get_absolute_url())
    assert "Gunaratna, R. K." in html
    assert "Gunaratna, Rohan" not in html


def test_entry_edits_show_at_once(listed, login, owner):
    client = login(owner)
    page(client, listed.get_absolute_url())
    entry = listed.entries.get(piece__title="After the Caliphate")
    services.update_entry(
        entry, _v(listed), annotation="Read the epilogue first.", pages="p. 9", required=True
    )
    html = page(client, listed.get_absolute_url())
    assert "Read the epilogue first." in html
    assert "p. 9" in html
    services.remove_entry(listed.entries.get(pk=entry.pk), _v(listed))
    assert "After the Caliphate" not in page(client, listed.get_absolute_url())


def test_a_deleted_piece_is_cited_from_its_snapshot(listed, pieces, login, owner):
    client = login(owner)
    Piece.objects.get(pk=pieces[2].pk).delete()
    assert "Foreign Fighters Return" in page(client, listed.get_absolute_url() + "?style=apa")


def test_a_style_beyond_the_defaults_is_stored_by_the_first_request_that_asks(
    listed, pieces, monkeypatch
):
    # The four defaults are formatted when an entry is added; any other bundled style
    # (the style chooser offers them all) on first need, then read like the others.
    from library.citations import styles
    from library.citations.from_piece import record_from_piece

    assert not FormattedCitation.objects.filter(style="ieee").exists()
    monkeypatch.setitem(styles.STYLES, "ieee", "IEEE")  # as the chooser lets a reader ask
    items = [(record_from_piece(p), p.pk) for p in pieces]
    first = citation_store.formatted_citations(items, "ieee")
    assert FormattedCitation.objects.filter(style="ieee").count() == len(pieces)

    def refuse(*args, **kwargs):
        raise AssertionError("citeproc ran: the stored citation was not used")

    monkeypatch.setattr(citation_store, "format_bibliography", refuse)
    assert citation_store.formatted_citations(items, "ieee") == first
    assert "Mosul Operation" in first[0]
