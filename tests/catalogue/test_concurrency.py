"""Optimistic concurrency on pieces: two editors, one piece, no silently lost update."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from lxml import html as lxml_html

from library.catalogue.concurrency import StalePiece, merge
from library.catalogue.models import Piece
from library.catalogue.services import PieceContributors, PieceTags, save_piece

pytestmark = pytest.mark.django_db


def form_fields(response, form_id: str | None = None) -> dict[str, list[str]]:
    """The values a browser would post from the page's form (the one with ``form_id``)."""
    doc = lxml_html.fromstring(response.content.decode())
    form = doc.get_element_by_id(form_id) if form_id else doc.forms[-1]
    fields: dict[str, list[str]] = {}
    for name, value in form.form_values():
        # Browsers drop the newline Django writes after <textarea>; lxml keeps it.
        fields.setdefault(name, []).append(value.removeprefix("\n"))
    return fields


def post(client: Client, url: str, fields: dict[str, list[str]], **changes: str):
    data = {**fields, **{name: [value] for name, value in changes.items()}}
    return client.post(url, data)


@pytest.fixture
def second_editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


def test_a_stale_edit_is_refused_shows_the_change_and_saves_when_reapplied(
    editor_client, second_editor_client, make_piece
):
    piece = make_piece("Shared piece", synopsis="Old synopsis", note="Old note")
    url = reverse("catalogue:piece_edit", args=[piece.citation_key])
    page_a = form_fields(editor_client.get(url))
    page_b = form_fields(second_editor_client.get(url))

    assert post(editor_client, url, page_a, synopsis="A's synopsis").status_code == 302
    refused = post(second_editor_client, url, page_b, note="B's note")

    assert refused.status_code == 409
    text = refused.content.decode()
    assert "Someone else saved this piece" in text
    assert "A&#x27;s synopsis" in text or "A's synopsis" in text
    piece.refresh_from_db()
    assert (piece.synopsis, piece.note, piece.version) == ("A's synopsis", "Old note", 2)
    # The refused form already holds A's synopsis and B's note: saving it applies B's change.
    again = form_fields(refused)
    assert again["synopsis"] == ["A's synopsis"]
    assert again["note"] == ["B's note"]
    assert post(second_editor_client, url, again).status_code == 302
    piece.refresh_from_db()
    assert (piece.synopsis, piece.note, piece.version) == ("A's synopsis", "B's note", 3)


def test_a_field_both_editors_changed_keeps_yours_and_shows_theirs(
    editor_client, second_editor_client, make_piece
):
    piece = make_piece("Shared piece", synopsis="Old")
    url = reverse("catalogue:piece_edit", args=[piece.citation_key])
    page_a = form_fields(editor_client.get(url))
    page_b = form_fields(second_editor_client.get(url))
    post(editor_client, url, page_a, synopsis="Theirs")
    refused = post(second_editor_client, url, page_b, synopsis="Mine")
    assert refused.status_code == 409
    form = refused.context["form"]
    assert form["synopsis"].value() == "Mine"
    assert "Theirs" in " ".join(form.errors["synopsis"])
    piece.refresh_from_db()
    assert piece.synopsis == "Theirs"


def test_an_edit_of_the_current_version_saves_and_bumps_it(editor_client, make_piece):
    piece = make_piece("Piece")
    url = reverse("catalogue:piece_edit", args=[piece.citation_key])
    fields = form_fields(editor_client.get(url))
    assert fields["edit_version"] == ["1"]
    assert post(editor_client, url, fields, note="n").status_code == 302
    piece.refresh_from_db()
    assert (piece.note, piece.version) == ("n", 2)


