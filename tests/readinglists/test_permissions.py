"""Every write endpoint: POST only, CSRF-checked, owner/collaborator only, 404 when private.

One table drives all the checks, so a new endpoint added to the table is covered by each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from library.readinglists import services
from library.readinglists.models import ReadingList, Visibility


@dataclass(frozen=True)
class Endpoint:
    name: str
    owner_only: bool = False
    get_allowed: bool = False  # shows a form or confirmation on GET, to editors only


ENDPOINTS = [
    Endpoint("edit"),
    Endpoint("delete", owner_only=True, get_allowed=True),
    Endpoint("visibility", owner_only=True),
    Endpoint("reissue_link", owner_only=True),
    Endpoint("add_collaborator", owner_only=True),
    Endpoint("remove_collaborator", owner_only=True),
    Endpoint("section_add"),
    Endpoint("section_move"),
    Endpoint("section_rename"),
    Endpoint("section_delete"),
    Endpoint("section_reorder"),
    Endpoint("entry_move"),
    Endpoint("entry_edit", get_allowed=True),
    Endpoint("entry_remove"),
]


@pytest.fixture
def world(reading_list, pieces, collaborator, django_user_model):
    services.set_visibility(reading_list, Visibility.UNLISTED)  # a link exists to reissue
    services.set_visibility(reading_list, Visibility.PRIVATE)
    section = services.add_section(reading_list, "Week 1", _version(reading_list))
    services.add_section(reading_list, "Week 2", _version(reading_list))
    entry = services.add_entry(reading_list, pieces[0], section)
    services.add_entry(reading_list, pieces[1], section)
    newcomer = django_user_model.objects.create_user(username="newcomer", password="x")
    return {
        "list": reading_list,
        "section": section,
        "entry": entry,
        "collaborator": collaborator,
        "newcomer": newcomer,
    }


def _version(rl: ReadingList) -> int:
    return ReadingList.objects.get(pk=rl.pk).version


def url_and_data(endpoint: Endpoint, world: dict) -> tuple[str, dict[str, Any]]:
    rl = world["list"]
    version = _version(rl)
    args: list[Any] = [rl.pk]
    data: dict[str, Any] = {"version": version}
    match endpoint.name:
        case "edit":
            data |= {"title": "Renamed", "description": "New"}
        case "visibility":
            data = {"visibility": "public"}
        case "add_collaborator":
            data = {"username": "newcomer"}
        case "remove_collaborator":
            args.append(world["collaborator"].pk)
        case "section_add":
            data |= {"title": "Week 3"}
        case "section_move":
            args.append(world["section"].pk)
            data |= {"direction": "down"}
        case "section_rename":
            args.append(world["section"].pk)
            data |= {"title": "Week One"}
        case "section_reorder":
            ids = list(world["section"].entries.order_by("position").values_list("pk", flat=True))
            data |= {"section": world["section"].pk, "order": ",".join(map(str, ids[::-1]))}
        case "section_delete":
            args.append(world["section"].pk)
        case "entry_move":
            args.append(world["entry"].pk)
            data |= {"direction": "down"}
        case "entry_edit":
            args.append(world["entry"].pk)
            data |= {"annotation": "Read pp. 2–5", "pages": "2–5", "required": "on"}
        case "entry_remove":
            args.append(world["entry"].pk)
    return reverse(f"readinglists:{endpoint.name}", args=args), data


def state(rl: ReadingList) -> tuple | None:
    row = ReadingList.objects.filter(pk=rl.pk).values_list("version", "visibility").first()
    return row


ids = [e.name for e in ENDPOINTS]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_the_owner_can_make_the_change(endpoint, world, client, owner):
    if endpoint.name == "reissue_link":
        services.set_visibility(world["list"], Visibility.UNLISTED)  # private lists have none
    client.force_login(owner)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    assert state(world["list"]) != before  # changed (version bumped) or deleted


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e.owner_only], ids=str)
def test_a_collaborator_can_make_the_change(endpoint, world, client, collaborator):
    client.force_login(collaborator)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    assert client.post(url, data).status_code == 302
    assert state(world["list"]) != before


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.owner_only], ids=str)
def test_a_collaborator_cannot_make_owner_only_changes(endpoint, world, client, collaborator):
    client.force_login(collaborator)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    assert client.post(url, data).status_code == 403
    assert state(world["list"]) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_a_signed_in_stranger_gets_404_for_a_private_list(endpoint, world, client, stranger):
    client.force_login(stranger)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    assert client.post(url, data).status_code == 404
    assert client.get(url).status_code in (404, 405)
    assert state(world["list"]) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_a_stranger_gets_404_for_an_unlisted_list_by_its_number(endpoint, world, client, stranger):
    services.set_visibility(world["list"], Visibility.UNLISTED)
    client.force_login(stranger)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    assert client.post(url, data).status_code == 404
    assert state(world["list"]) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_a_stranger_gets_403_for_a_public_list(endpoint, world, client, stranger):
    services.set_visibility(world["list"], Visibility.PUBLIC)
    client.force_login(stranger)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    assert client.post(url, data).status_code == 403
    assert state(world["list"]) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_an_anonymous_visitor_is_sent_to_sign_in(endpoint, world, client):
    services.set_visibility(world["list"], Visibility.PUBLIC)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert state(world["list"]) == before


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e.get_allowed], ids=str)
def test_get_is_refused_with_405(endpoint, world, client, owner):
    client.force_login(owner)
    url, _ = url_and_data(endpoint, world)
    before = state(world["list"])
    assert client.get(url).status_code == 405
    assert state(world["list"]) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_a_post_without_the_csrf_token_is_refused(endpoint, world, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url, data = url_and_data(endpoint, world)
    before = state(world["list"])
    assert client.post(url, data).status_code == 403
    assert state(world["list"]) == before


# The two writes that are not tied to one list's number in the URL.


def test_adding_a_piece_needs_post_csrf_and_edit_rights(world, pieces, client, owner, stranger):
    rl = world["list"]
    url = reverse("readinglists:add_piece")
    data = {"piece": pieces[2].citation_key, "target": str(rl.pk)}
    assert client.post(url, data).status_code == 302  # anonymous: to sign in
    assert rl.entries.count() == 2
    client.force_login(stranger)
    assert client.get(url).status_code == 405
    assert client.post(url, data).status_code == 404  # private: not revealed
    services.set_visibility(rl, Visibility.PUBLIC)
    assert client.post(url, data).status_code == 403
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    assert csrf_client.post(url, data).status_code == 403
    assert rl.entries.count() == 2
    client.force_login(owner)
    assert client.post(url, data).status_code == 302
    assert rl.entries.count() == 3


def test_duplicating_needs_post_csrf_and_read_access(world, client, owner, stranger):
    rl = world["list"]
    url = reverse("readinglists:duplicate", args=[rl.pk])
    assert client.post(url).status_code == 302
    client.force_login(stranger)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 404  # private
    assert not ReadingList.objects.filter(owner=stranger).exists()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(stranger)
    services.set_visibility(rl, Visibility.PUBLIC)
    assert csrf_client.post(url).status_code == 403
    assert not ReadingList.objects.filter(owner=stranger).exists()
    response = client.post(url)
    copy = ReadingList.objects.get(owner=stranger)
    assert response["Location"] == copy.get_absolute_url()
