"""The browse facets on PostgreSQL when the planner's statistics say the tables are empty.

That state hung a CI run: test after test had loaded the vocabulary and demo content and
rolled them back, autovacuum had analysed the tables while only dead rows filled them
(``pg_class.reltuples`` = 0 over hundreds of pages), and the first live-server test then
planned the facet query's nested ``IN`` subqueries as nested loops rescanning the bloated
tables once per row: minutes of CPU for a 71-piece catalogue. Here the state is built on
purpose, the old query form is shown to read the tables over and over, the facets as now
written are shown to read them a bounded number of times, and the bulk commands' ANALYZE
(library/catalogue/statistics.py) is shown to put the statistics right.
"""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import Count
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from library.catalogue.browse import Filters, facets
from library.catalogue.demo import load_demo
from library.catalogue.models import Piece
from library.catalogue.statistics import CATALOGUE_MODELS, refresh_planner_statistics
from library.catalogue.vocabulary import load_vocabulary
from library.timeouts import is_statement_timeout

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

TABLES = [model._meta.db_table for model in CATALOGUE_MODELS]
# Each rolled-back rewrite of every row leaves one more dead copy of it behind.
REWRITES = 60


class _RollBack(Exception):
    pass


@pytest.fixture
def stale_statistics():
    """The catalogue loaded for real over tables whose statistics say they are empty."""
    with connection.cursor() as cursor:
        for table in TABLES:  # so nothing corrects the statistics behind the test's back
            cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            load_vocabulary()
            load_demo()
            for _ in range(REWRITES):
                for table in TABLES:
                    cursor.execute(f"UPDATE {table} SET id = id")
            raise _RollBack
    except _RollBack:
        pass
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")  # sees dead rows only
    load_vocabulary()
    load_demo()
    yield
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


def _statistics() -> dict[str, tuple[float, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples, relpages FROM pg_class WHERE relname = ANY(%s)", [TABLES]
        )
        return {name: (tuples, pages) for name, tuples, pages in cursor.fetchall()}


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def _pages() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_relation_size(oid) / current_setting('block_size')::int) "
            "FROM pg_class WHERE relname = ANY(%s)",
            [TABLES],
        )
        return int(cursor.fetchone()[0])


def _explain(sql: str, params=()) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        return cursor.fetchone()[0][0]["Plan"]


def _buffers(plan: dict) -> int:
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


def _buffers_within(sql: str, params, *, seconds: int) -> int | None:
    """The pages a statement reads, or None when it is still running after ``seconds``."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = '{seconds}s'")
            return _buffers(_explain(sql, params))
    except OperationalError as error:
        if is_statement_timeout(error):
            return None
        raise


def test_stale_statistics_are_reproduced_and_cost_the_old_facet_query_dearly(stale_statistics):
    for table, (tuples, pages) in _statistics().items():
        assert tuples == 0, f"{table}: reltuples={tuples}"
        assert pages > 0, f"{table}: relpages={pages}"
        assert _count(table) > 0, f"{table} holds no row"
    estimate = _explain("SELECT piece_id FROM catalogue_piece_topics")
    assert estimate["Plan Rows"] <= 1 < estimate["Actual Rows"]

    # The facet query as it was written before: nested IN subqueries over the filter.
    iraq = Piece.objects.filter(pk__in=Piece.objects.filter(regions__slug="iraq").values("pk"))
    old = (
        Piece.topics.through.objects.values("topic__slug", "topic__name")
        .annotate(n=Count("piece_id"))
        .filter(piece_id__in=iraq.values("pk"))
        .order_by("-n", "topic__name")[:12]
    )
    sql, params = old.query.sql_with_params()
    read = _buffers_within(sql, params, seconds=5)
    assert read is None or read > 50 * _pages()  # None: minutes, as in the CI run that hung


def test_the_facets_read_each_table_a_bounded_number_of_times_on_stale_statistics(
    stale_statistics,
):
    pages = _pages()
    # In a transaction: the facets are counted in SQL there (outside one they come from the
    # per-process arrays, facet_arrays.py, which read each table once when they load).
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        result = facets(Filters.from_query(QueryDict("region=iraq")))
    counts = {f.name: {v.value: v.count for v in f.values} for f in result}
    assert (
        counts["topic"]["islamic-state"]
        == Piece.objects.filter(regions__slug="iraq", topics__slug="islamic-state").count()
    )
    assert len(queries.captured_queries) >= 5, "the facets ran no query: nothing was measured"
    for query in queries.captured_queries:
        read = _buffers(_explain(query["sql"]))
        assert read <= 5 * pages, f"{read} buffers for {pages} pages: {query['sql']}"


def test_the_bulk_commands_analyse_what_they_filled(stale_statistics):
    refresh_planner_statistics()
    for table, (tuples, _) in _statistics().items():
        assert tuples == _count(table), table
    estimate = _explain("SELECT piece_id FROM catalogue_piece_topics")
    assert estimate["Plan Rows"] == estimate["Actual Rows"]


def test_the_browse_page_answers_on_stale_statistics(stale_statistics, client):
    response = client.get("/pieces/", {"region": "iraq", "topic": "islamic-state"})
    assert response.status_code == 200
    expected = Piece.objects.filter(regions__slug="iraq", topics__slug="islamic-state").count()
    assert response.context["page"].paginator.count == expected > 0
