"""Accounts: sign-up with Django's password validators, password change, throttled sign-in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.readinglists.conftest import PASSWORD


def test_signing_up_checks_the_password_and_signs_the_new_reader_in(client, db):
    url = reverse("signup")
    weak = client.post(url, {"username": "amira", "password1": "password", "password2": "password"})
    assert weak.status_code == 400
    assert "This password is too common." in weak.content.decode()
    numeric = client.post(
        url, {"username": "amira", "password1": "4815162342", "password2": "4815162342"}
    )
    assert "This password is entirely numeric." in numeric.content.decode()
    mismatch = client.post(url, {"username": "amira", "password1": PASSWORD, "password2": "other"})
    assert "didn’t match" in mismatch.content.decode()
    assert not get_user_model().objects.exists()

    response = client.post(
        url, {"username": "Amira_Ḥ", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response["Location"] == reverse("readinglists:index")
    user = get_user_model().objects.get()
    assert user.username == "Amira_Ḥ"
    assert not user.has_perm("catalogue.add_piece")
    assert "Amira_Ḥ" in client.get(reverse("readinglists:index")).content.decode()


def test_sign_up_can_be_turned_off(client, db, settings):
    settings.DOSSIER_ALLOW_SIGNUP = False
    assert client.get(reverse("signup")).status_code == 404


def test_changing_the_password_needs_the_current_one(client, owner):
    client.force_login(owner)
    url = reverse("password_change")
    assert "Old password" in client.get(url).content.decode()
    wrong = client.post(
        url,
        {
            "old_password": "wrong",
            "new_password1": "a new long phrase 7",
            "new_password2": "a new long phrase 7",
        },
    )
    assert "Your old password was entered incorrectly." in wrong.content.decode()
    common = client.post(
        url, {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"}
    )
    assert "This password is too common." in common.content.decode()
    ok = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "a new long phrase 7",
            "new_password2": "a new long phrase 7",
        },
    )
    assert ok["Location"] == reverse("password_change_done")
    owner.refresh_from_db()
    assert owner.check_password("a new long phrase 7")
    assert "Password changed" in client.get(ok["Location"]).content.decode()


def test_sign_in_is_throttled_after_repeated_failures(client, owner, stranger, settings):
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "teacher", "password": "guess"})
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    locked = client.post(url, {"username": "teacher", "password": "guess"})
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Even the right password is refused while the lock lasts ...
    assert client.post(url, {"username": "teacher", "password": PASSWORD}).status_code == 429
    assert "_auth_user_id" not in client.session
    # ... for that account from that address only: another reader can still sign in.
    other = client.post(url, {"username": "stranger", "password": PASSWORD})
    assert other.status_code == 302
    assert client.session["_auth_user_id"] == str(stranger.pk)


def test_the_sign_in_page_links_to_sign_up(client, db):
    html = client.get(reverse("login")).content.decode()
    assert reverse("signup") in html


@pytest.mark.parametrize("name", ["signup", "login"])
def test_account_forms_carry_a_csrf_token(client, db, name):
    assert "csrfmiddlewaretoken" in client.get(reverse(name)).content.decode()
