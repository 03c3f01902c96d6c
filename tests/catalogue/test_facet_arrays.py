"""Facets, totals and home tallies from the per-process arrays equal SQL's, after any write.

The reference is the SQL count: inside a transaction the arrays are never used
(``facet_arrays.arrays`` gives ``None``), so the same functions called in an ``atomic``
block count in SQL. Every test commits for real (``transaction=True``) and checks that the
arrays were used, so no comparison passes by counting SQL twice. Runs on both databases.
"""

from __future__ import annotations

import datetime
import random

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from library.catalogue import facet_arrays
from library.catalogue.browse import Filters, count, facets
from library.catalogue.models import Authorship, Piece, PieceType, Region, Role, Topic
from library.catalogue.views import _home_tallies, _home_tallies_sql
from library.search.service import shared_tags, shared_tags_sql

pytestmark = pytest.mark.django_db(transaction=True)

TOPICS = ("zz-sieges", "zz-drones", "zz-ports", "zz-mines")
REGIONS = ("zz-plains", "zz-coast", "zz-hills")
AUTHORS = ("Abdul Basit", "Zoe Marks", "Lin Chen", "Ama Owusu", "Ravi Iyer")
TYPES = (PieceType.COMMENTARY, PieceType.REPORT, PieceType.BOOK)


@pytest.fixture
def catalogue(make_piece):
    """40 seeded pieces: ties in every facet, undated pieces, pieces with no tags."""
    rng = random.Random(18)
    made = []
    for n in range(40):
        made.append(
            make_piece(
                f"Piece {n}",
                authors=tuple(rng.sample(AUTHORS, rng.randint(1, 3))),
                date=None if n % 7 == 0 else datetime.date(2010 + rng.randint(0, 6), 1 + n % 12, 1),
                type=rng.choice(TYPES),
                topics=tuple(rng.sample(TOPICS, rng.randint(0, 3))),
                regions=tuple(rng.sample(REGIONS, rng.randint(0, 2))),
            )
        )
    return made


def filter_sets() -> list[Filters]:
    """No filter, each kind alone, combinations, and values that match nothing."""
    queries = [
        "",
        "topic=zz-sieges",
        "region=zz-coast",
        "author=zoe-marks",
        "year=2013",
        f"type={PieceType.REPORT}",
        "topic=zz-drones&region=zz-plains",
        f"topic=zz-ports&author=lin-chen&year=2014&type={PieceType.COMMENTARY}",
        "region=zz-hills&year=2011",
        "topic=no-such-topic",
        "year=1901",
        "author=abdul-basit&region=zz-plains",
    ]
    return [Filters.from_query(QueryDict(q)) for q in queries]


def in_sql(compute):
    """``compute()`` inside a transaction, where only SQL counts."""
    with transaction.atomic():
        assert facet_arrays.arrays() is None
        return compute()


def shown(found) -> list:
    return [(f.name, [(v.value, v.label, v.count, v.selected) for v in f.values]) for f in found]


def tallies(found: dict) -> dict:
    return {
        **found,
        **{
            name: [(term.pk, term.n) for term in found[name]]
            for name in ("topics", "regions", "authors")
        },
    }


def assert_same_as_sql() -> None:
    for filters in filter_sets():
        with CaptureQueriesContext(connection) as queries:
            from_arrays = (shown(facets(filters)), count(filters))
        counted_in_sql = [q["sql"] for q in queries if facet_arrays.SQL_MARK not in q["sql"]]
        assert not any("GROUP BY" in sql for sql in counted_in_sql), filters
        assert from_arrays == in_sql(lambda f=filters: (shown(facets(f)), count(f))), filters
    assert tallies(_home_tallies()) == tallies(in_sql(_home_tallies_sql))
    for piece in Piece.objects.order_by("pk")[:12]:
        topics = list(piece.topics.values_list("pk", flat=True))
        regions = list(piece.regions.values_list("pk", flat=True))
        for limit in (3, 30):
            found = shared_tags(piece.pk, topics, regions, limit)
            assert found == shared_tags_sql(piece.pk, topics, regions, limit), (piece, limit)


def test_counts_equal_sql_on_a_fresh_load(catalogue):
    assert_same_as_sql()
    assert facet_arrays._loaded, "the arrays were never used"


