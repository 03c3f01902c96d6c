"""``service``: what the search page and the command share, beyond any one engine."""

from __future__ import annotations

import datetime

import pytest

from library.search import service
from library.search.backends.base import QueryRejected, SearchBackend
from library.search.results import SearchResults

pytestmark = pytest.mark.django_db


def test_result_rows_come_in_two_queries_with_bylines_in_order_and_no_body(
    make_piece, django_assert_num_queries
):
    first = make_piece("First", authors=("Abdul Basit", "Rohan Gunaratna"), body="Long body.")
    second = make_piece("Second", authors=(), date=datetime.date(2020, 2, 3))
    with django_assert_num_queries(2):
        pieces = service._result_pieces([second.pk, first.pk])
        assert pieces[first.pk].byline == ["Abdul Basit", "Rohan Gunaratna"]
        assert pieces[second.pk].byline == []
        assert pieces[second.pk].date == datetime.date(2020, 2, 3)
        assert pieces[first.pk].full_title == "First"
    assert "body" in pieces[first.pk].get_deferred_fields()


def test_result_bylines_name_authors_only_and_are_read_by_piece_id(make_piece):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from library.catalogue.models import Author, Authorship, Role

    piece = make_piece("Edited", authors=("Abdul Basit",))
    other = make_piece("Other", authors=("Rohan Gunaratna",))
    editor = Author.objects.create(family="Gunaratna", given="Rohan")
    Authorship.objects.create(piece=piece, author=editor, role=Role.EDITOR, position=1)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # as a catalogue never ANALYZEd: no statistics
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                cursor.execute("DELETE FROM sqlite_stat1")
            cursor.execute("ANALYZE sqlite_schema")  # the planner rereads (no) statistics
    with CaptureQueriesContext(connection) as queries:
        pieces = service._result_pieces([piece.pk, other.pk])  # an IN list, as a page
    assert pieces[piece.pk].byline == ["Abdul Basit"]
    assert pieces[other.pk].byline == ["Rohan Gunaratna"]
    if connection.vendor == "sqlite":
        # Not the (role, author, piece) index: that reads every author row of the catalogue.
        with connection.cursor() as cursor:
            plan = cursor.execute(f"EXPLAIN QUERY PLAN {queries[-1]['sql']}").fetchall()
        assert "piece_id" in str(plan)
        assert "authorship_role_author" not in str(plan)


class _Rejecting(SearchBackend):
    """An engine whose query parser rejects the first ``rejections`` queries it is given."""

    name = "rejecting"

    def __init__(self, rejections: int = 1, error: Exception | None = None) -> None:
        self.rejections, self.error, self.queries = rejections, error, []

    def search(self, query, **kwargs) -> SearchResults:
        self.queries.append(query.text)
        if self.error is not None:
            raise self.error
        if len(self.queries) <= self.rejections:
            raise QueryRejected("fts5: syntax error near x")
        return SearchResults(hits=[], total=0)

    def suggest(self, word: str) -> str:
        return ""


def test_a_query_the_engine_rejects_is_retried_as_plain_words_with_a_hint():
    backend = _Rejecting()
    result = service.search('title:"mosul coin" OR (isis', backend=backend)
    assert len(backend.queries) == 2
    assert "mosul" in backend.queries[1]
    assert any("could not be run as written" in hint for hint in result.hints)


def test_when_the_plain_words_are_rejected_too_the_page_says_so():
    result = service.search("mosul coin", backend=_Rejecting(rejections=2))
    assert result.total == 0
    assert "The plain words could not be searched either." in result.hints


def test_a_programming_error_in_an_engine_is_raised_not_shown_as_a_repaired_query():
    with pytest.raises(TypeError):
        service.search("mosul coin", backend=_Rejecting(error=TypeError("a bug")))


@pytest.mark.sqlite
def test_the_sqlite_dialect_reports_a_rejected_match_expression_as_query_rejected(
    database_engine,
):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 parser is SQLite's")
    with pytest.raises(QueryRejected), database_engine._cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM search_piece_fts WHERE search_piece_fts MATCH %s", ['"unterminated']
        )


@pytest.mark.postgresql
def test_the_postgresql_dialect_reports_a_rejected_tsquery_as_query_rejected(database_engine):
    from django.db import transaction

    from library.search.backends.database.postgres.backend import _cursor

    with pytest.raises(QueryRejected), transaction.atomic(), _cursor() as cursor:
        cursor.execute("SELECT to_tsquery('dossier_english', %s)", ["kestrel &"])


class _StillCounting(SearchBackend):
    """An engine that hands back its page while it is still listing the whole match, as
    SQLite does when the ids are listed on a second connection (sidecar.py)."""

    name = "still-counting"

    def __init__(self, piece_ids: list[int], error: Exception | None = None) -> None:
        self.piece_ids, self.error = piece_ids, error
        self.counted_after: list[int] = []  # the queries run when the count was asked for

    def search(self, query, **kwargs) -> SearchResults:
        from django.db import connection

        from library.search.results import FacetValue, Hit

        def count():
            self.counted_after.append(len(connection.queries))
            if self.error is not None:
                raise self.error
            return 41, {"type": [FacetValue("type:report", "Report", 41)]}

        hits = [Hit(pk, 1.0) for pk in self.piece_ids]
        return SearchResults(hits, hints=["a hint"], pending=count)

    def suggest(self, word: str) -> str:
        return ""


def test_the_page_pieces_are_fetched_before_the_total_is_waited_for(
    make_piece, django_assert_num_queries
):
    pieces = [make_piece(f"Piece {n}") for n in range(3)]
    backend = _StillCounting([p.pk for p in pieces])
    with django_assert_num_queries(2):  # the page's pieces and their bylines
        page = service.search("piece", backend=backend)
    assert backend.counted_after == [2]  # once, and after both
    assert page.total == 41
    assert page.facets["type"][0].count == 41
    assert [piece.pk for piece, _hit in page.entries] == [p.pk for p in pieces]
    assert "a hint" in page.hints


def test_an_index_error_met_while_counting_reads_as_one_met_while_ranking():
    from library.search.backends.base import IndexUnavailable

    backend = _StillCounting([], error=IndexUnavailable("no such table: search_piece_fts"))
    page = service.search("piece", backend=backend)
    assert page.index_error == service.REBUILD_HINT
    assert page.total == 0
    assert page.entries == []


def test_search_results_count_once_on_first_use_of_the_total_or_the_facets():
    calls = []

    def count():
        calls.append(1)
        return 7, {"year": []}

    results = SearchResults([], pending=count)
    assert calls == []
    assert results.facets == {"year": []}
    assert results.total == 7
    assert calls == [1]
    assert SearchResults([], 3).total == 3


class _PastTheEnd(SearchBackend):
    """An engine with 30 hits in all that fails when asked again for the last page."""

    name = "past-the-end"

    def __init__(self) -> None:
        self.offsets: list[int] = []

    def search(self, query, *, offset: int = 0, **kwargs) -> SearchResults:
        from library.search.backends.base import IndexUnavailable

        self.offsets.append(offset)
        if len(self.offsets) > 1:
            raise IndexUnavailable("no such table: search_piece_fts")
        return SearchResults([], total=30)

    def suggest(self, word: str) -> str:
        return ""


def test_an_index_error_on_the_last_page_run_again_reads_as_an_index_error():
    backend = _PastTheEnd()
    page = service.search("piece", page=9, page_size=20, backend=backend)
    assert backend.offsets == [160, 20]  # page 9, then the last page, 2
    assert page.index_error == service.REBUILD_HINT
    assert page.entries == []
