"""Catalogue addresses come from a per-process memo (catalogue/links.py): each must equal a
fresh ``reverse()`` under whatever script prefix and URL configuration is in use."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import clear_script_prefix, reverse, set_script_prefix

from library.catalogue.models import Author, Region, Topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(make_piece):
    piece = make_piece(
        "Links",
        authors=("Ümit Yılmaz",),
        topics=("terrorism",),
        regions=("iraq",),
        citation_key="Yilmaz2016:a.b+c-d",
    )
    return [
        (piece, "catalogue:piece", piece.citation_key),
        *[(a, "catalogue:author", a.slug) for a in Author.objects.all()],
        *[(t, "catalogue:topic", t.slug) for t in Topic.objects.filter(pieces=piece)],
        *[(r, "catalogue:region", r.slug) for r in Region.objects.filter(pieces=piece)],
    ]


def test_each_address_equals_reverse_and_follows_the_script_prefix(objects):
    for obj, name, slug in objects:
        assert obj.get_absolute_url() == reverse(name, args=[slug])
    try:
        set_script_prefix("/mount/")
        for obj, name, slug in objects:
            url = obj.get_absolute_url()
            assert url == reverse(name, args=[slug])
            assert url.startswith("/mount/")
    finally:
        clear_script_prefix()
    for obj, name, slug in objects:  # not the addresses memoized under /mount/
        assert obj.get_absolute_url() == reverse(name, args=[slug])
        assert not obj.get_absolute_url().startswith("/mount/")


def test_another_url_configuration_gets_its_own_addresses(objects):
    piece, _, key = objects[0]
    plain = piece.get_absolute_url()
    with override_settings(ROOT_URLCONF="tests.catalogue.mounted_urls"):
        assert piece.get_absolute_url() == reverse("catalogue:piece", args=[key])
        assert piece.get_absolute_url() == f"/under{plain}"
    assert piece.get_absolute_url() == plain


def test_a_page_served_under_a_script_prefix_links_there(client, objects):
    """As the WSGI handler sets it from ``SCRIPT_NAME`` (the test client does not)."""
    piece = objects[0][0]
    client.get("/pieces/")  # the addresses under no prefix, memoized first
    try:
        set_script_prefix("/mount/")
        html = client.get("/pieces/").content.decode()
    finally:
        clear_script_prefix()
    assert f'href="/mount/pieces/{piece.citation_key}/"' in html
    html = client.get("/pieces/").content.decode()
    assert f'href="/pieces/{piece.citation_key}/"' in html
