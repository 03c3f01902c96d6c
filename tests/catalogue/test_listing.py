"""List items come from the pages cache under a digest of what they show
(library/catalogue/listing.py): the same HTML as rendering them, and never an old one.

Runs on both databases. The item template's renders are counted with Django's
``template_rendered`` signal, which the test environment sends for every template.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager

import pytest
from django.core.cache import caches
from django.db import connection
from django.template.loader import render_to_string
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext

from library.catalogue.listing import ITEM_TEMPLATE, item_key, rendered_items
from library.catalogue.models import Author, Authorship, Piece, PieceType, Region, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece


@pytest.fixture(autouse=True)
def empty_page_cache():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def pieces(make_piece) -> list[Piece]:
    return [
        make_piece(
            "Mosul Operation",
            subtitle="The Fall of the Caliphate",
            authors=("Abdul Basit", "Zoë Marks"),
            topics=("sieges", "terrorism"),
            regions=("iraq",),
            series="RSIS Commentaries",
            number="255",
            synopsis="The battle for Mosul. " * 40,
        ),
        make_piece(
            "Deterrence at Sea",
            type=PieceType.ARTICLE,
            container_title="Survival",
            authors=("Rohan Gunaratna",),
            date=datetime.date(2020, 1, 1),
        ),
        make_piece("A Report Without Authors", type=PieceType.REPORT, authors=(), date=None),
        make_piece("Strategy & <Tactics>", type=PieceType.BOOK, publisher="Routledge & Sons"),
    ]


@contextmanager
def item_renders():
    """The item template's renders inside the block, as a list that fills while it runs."""
    rendered: list[str] = []

    def record(sender, template, context, **kwargs):
        if template.name == ITEM_TEMPLATE:
            rendered.append(context["piece"].title)

    template_rendered.connect(record)
    try:
        yield rendered
    finally:
        template_rendered.disconnect(record)


def resave(piece: Piece, **changes) -> None:
    """``save_piece`` with the piece's own byline and tags unless ``changes`` has others."""
    piece = Piece.objects.with_related().get(pk=piece.pk)
    contributors = changes.pop("contributors", None) or PieceContributors(
        authors=piece.authors, editors=piece.editors
    )
    tags = changes.pop("tags", None) or PieceTags(
        topics=piece.topics.all(), regions=piece.regions.all(), keywords=piece.keywords
    )
    for name, value in changes.items():
        setattr(piece, name, value)
    save_piece(piece, contributors, tags)


def listed(ids: list[int]) -> list[Piece]:
    """The pieces as the list pages load them."""
    return list(Piece.objects.with_related().defer("body").filter(pk__in=ids).order_by("pk"))


def test_cached_items_are_what_the_item_template_renders(rf, pieces):
    request = rf.get("/pieces/")
    ids = [piece.pk for piece in pieces]
    expected = [
        render_to_string(ITEM_TEMPLATE, {"piece": piece, "request": request})
        for piece in listed(ids)
    ]
    assert "Strategy &amp; &lt;Tactics&gt;" in expected[3]  # escaped, as the template does
    with item_renders() as rendered:
        first = rendered_items(request, listed(ids))
    assert len(rendered) == len(pieces)
    with item_renders() as rendered:
        second = rendered_items(request, listed(ids))
    assert rendered == []
    assert first == second == expected


def test_a_list_page_renders_only_the_items_whose_rows_changed(client, pieces):
    with item_renders() as rendered:
        client.get("/pieces/")
    assert sorted(rendered) == sorted(piece.title for piece in pieces)
    with item_renders() as rendered:
        client.get("/pieces/")
    assert rendered == []

    resave(pieces[1], title="Deterrence Beneath the Sea")
    with item_renders() as rendered:
        html = client.get("/pieces/").content.decode()
    assert rendered == ["Deterrence Beneath the Sea"]
    assert "Deterrence Beneath the Sea" in html
    assert "Deterrence at Sea" not in html


def _rename_author(pieces):
    Author.objects.filter(slug="zoe-marks").update(family="Marks-Okafor")
    return "Marks-Okafor", ">Zoë Marks<"


def _reslug_region(pieces):
    Region.objects.filter(slug="iraq").update(slug="republic-of-iraq")
    return "/regions/republic-of-iraq/", "/regions/iraq/"


def _rename_topic(pieces):
    Topic.objects.filter(slug="sieges").update(name="Blockades")
    return ">Blockades<", ">Sieges<"


def _untag(pieces):
    terrorism = Topic.objects.filter(slug="terrorism")
    resave(pieces[0], tags=PieceTags(topics=terrorism, regions=pieces[0].regions.all()))
    return ">Terrorism<", ">Sieges<"


def _reorder_byline(pieces):
    byline = Piece.objects.with_related().get(pk=pieces[0].pk).authors
    resave(pieces[0], contributors=PieceContributors(authors=byline[::-1]))
    return "Zoë Marks</a>, <a", "Abdul Basit</a>, <a"


