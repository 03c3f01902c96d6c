"""The editor's import page: upload, preview, confirm."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from library.catalogue.models import Piece

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
pytestmark = pytest.mark.django_db


def upload(client, name: str, data: bytes | None = None, **fields):
    content = data if data is not None else (FIXTURES / name).read_bytes()
    payload = {"file": SimpleUploadedFile(name, content), "on_duplicate": "skip", **fields}
    return client.post(reverse("imports:upload"), payload)


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("imports:upload"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_readers_without_the_permission_are_refused(client, reader):
    client.force_login(reader)
    assert client.get(reverse("imports:upload")).status_code == 403
    assert upload(client, "truncated.bib").status_code == 403
    assert client.post(reverse("imports:confirm"), {"token": "x" * 22}).status_code == 403


def test_the_form_states_the_size_limit(editor_client):
    response = editor_client.get(reverse("imports:upload"))
    assert response.status_code == 200
    assert "50.0\xa0MB" in response.content.decode()


def test_uploading_shows_a_preview_and_writes_nothing(editor_client):
    response = upload(editor_client, "truncated.bib")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Found <strong>5</strong> entries" in page
    assert "broken2019" in page
    assert "expected &#x27;,&#x27; or &#x27;}&#x27; but found &#x27;t&#x27;" in page
    assert "<td>15</td>" in page  # the rejected entry's line
    assert Piece.objects.count() == 0


def test_confirming_imports_exactly_the_preview(editor_client, editor, settings):
    token = token_of(upload(editor_client, "truncated.bib"))
    stored = Path(settings.MEDIA_ROOT) / "imports" / token
    assert stored.exists()
    response = editor_client.post(reverse("imports:confirm"), {"token": token})
    assert response.status_code == 302
    assert sorted(Piece.objects.values_list("citation_key", flat=True)) == [
        "good2019one",
        "good2019two",
    ]
    assert Piece.objects.filter(created_by=editor).count() == 2
    assert not stored.exists()
    again = editor_client.post(reverse("imports:confirm"), {"token": token}, follow=True)
    assert "expired or was already done" in again.content.decode()
    assert Piece.objects.count() == 2


def test_duplicates_are_shown_beside_the_piece_they_match(editor_client, make_piece):
    existing = make_piece("Mosul Operation", citation_key="basit2016mosul")
    page = upload(editor_client, "endnote.ris").content.decode()
    assert "Duplicates (1)" in page
    assert existing.get_absolute_url() in page
    assert (
        "same citation key (basit2016mosul) and title identical leaving out a subtitle, "
        "same year; will be skipped"
    ) in page


def test_titles_are_escaped_in_the_preview(editor_client):
    data = b"@misc{x, title={<script>alert(1)</script>}}"
    page = upload(editor_client, "x.bib", data).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_file_over_the_limit_is_refused_before_parsing(editor_client, settings):
    settings.DOSSIER_MAX_IMPORT_BYTES = 100
    response = upload(editor_client, "jabref.bib")
    assert "over the import limit of 100 bytes" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [("web-of-science.ris", "Web of Science"), ("garbage.bin", "binary data")],
)
def test_unreadable_files_are_refused_with_the_reason(editor_client, name, message):
    response = upload(editor_client, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Piece.objects.count() == 0


def test_a_catalogue_change_after_the_preview_shows_a_new_preview(editor_client, make_piece):
    token = token_of(upload(editor_client, "truncated.bib"))
    make_piece(
        "The First Good Entry",
        authors=("Alice First",),
        citation_key="elsewhere",
        date=datetime.date(2019, 1, 1),
    )
    response = editor_client.post(reverse("imports:confirm"), {"token": token})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The catalogue changed since the preview" in page
    assert Piece.objects.count() == 1


def test_another_editors_token_does_not_work(editor_client, client, django_user_model):
    from django.contrib.auth.models import Group

    token = token_of(upload(editor_client, "truncated.bib"))
    other = django_user_model.objects.create_user(username="other", password="x" * 12)
    other.groups.add(Group.objects.get(name="Editors"))
    client.force_login(other)
    response = client.post(reverse("imports:confirm"), {"token": token})
    assert response.status_code == 302
    assert Piece.objects.count() == 0


def test_cancelling_deletes_the_stored_file(editor_client, settings):
    token = token_of(upload(editor_client, "truncated.bib"))
    editor_client.post(reverse("imports:cancel"), {"token": token})
    assert not (Path(settings.MEDIA_ROOT) / "imports" / token).exists()
    assert Piece.objects.count() == 0


def test_confirm_only_accepts_post(editor_client):
    assert editor_client.get(reverse("imports:confirm")).status_code == 405


def test_an_upload_over_the_limit_is_not_stored_past_the_limit(editor_client, settings):
    store = Path(settings.MEDIA_ROOT) / "imports"
    before = set(store.iterdir()) if store.exists() else set()
    settings.DOSSIER_MAX_IMPORT_BYTES = 2048
    data = b"@misc{a, title={A}}\n" + b"%" * 10_000
    response = upload(editor_client, "big.bib", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "over the import limit of 2,048 bytes" in page
    assert (set(store.iterdir()) if store.exists() else set()) == before


def test_the_upload_still_checks_the_csrf_token(client, editor):
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("a.bib", b"@misc{a, title={A}}"), "on_duplicate": "skip"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "fields", "expected"),
    [
        (
            "@misc{a, title={A}, note={\\href{https://x.org}{site}}}\n".encode("utf-16"),
            {},
            "Found <strong>1</strong> entry",
        ),
        ("@misc{a, title={A}}\n".encode("utf-32-le"), {}, "Found <strong>1</strong> entry"),
        (b"@misc{a, title={A}}\n", {"encoding": "undefined"}, "not a text encoding"),
        (b"[" * 20000 + b"]" * 20000, {"format": "csljson"}, "nested too deeply"),
    ],
)
def test_odd_input_gives_a_preview_or_an_error_never_a_500(editor_client, data, fields, expected):
    response = upload(editor_client, "odd.bib", data, **fields)
    assert response.status_code in (200, 400)
    assert expected in response.content.decode()
