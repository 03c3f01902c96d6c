"""Tokens (made and revoked on a page, stored hashed) and rate limits."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.base import ContentFile

from library.api.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_makes_a_token_shown_once_and_stored_only_as_a_hash(editor_client):
    page = editor_client.post("/api/tokens/", {"name": "Zotero sync"})
    assert page.status_code == 200
    raw = re.search(r'<code id="new-token">([^<]+)</code>', page.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.name == "Zotero sync"
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {getattr(token, f.attname) for f in ApiToken._meta.fields}
    assert raw not in editor_client.get("/api/tokens/").content.decode()
    used = editor_client.get("/api/lists/mine/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert used.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_token_is_refused(client, editor, editor_token, bearer):
    client.force_login(editor)
    token = ApiToken.objects.get(user=editor)
    response = client.post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    client.logout()
    assert client.get("/api/lists/mine/", **bearer(editor_token)).status_code == 401


def test_nobody_revokes_someone_elses_token(client, reader, editor_token):
    client.force_login(reader)
    token = ApiToken.objects.get()
    client.post(f"/api/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_token_page_needs_a_sign_in(client, db):
    response = client.get("/api/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_token_of_a_deactivated_user_is_refused(client, editor, editor_token, bearer):
    editor.is_active = False
    editor.save()
    assert client.get("/api/lists/mine/", **bearer(editor_token)).status_code == 401


def test_anonymous_callers_are_limited_per_address_with_retry_after(client, db, settings):
    settings.DOSSIER_API_RATE_ANON = 3
    statuses = [client.get("/api/topics/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/topics/")
    assert 0 < int(refused["Retry-After"]) <= 60
    other = client.get("/api/topics/", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_each_token_has_its_own_higher_limit(client, editor_token, reader_token, bearer, settings):
    settings.DOSSIER_API_RATE_ANON = 1
    settings.DOSSIER_API_RATE_AUTH = 2
    editor = [client.get("/api/topics/", **bearer(editor_token)).status_code for _ in range(3)]
    assert editor == [200, 200, 429]
    assert client.get("/api/topics/", **bearer(reader_token)).status_code == 200


def test_a_forged_forwarded_address_does_not_escape_the_limit(client, db, settings):
    settings.DOSSIER_API_RATE_ANON = 1
    assert client.get("/api/topics/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert client.get("/api/topics/", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, db, settings):
    settings.DOSSIER_API_RATE_ANON = 1
    settings.DOSSIER_API_TRUSTED_PROXIES = 1
    first = client.get("/api/topics/", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1")
    assert first.status_code == 200
    assert client.get("/api/topics/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert client.get("/api/topics/", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


def test_administrators_list_tokens_but_cannot_add_one_there(admin_client, editor_token):
    page = admin_client.get("/admin/api/apitoken/")
    assert page.status_code == 200
    assert "test script" in page.content.decode()
    assert editor_token not in page.content.decode()
    assert admin_client.get("/admin/api/apitoken/add/").status_code == 403


def test_a_token_opens_the_attachment_url_the_api_hands_out(
    client, make_piece, editor_token, bearer, settings
):
    """ATTACHMENTS_PUBLIC=0: the PDF is for signed-in users, and a script's token signs it in."""
    settings.DOSSIER_ATTACHMENTS_PUBLIC = False
    piece = make_piece("With a file")
    piece.attachment.save("attachment.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    detail = client.get(f"/api/pieces/{piece.citation_key}/", **bearer(editor_token)).json()
    url = detail["attachment_url"]

    response = client.get(url, **bearer(editor_token))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"

    refused = client.get(url, **bearer("dos_not-a-real-token"))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get(url).status_code == 302  # no credentials: the sign-in page, as before