def test_a_service_save_built_on_an_old_version_writes_nothing(make_piece):
    piece = make_piece("Piece", synopsis="first")
    stale = Piece.objects.get(pk=piece.pk)
    piece.synopsis = "second"
    save_piece(piece, PieceContributors(), PieceTags(), expected_version=1)
    stale.synopsis = "stale"
    with pytest.raises(StalePiece) as refused:
        save_piece(stale, PieceContributors(), PieceTags(), expected_version=1)
    assert (refused.value.expected, refused.value.current) == (1, 2)
    assert Piece.objects.get(pk=piece.pk).synopsis == "second"


def test_the_merge_takes_theirs_keeps_mine_and_flags_both():
    from library.catalogue.concurrency import _digest

    base = {name: _digest("old") for name in ("a", "b", "c", "d")}
    yours = {"a": "old", "b": "mine", "c": "mine", "d": "old"}
    theirs = {"a": "theirs", "b": "old", "c": "theirs", "d": "old"}
    merged, changes = merge(base, yours, theirs)
    assert merged == {"a": "theirs", "b": "mine", "c": "mine", "d": "old"}
    assert [(c.name, c.conflict) for c in changes] == [("a", False), ("c", True)]


def test_the_admin_refuses_a_stale_save_too(make_piece, admin_user):
    piece = make_piece("Admin piece", synopsis="Old synopsis", note="Old note")
    first, second = Client(), Client()
    first.force_login(admin_user)
    second.force_login(admin_user)
    url = reverse("admin:catalogue_piece_change", args=[piece.pk])
    page_a = form_fields(first.get(url), "piece_form")
    page_b = form_fields(second.get(url), "piece_form")
    assert page_a["edit_version"] == ["1"]

    assert post(first, url, page_a, synopsis="A's synopsis").status_code == 302
    refused = post(second, url, page_b, note="B's note")
    assert refused.status_code == 200  # the admin shows a refused form with its errors
    assert "Someone else saved this piece" in refused.content.decode()
    piece.refresh_from_db()
    assert (piece.synopsis, piece.note, piece.version) == ("A's synopsis", "Old note", 2)

    again = form_fields(refused, "piece_form")
    assert again["synopsis"] == ["A's synopsis"]
    assert again["note"] == ["B's note"]
    assert post(second, url, again).status_code == 302
    piece.refresh_from_db()
    assert (piece.synopsis, piece.note, piece.version) == ("A's synopsis", "B's note", 3)


EDITOR_PROCESS = """
import os, sys, time
import django
django.setup()
from library.catalogue.authors import parse_name
from library.catalogue.concurrency import StalePiece
from library.catalogue.models import Piece
from library.catalogue.services import PieceContributors, PieceTags, save_piece

pk, field, value, go = sys.argv[1:]
piece = Piece.objects.get(pk=pk)
loaded = piece.version
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
setattr(piece, field, value)
try:
    save_piece(
        piece,
        PieceContributors(authors=[parse_name("Abdul Basit")]),
        PieceTags(),
        expected_version=loaded,
    )
except StalePiece:
    print("stale", flush=True)
else:
    print("saved", flush=True)
"""


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_processes_saving_the_same_version_save_once_and_refuse_once(make_piece, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    piece = make_piece("Contended piece", synopsis="Old", note="Old")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    root = Path(__file__).resolve().parents[2]
    go = tmp_path / "go"
    editors = [
        subprocess.Popen(
            [sys.executable, "-c", EDITOR_PROCESS, str(piece.pk), field, f"{field} edit", str(go)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for field in ("synopsis", "note")
    ]
    for editor in editors:
        assert editor.stdout.readline().strip() == "ready", editor.stderr.read()
    go.touch()
    results = []
    for editor in editors:
        out, err = editor.communicate(timeout=120)
        assert editor.returncode == 0, err
        results.append(out.strip())
    assert sorted(results) == ["saved", "stale"]
    piece.refresh_from_db()
    assert piece.version == 2
    winner = ("synopsis", "note")[results.index("saved")]
    assert getattr(piece, winner) == f"{winner} edit"
    loser = ("synopsis", "note")[results.index("stale")]
    assert getattr(piece, loser) == "Old"
