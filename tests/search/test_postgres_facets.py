"""The PostgreSQL search's facets, counted over the catalogue's shared arrays, equal SQL.

The reference is plain SQL written here: the pieces the index matches, and each facet's
values counted from the catalogue's own tables (authors by role, years from the piece's
date), labelled as the search labels them. The search counts over the catalogue's
per-process arrays (facet_arrays.py), kept up to date from the catalogue's change log by
snapshot visibility; these tests check that the counts stay equal to the reference after
writes committed by other connections (including writes no index write follows), that
another connection's uncommitted writes stay out, and that inside a writing transaction
the search sees its own writes without them reaching the shared arrays.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from library.catalogue import facet_arrays
from library.catalogue.models import Authorship, Piece, PieceType, Role
from library.search import service, state
from library.search.backends.database.facet_data import VIEW
from library.search.backends.shared import build_facets
from library.search.vocab import Vocabulary

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

WORD = "kestrel"
Facets = tuple[int, dict[str, dict[str, int]]]
_TOPICS = Piece.topics.through._meta.db_table
_REGIONS = Piece.regions.through._meta.db_table
_REFERENCE = {
    "topic": f"SELECT topic_id, count(*) FROM {_TOPICS} WHERE piece_id = ANY(%s) GROUP BY 1",
    "region": f"SELECT region_id, count(*) FROM {_REGIONS} WHERE piece_id = ANY(%s) GROUP BY 1",
    "author": f"SELECT author_id, count(*) FROM {Authorship._meta.db_table} "
    f"WHERE role = '{Role.AUTHOR.value}' AND piece_id = ANY(%s) GROUP BY 1",
    "year": f"SELECT extract(year FROM date)::int, count(*) FROM {Piece._meta.db_table} "
    "WHERE date IS NOT NULL AND id = ANY(%s) GROUP BY 1",
    "type": f"SELECT type, count(*) FROM {Piece._meta.db_table} WHERE id = ANY(%s) GROUP BY 1",
}


def _labelled(facets: dict) -> dict[str, dict[str, int]]:
    return {name: {v.key: v.count for v in values} for name, values in facets.items()}


def reference() -> Facets:
    """The total and facets of a search for WORD, in plain SQL on the catalogue's tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT piece_id FROM search_pg_doc WHERE vec @@ to_tsquery('dossier_english', %s)",
            [WORD],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        counts = {}
        for name, sql in _REFERENCE.items():
            cursor.execute(sql, [ids])
            counts[name] = cursor.fetchall()
    return len(ids), _labelled(build_facets(counts, Vocabulary.load()) if ids else {})


def searched() -> Facets:
    result = service.search(WORD)
    return result.total, _labelled(result.facets)


def elsewhere(write: Callable[[], None]) -> None:
    """``write`` in another thread, on its own connection, committed when it returns."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                write()
        except BaseException as exc:  # reported in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert errors == []


def _index_writes_numbered() -> tuple[int, bool]:
    """The index's write sequence as it stands: it moves on every index write."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM search_pg_write_number")
        return cursor.fetchone()


@pytest.fixture
def catalogue(make_piece, vocabulary, empty_index) -> dict[str, Piece]:
    """Pieces matching WORD with overlapping topics, regions, authors, an editor, years
    and types, and one that does not match; this process's arrays forgotten."""
    state.reset()
    pieces = {
        "one": make_piece(
            "Kestrel one", topics=("harrier", "merlin"), regions=("baltic",),
            authors=("Ole Waever", "Barry Buzan"), date=datetime.date(2014, 3, 1),
        ),
        "two": make_piece(
            "Kestrel two", topics=("harrier",), authors=("Barry Buzan",),
            date=datetime.date(2016, 5, 2), type=PieceType.BOOK,
        ),
        "three": make_piece(
            "Osprey", body="A kestrel hovers.", topics=("merlin",), regions=("sahel",),
            authors=("Lene Hansen",), date=None,
        ),
        "other": make_piece("Falcon", topics=("harrier",), authors=("Ole Waever",)),
    }  # fmt: skip
    Authorship.objects.create(
        piece=pieces["two"], author=pieces["three"].authorships.get().author,
        role=Role.EDITOR, position=1,
    )  # fmt: skip
    return pieces


def test_the_counts_equal_sql_and_come_from_the_shared_arrays(catalogue):
    found = searched()
    assert found == reference()
    assert found[0] == 3
    assert found[1]["topic"] == {"harrier": 2, "merlin": 2}
    assert sum(found[1]["author"].values()) == 4  # authors only: the editor is not counted
    assert found[1]["year"] == {"2016": 1, "2014": 1}
    arrays = facet_arrays.shared_arrays()
    assert arrays is not None
    assert VIEW in arrays.views


