"""Request bodies are bounded before they are written: 413, and less than the limit on disk."""

from __future__ import annotations

import functools
import tempfile

import pytest
from django.core.files import temp as django_temp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from library.uploads import BoundedUploadHandler, RequestBodyTooLarge

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024


@pytest.fixture
def upload_dir(settings, tmp_path, monkeypatch):
    """Uploads go to a temporary file at once, in tmp_path, and stay there to be measured."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.DOSSIER_MAX_REQUEST_BYTES = LIMIT
    settings.DOSSIER_MAX_ANONYMOUS_REQUEST_BYTES = LIMIT // 4
    monkeypatch.setattr(
        django_temp,
        "NamedTemporaryFile",
        functools.partial(tempfile.NamedTemporaryFile, delete=False),
    )
    return tmp_path


def bytes_on_disk(folder) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def big_file(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"x" * (size - 9))


def test_an_anonymous_body_ten_times_the_limit_is_refused_before_it_reaches_the_disk(
    upload_dir,
):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32  # self-made, as the audit's attacker did
    response = client.post(
        reverse("catalogue:piece_upload"),
        {"csrfmiddlewaretoken": "a" * 32, "files": big_file(10 * LIMIT)},
    )
    assert response.status_code == 413
    assert "not signed in" in response.content.decode()
    assert bytes_on_disk(upload_dir) < LIMIT // 4


def test_an_editor_body_ten_times_the_limit_is_refused_with_the_limit_named(
    upload_dir, editor_client
):
    response = editor_client.post(
        reverse("catalogue:piece_upload"), {"files": big_file(10 * LIMIT)}
    )
    assert response.status_code == 413
    assert "0.1 MB" in response.content.decode()
    assert bytes_on_disk(upload_dir) < LIMIT


def test_without_the_middleware_the_upload_handler_still_stops_the_body(
    upload_dir, editor_client, settings
):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "library.uploads.BodyLimitMiddleware"
    ]
    response = editor_client.post(
        reverse("catalogue:piece_upload"), {"files": big_file(10 * LIMIT)}
    )
    assert response.status_code == 400  # Django's answer to RequestDataTooBig
    assert bytes_on_disk(upload_dir) < LIMIT


def test_the_handler_refuses_the_chunk_that_would_pass_the_limit(rf, settings, editor):
    settings.DOSSIER_MAX_REQUEST_BYTES = LIMIT
    request = rf.post("/")
    request.user = editor
    handler = BoundedUploadHandler(request)
    handler.handle_raw_input(None, {}, LIMIT // 2, b"boundary")
    stored = 0
    while stored + 8192 <= LIMIT:
        stored += len(handler.receive_data_chunk(b"x" * 8192, stored))
    with pytest.raises(RequestBodyTooLarge):
        handler.receive_data_chunk(b"x" * 8192, stored)
    assert stored == LIMIT


def test_a_body_within_the_limit_is_read_as_before(upload_dir, editor_client):
    response = editor_client.post(reverse("catalogue:piece_upload"), {"files": big_file(1024)})
    assert response.status_code == 200  # the review page, with the file's problems
    assert bytes_on_disk(upload_dir) >= 1024


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    import runpy
    from pathlib import Path

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))


def test_gunicorn_bounds_the_request_line_and_headers(monkeypatch):
    conf = gunicorn_settings(monkeypatch)
    assert conf["limit_request_line"] == 8190
    assert conf["limit_request_fields"] == 64
    assert conf["limit_request_field_size"] == 8190


def test_gunicorn_instances_do_not_share_a_control_socket(monkeypatch, tmp_path):
    assert gunicorn_settings(monkeypatch)["control_socket_disable"] is True
    own = str(tmp_path / "instance-a.ctl")
    conf = gunicorn_settings(monkeypatch, GUNICORN_CONTROL_SOCKET=own)
    assert conf["control_socket"] == own
    assert conf["control_socket_disable"] is False


def test_a_request_limit_below_the_anonymous_one_still_bounds_editors(
    upload_dir, editor_client, settings
):
    settings.DOSSIER_MAX_ANONYMOUS_REQUEST_BYTES = 10 * LIMIT
    response = editor_client.post(reverse("catalogue:piece_upload"), {"files": big_file(2 * LIMIT)})
    assert response.status_code == 413
    assert bytes_on_disk(upload_dir) < LIMIT
