"""Author slugs stay readable for names outside ASCII."""

from __future__ import annotations

import pytest

from library.catalogue.models import Author


@pytest.mark.parametrize(
    ("family", "given", "slug"),
    [
        ("Wæver", "Ole", "ole-waever"),
        ("Nguyễn", "Thị Bình", "thi-binh-nguyen"),
        ("כהן", "דוד", "dvd-khhn"),
        ("毛", "泽东", "zedong-mao"),
        ("Ибрагимов", "Руслан", "ruslan-ibragimov"),
    ],
)
def test_a_non_ascii_name_gives_a_readable_slug(db, family, given, slug):
    assert Author.objects.create(family=family, given=given).slug == slug


def test_names_that_transliterate_alike_still_get_unique_slugs(db):
    first = Author.objects.create(family="Wæver", given="Ole")
    second = Author.objects.create(family="Waever", given="Ole")
    assert (first.slug, second.slug) == ("ole-waever", "ole-waever-2")