def test_the_counts_follow_writes_committed_by_other_connections(catalogue, make_piece):
    searched()  # the arrays loaded before any of the writes
    one, two, three = catalogue["one"], catalogue["two"], catalogue["three"]
    editorship = Authorship.objects.get(piece=two, role=Role.EDITOR)

    def editor_made_author() -> None:
        # An update no index write follows (no signal, the index's text unchanged): the
        # index's own log never saw it; the catalogue's triggers do.
        Authorship.objects.filter(pk=editorship.pk).update(role=Role.AUTHOR)

    writes: list[Callable[[], None]] = [
        editor_made_author,
        lambda: Piece.objects.filter(pk=three.pk).update(
            date=datetime.date(2019, 1, 1), type=PieceType.REPORT
        ),
        lambda: one.topics.clear(),
        lambda: two.regions.add(*one.regions.all()),
        lambda: make_piece("Kestrel four", topics=("merlin",), authors=("Lene Hansen",)),
        lambda: Piece.objects.get(pk=one.pk).delete(),
    ]
    numbered = _index_writes_numbered()
    seen = [searched()]
    for write in writes:
        elsewhere(write)
        if write is editor_made_author:
            assert _index_writes_numbered() == numbered  # no index write for it
        found = searched()
        assert found == reference()
        assert found != seen[-1]  # each write changed what the search counts
        seen.append(found)


def test_uncommitted_writes_of_another_connection_stay_out_until_they_commit(catalogue, make_piece):
    before = searched()
    written, release, errors = threading.Event(), threading.Event(), []

    def writer() -> None:
        try:
            with transaction.atomic():
                make_piece("Kestrel late", topics=("sahel-watch",), authors=("Ole Waever",))
                catalogue["two"].topics.clear()
                written.set()
                release.wait(timeout=30)
        except BaseException as exc:  # reported in the test's own thread
            errors.append(exc)
            written.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(timeout=30)
    assert searched() == reference() == before  # another transaction's rows are not seen
    release.set()
    thread.join(timeout=30)
    assert errors == []
    after = searched()
    assert after == reference()
    assert after[0] == before[0] + 1
    assert after[1]["topic"]["sahel-watch"] == 1


def test_a_writing_transaction_counts_its_own_writes_in_sql_and_shares_nothing(
    catalogue, make_piece
):
    before = searched()
    shared = facet_arrays.shared_arrays()
    with transaction.atomic():
        make_piece("Kestrel draft", topics=("merlin",), authors=("Barry Buzan",))
        catalogue["two"].topics.clear()
        inside = searched()
        assert inside == reference()  # its own uncommitted writes included
        assert inside[0] == before[0] + 1
        assert facet_arrays.shared_arrays() is shared  # nothing of them reached the arrays
        transaction.set_rollback(True)
    assert searched() == reference() == before


def test_a_transaction_that_has_not_written_shares_the_arrays(catalogue, make_piece):
    searched()
    loaded = facet_arrays.shared_arrays()
    assert loaded is not None
    elsewhere(lambda: make_piece("Kestrel five", topics=("harrier",)))
    with transaction.atomic():
        found = searched()
        assert found == reference()
        updated = facet_arrays.shared_arrays()
    assert updated is not None
    assert updated is not loaded
    assert updated.mark != loaded.mark
    assert found[1]["topic"]["harrier"] == 3


def _facet_statements(run: Callable[[], Facets]) -> tuple[Facets, list[str]]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        found = run()
    return found, [q["sql"] for q in queries if facet_arrays.SQL_MARK in q["sql"]]


def test_nothing_new_costs_one_small_statement_and_a_commit_the_read(catalogue, make_piece):
    searched()  # after a flush this read makes the epoch row: arrays without a token
    searched()  # loaded again, with the token
    arrays = facet_arrays.shared_arrays()
    assert arrays is not None
    assert arrays.token
    found, statements = _facet_statements(searched)
    assert len(statements) == 1  # "anything new?" and nothing more
    assert "string_agg" not in statements[0]
    assert found == reference()
    elsewhere(lambda: make_piece("Kestrel six", topics=("merlin",)))
    found, statements = _facet_statements(searched)
    assert len(statements) == 2  # asked, then the changed pieces read
    assert "string_agg" in statements[1]
    assert found == reference()
    assert found[1]["topic"]["merlin"] == 3