def _change_the_date(pieces):
    Piece.objects.filter(pk=pieces[1].pk).update(date=datetime.date(2021, 3, 1))
    return 'datetime="2021-03-01"', 'datetime="2020-01-01"'


@pytest.mark.parametrize(
    "edit",
    [_rename_author, _reslug_region, _rename_topic, _untag, _reorder_byline, _change_the_date],
)
def test_an_edit_of_anything_an_item_shows_shows_on_the_next_request(client, pieces, edit):
    # Bulk updates and relation writes send no piece signal: the digest alone tells.
    before = client.get("/pieces/").content.decode()
    new, old = edit(pieces)
    assert old in before
    after = client.get("/pieces/").content.decode()
    assert new in after
    assert old not in after


def test_every_loaded_column_is_in_the_key(pieces):
    piece = listed([pieces[0].pk])[0]
    authorship = piece.authorships.all()[0]
    rows = [
        piece,
        authorship,
        authorship.author,
        piece.topics.all()[0],
        piece.regions.all()[0],
    ]
    assert {type(row) for row in rows} == {Piece, Authorship, Author, Topic, Region}
    before = item_key(piece)
    for row in rows:
        for field in row._meta.concrete_fields:
            if field.attname not in row.__dict__:
                continue  # deferred: the body
            saved = row.__dict__[field.attname]
            # A value equal to nothing else (ids stay numbers: rows are put in id order).
            row.__dict__[field.attname] = saved + 10**9 if field.primary_key else object()
            assert item_key(piece) != before, f"{type(row).__name__}.{field.attname}"
            row.__dict__[field.attname] = saved
    assert item_key(piece) == before
    assert "body" not in piece.__dict__


def test_a_piece_loaded_with_other_fields_is_another_item(pieces):
    whole = Piece.objects.with_related().get(pk=pieces[0].pk)
    without_body = listed([pieces[0].pk])[0]
    assert item_key(whole) != item_key(without_body)


def test_the_site_address_is_in_the_key(rf, pieces):
    # The COinS span links to the piece's page by its absolute address.
    ids = [pieces[0].pk]
    http = rendered_items(rf.get("/pieces/"), listed(ids))[0]
    https = rendered_items(rf.get("/pieces/", secure=True), listed(ids))[0]
    assert "http%3A%2F%2Ftestserver%2F" in http
    assert "https%3A%2F%2Ftestserver%2F" in https


def test_a_page_of_items_is_one_read_of_the_database_cache(rf, pieces, database_page_cache):
    request = rf.get("/pieces/")
    ids = [piece.pk for piece in pieces]
    first = rendered_items(request, listed(ids))
    loaded = listed(ids)
    with CaptureQueriesContext(connection) as queries, item_renders() as rendered:
        second = rendered_items(request, loaded)
    assert rendered == []
    assert second == first
    assert len([q for q in queries if database_page_cache in q["sql"]]) == 1


def test_cached_items_cost_three_statements_and_no_byline_or_tag_instances(rf, pieces):
    request = rf.get("/pieces/")
    ids = [piece.pk for piece in pieces]

    def plain() -> list[Piece]:
        return list(Piece.objects.defer("body").filter(pk__in=ids).order_by("pk"))

    with item_renders() as rendered:
        first = rendered_items(request, plain())
    assert len(rendered) == len(pieces)  # the missing ones were given their rows
    loaded = plain()
    with CaptureQueriesContext(connection) as queries, item_renders() as rendered:
        second = rendered_items(request, loaded)
    assert rendered == []
    assert second == first
    assert len(queries) == 3  # the bylines with their authors, the topics, the regions
    assert not any(hasattr(piece, "_prefetched_objects_cache") for piece in loaded)


def test_pieces_loaded_with_their_byline_and_tags_or_alone_share_their_items(rf, pieces):
    # The author and tag pages load with_related() and key from the loaded rows; browse
    # and home load the pieces alone and key from values: one key for the same content.
    request = rf.get("/pieces/")
    ids = [piece.pk for piece in pieces]
    first = rendered_items(request, listed(ids))
    plain = list(Piece.objects.defer("body").filter(pk__in=ids).order_by("pk"))
    with item_renders() as rendered:
        assert rendered_items(request, plain) == first
    assert rendered == []
    loaded = listed(ids)
    with CaptureQueriesContext(connection) as queries, item_renders() as rendered:
        assert rendered_items(request, loaded) == first
    assert rendered == []
    assert len(queries) == 0  # keyed from what with_related() loaded


def test_an_empty_page_asks_nothing(rf, db):
    with CaptureQueriesContext(connection) as queries:
        assert rendered_items(rf.get("/pieces/"), []) == []
    assert len(queries) == 0
