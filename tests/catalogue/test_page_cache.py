"""Cached page parts follow every committed write: the catalogue's cache key changes with it.

Each page test first renders a page (filling the cache under the current key), then
writes, then renders again and expects the write to show. They commit for real
(``transaction=True``): inside a transaction nothing is cached at all
(``generation.current``), which would make them pass vacuously. Runs on both databases;
tests/catalogue/test_page_cache_postgres.py adds the concurrent writers PostgreSQL has.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from library.catalogue import facet_arrays, generation
from library.catalogue.models import (
    Author,
    CatalogueChange,
    CatalogueEpoch,
    FormattedCitation,
    Piece,
    Region,
    Topic,
)
from library.catalogue.services import PieceContributors, PieceTags, save_piece

committed = pytest.mark.django_db(transaction=True)


def key() -> str:
    """The current cache key, read as a request outside any transaction reads it."""
    value = generation.current()
    if value is None:  # a flushed database: the first read makes the epoch row
        value = generation.current()
    assert value is not None
    return value


def roll_back(write) -> None:
    """``write()`` in a transaction (or savepoint) that is then rolled back."""
    with transaction.atomic():
        write()
        raise RuntimeError("roll back")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def counted(sql: str) -> bool:
    """Whether a statement counts facets: in SQL, or bringing the facet arrays up to date."""
    return "GROUP BY" in sql or facet_arrays.SQL_MARK in sql


@pytest.fixture
def tagged(make_piece):
    return make_piece(
        "Mosul Operation", authors=("Abdul Basit",), topics=("zz-sieges",), regions=("zz-plains",)
    )


@committed
def test_a_saved_piece_changes_the_home_tallies_and_the_browse_facets(client, tagged, make_piece):
    assert 'Zz-Sieges</a> <span class="count">1<' in page(client, "/")
    assert "Zz-Sieges" in page(client, "/pieces/")
    make_piece("Raqqa After", authors=("Rohan Gunaratna",), topics=("zz-sieges",))
    home = page(client, "/")
    assert 'Zz-Sieges</a> <span class="count">2<' in home
    assert "Rohan Gunaratna" in home
    assert "Rohan Gunaratna" in page(client, "/pieces/")


@committed
def test_renaming_a_topic_shows_on_cached_pages(client, tagged):
    assert "Zz-Sieges" in page(client, "/pieces/?topic=zz-sieges")
    assert "Zz-Sieges" in page(client, "/")
    topic = Topic.objects.get(slug="zz-sieges")
    topic.name = "Zz-Blockades"
    topic.save()
    assert "Zz-Blockades" in page(client, "/pieces/?topic=zz-sieges")
    assert "Zz-Blockades" in page(client, "/")


@committed
def test_deleting_a_topic_removes_it_from_cached_pages(client, tagged):
    assert "Zz-Sieges" in page(client, "/pieces/")
    Topic.objects.get(slug="zz-sieges").delete()
    assert "Zz-Sieges" not in page(client, "/pieces/")
    assert "Zz-Sieges" not in page(client, "/")


@committed
def test_tagging_through_the_relation_alone_changes_the_facets(client, tagged, make_piece):
    other = make_piece("Another", authors=("Zoë Marks",))
    assert 'value="zz-sieges"' not in page(client, "/pieces/?author=zoe-marks")
    assert "Zz-Sieges" not in page(client, "/pieces/?author=zoe-marks")
    other.topics.add(Topic.objects.get(slug="zz-sieges"))
    assert "Zz-Sieges" in page(client, "/pieces/?author=zoe-marks")


@committed
def test_renaming_an_author_shows_on_cached_pages(client, tagged):
    assert "Abdul Basit" in page(client, "/")
    assert "Abdul Basit" in page(client, "/pieces/")
    author = Author.objects.get(slug="abdul-basit")
    author.given = "Abdullah"
    author.save()
    assert "Abdullah Basit" in page(client, "/")
    assert "Abdullah Basit" in page(client, "/pieces/")


@committed
def test_deleting_a_piece_and_its_author_empties_the_cached_pages(client, tagged):
    assert "Abdul Basit" in page(client, "/pieces/")
    tagged.delete()
    Author.objects.filter(slug="abdul-basit").delete()
    assert "Abdul Basit" not in page(client, "/pieces/")
    assert "Abdul Basit" not in page(client, "/")
    assert "Zz-Sieges" not in page(client, "/")


@committed
def test_a_new_byline_shows_in_the_browse_count_and_facets(client, tagged):
    assert "Kumar Ramakrishna" not in page(client, "/pieces/?topic=zz-sieges")
    from library.catalogue.authors import parse_name

    save_piece(
        Piece.objects.get(pk=tagged.pk),
        PieceContributors(authors=[parse_name("Kumar Ramakrishna")]),
        PieceTags(topics=list(tagged.topics.all()), regions=list(tagged.regions.all())),
    )
    assert "Kumar Ramakrishna" in page(client, "/pieces/?topic=zz-sieges")


@committed
def test_related_pieces_follow_a_save(client, make_piece):
    first = make_piece("Maritime piracy in the Sulu Sea", topics=("zz-piracy",))
    assert "Piracy and kidnapping" not in page(client, first.get_absolute_url())
    make_piece("Piracy and kidnapping in the Sulu Sea", topics=("zz-piracy",))
    assert "Piracy and kidnapping" in page(client, first.get_absolute_url())


def test_the_cite_box_follows_an_edit_of_the_piece(client, tagged):
    assert FormattedCitation.objects.filter(piece_id=tagged.pk).count() == 0
    assert "Mosul Operation" in page(client, tagged.get_absolute_url())
    assert FormattedCitation.objects.filter(piece_id=tagged.pk).count() == 1
    tagged.title = "Mosul Offensive"
    tagged.save()
    assert FormattedCitation.objects.filter(piece_id=tagged.pk).count() == 0
    html = page(client, tagged.get_absolute_url())
    assert "Mosul Offensive" in html.split('class="piece-cite"')[1].split("</div>")[0]


@committed
def test_pages_are_cached_between_writes(client, tagged):
    from django.db import connection

    key()  # the epoch row a flush removed: the first read makes it and caches nothing
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            page(client, "/pieces/?topic=zz-sieges")
        counts.append(len(queries))
    assert counts[1] <= counts[0] - 8  # no count, no facet queries


@committed
def test_nothing_is_cached_inside_a_transaction(client, tagged):
    key()
    with transaction.atomic():
        assert generation.current() is None
        calls = []
        for _ in range(2):
            generation.PageCache.now().get("test", (), lambda: calls.append(1))
        assert len(calls) == 2


@committed
def test_a_rolled_back_write_leaves_the_key_and_a_committed_one_changes_it(tagged):
    before = key()
    with pytest.raises(RuntimeError, match="roll back"):
        roll_back(lambda: Topic.objects.create(slug="zz-rolled-back", name="Rolled back"))
    assert key() == before
    Topic.objects.create(slug="zz-kept", name="Kept")
    assert key() != before


@committed
@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda p: Piece.objects.filter(pk=p.pk).update(title="Raw"), id="update"),
        pytest.param(
            lambda p: Topic.objects.bulk_create([Topic(slug="zz-b", name="B")]), id="bulk"
        ),
        pytest.param(lambda p: Region.objects.filter(slug="zz-plains").delete(), id="delete"),
        pytest.param(lambda p: p.topics.clear(), id="m2m-clear"),
        pytest.param(lambda p: Author.objects.update(given="X"), id="authors"),
        pytest.param(lambda p: p.authorships.all().update(position=5), id="authorship-update"),
    ],
)
def test_writes_that_send_no_signal_change_the_key_too(tagged, write):
    # Queryset updates, bulk creates and raw SQL send no Django signal: the database's
    # triggers see them all.
    before = key()
    write(tagged)
    assert key() != before


@committed
def test_raw_sql_changes_the_key(tagged):
    before = key()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalogue_topic SET name = 'Raw' WHERE slug = 'zz-sieges'")
    assert key() != before


@committed
def test_every_catalogue_table_a_page_reads_is_watched():
    from django.apps import apps

    own = {m._meta.db_table for m in (CatalogueChange, CatalogueEpoch, FormattedCitation)}
    tables = {
        m._meta.db_table
        for m in apps.get_app_config("catalogue").get_models(include_auto_created=True)
    } - own
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgfoid = 'catalogue_note_change'::regproc"
            )
        else:
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND sql LIKE '%UPDATE catalogue_catalogueepoch SET writes = writes + 1%'"
            )
        watched = {name for (name,) in cursor.fetchall()}
    assert tables
    assert tables <= watched, tables - watched


@committed
def test_one_change_row_per_transaction_however_many_writes(tagged):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite counts writes on the epoch row; writers take turns there anyway")
    before = CatalogueChange.objects.count()
    with transaction.atomic():
        for n in range(20):
            Topic.objects.create(slug=f"zz-t{n}", name=f"T{n}")
        with pytest.raises(RuntimeError, match="roll back"):  # a savepoint rolled back
            roll_back(lambda: Topic.objects.create(slug="zz-gone", name="Gone"))
        Topic.objects.filter(slug="zz-t1").update(name="T one")
    assert CatalogueChange.objects.count() == before + 1


@committed
def test_a_write_whose_first_change_row_rolled_back_with_a_savepoint_still_counts(tagged):
    before = key()
    with transaction.atomic():
        with pytest.raises(RuntimeError, match="roll back"):  # the transaction's first write
            roll_back(lambda: Topic.objects.create(slug="zz-gone", name="Gone"))
        Topic.objects.create(slug="zz-kept", name="Kept")
    assert key() != before


@committed
def test_pruning_changes_the_token_and_writes_after_it_still_count(tagged):
    before = key()
    assert generation.prune()
    pruned = key()
    assert pruned != before
    assert pruned.split(".")[0] != before.split(".")[0]
    Topic.objects.create(slug="zz-after", name="After")
    assert key() != pruned


@committed
def test_a_reader_prunes_a_long_change_log(tagged, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps a counter, not a log")
    monkeypatch.setattr(generation, "PRUNE_AT", 3)
    generation.new_epoch()  # (a flush removed it)
    for n in range(3):
        Topic.objects.create(slug=f"zz-p{n}", name=f"P{n}")
    assert CatalogueChange.objects.count() >= 3
    assert generation.current() is None  # this request pruned and does not cache
    assert CatalogueChange.objects.count() == 0
    assert generation.current() is not None


@committed
def test_a_missing_epoch_row_turns_caching_off_once_and_comes_back_new(tagged):
    before = key()
    CatalogueEpoch.objects.all().delete()
    assert generation.current() is None
    assert key().split(".")[0] != before.split(".")[0]


@committed
def test_the_database_page_cache_is_shared_and_follows_writes(client, tagged, database_page_cache):
    # PAGE_CACHE=database: a table every instance reads, so one instance's computed
    # facets serve another's request, still keyed on the catalogue's change record.
    from django.core.cache import caches

    key()
    with CaptureQueriesContext(connection) as queries:
        page(client, "/pieces/?topic=zz-sieges")
    assert any(counted(q["sql"]) for q in queries)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {database_page_cache}")
        assert cursor.fetchone()[0] >= 2  # the browse count and the facets
    caches["pages"].close()
    with CaptureQueriesContext(connection) as queries:
        html = page(client, "/pieces/?topic=zz-sieges")
    assert "Zz-Sieges" in html
    assert not any(counted(q["sql"]) for q in queries)  # read from the table
    Topic.objects.filter(slug="zz-sieges").update(name="Zz-Blockades")
    assert "Zz-Blockades" in page(client, "/pieces/?topic=zz-sieges")