def test_counts_follow_saves_deletes_and_retagging(catalogue, make_piece):
    assert_same_as_sql()
    make_piece("New one", authors=("Zoe Marks",), topics=("zz-sieges", "zz-new"), date=None)
    assert_same_as_sql()
    catalogue[3].delete()
    catalogue[4].topics.set(Topic.objects.filter(slug__in=["zz-mines", "zz-new"]))
    catalogue[5].regions.clear()
    assert_same_as_sql()
    Piece.objects.filter(pk=catalogue[6].pk).update(
        type=PieceType.BOOK, date=datetime.date(1999, 5, 1)
    )
    Authorship.objects.filter(piece=catalogue[7], role=Role.AUTHOR).update(role=Role.EDITOR)
    assert_same_as_sql()
    Topic.objects.filter(slug="zz-drones").delete()  # its tag rows go with it
    Region.objects.filter(slug="zz-coast").update(name="Zz-Shore")  # labels read fresh
    assert_same_as_sql()


def test_a_rolled_back_write_changes_nothing_and_a_committed_one_shows(catalogue, make_piece):
    assert_same_as_sql()
    before = count(Filters.from_query(QueryDict("topic=zz-sieges")))

    def roll_back() -> None:
        with transaction.atomic():
            make_piece("Rolled back", topics=("zz-sieges",))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        roll_back()
    assert count(Filters.from_query(QueryDict("topic=zz-sieges"))) == before
    assert_same_as_sql()
    make_piece("Committed", topics=("zz-sieges",))
    assert count(Filters.from_query(QueryDict("topic=zz-sieges"))) == before + 1
    assert_same_as_sql()


def test_raw_sql_writes_are_seen(catalogue):
    assert_same_as_sql()
    table = Piece.topics.through._meta.db_table
    topic = Topic.objects.get(slug="zz-mines")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE topic_id = %s", [topic.pk])
        cursor.execute(
            f"INSERT INTO {table} (piece_id, topic_id) VALUES (%s, %s)", [catalogue[1].pk, topic.pk]
        )
    assert count(Filters.from_query(QueryDict("topic=zz-mines"))) == 1
    assert_same_as_sql()


def test_a_flushed_catalogue_is_loaded_afresh(catalogue, make_piece):
    assert_same_as_sql()
    loaded = facet_arrays._loaded["default"]
    Piece.objects.all().delete()
    if connection.vendor == "postgresql":  # TRUNCATE fires no row trigger: piece 0 says so
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Piece.topics.through._meta.db_table}")
    make_piece("Alone", topics=("zz-sieges",))
    assert count(Filters()) == 1
    assert_same_as_sql()
    if connection.vendor == "postgresql":
        assert facet_arrays._loaded["default"].loaded != loaded.loaded  # loaded whole again


def test_inside_a_transaction_the_arrays_are_not_used_or_changed(catalogue, make_piece):
    assert_same_as_sql()
    with transaction.atomic():
        make_piece("Uncommitted", topics=("zz-sieges",))
        assert facet_arrays.arrays() is None
        inside = count(Filters.from_query(QueryDict("topic=zz-sieges")))
    assert count(Filters.from_query(QueryDict("topic=zz-sieges"))) == inside
    assert_same_as_sql()


def test_facets_with_more_values_than_shown_keep_ties_and_the_selected_one(catalogue, make_piece):
    # 30 authors of one piece each: ties at the cut of the author facet's 12 rows, and a
    # selected author far below it, whose row the page must still show.
    from library.catalogue.models import Author

    for n in range(30):
        make_piece(f"Solo {n}", authors=(f"Writer Number{chr(65 + n % 26)}{n}",), type=TYPES[n % 3])
    assert_same_as_sql()
    lone = Author.objects.filter(family__startswith="Number").order_by("-family").first()
    for query in (f"author={lone.slug}", f"author={lone.slug}&type={TYPES[25 % 3]}"):
        filters = Filters.from_query(QueryDict(query))
        found = shown(facets(filters))
        assert found == in_sql(lambda f=filters: shown(facets(f)))
        authors = dict(found)["author"]
        assert any(value == lone.slug and selected for value, _, _, selected in authors), (
            lone.slug,
            authors,
        )
    assert tallies(_home_tallies()) == tallies(in_sql(_home_tallies_sql))
