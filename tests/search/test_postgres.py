"""What only the PostgreSQL dialect has: its tables, weights, GIN index and transactions.

The behavioural suite (test_engines.py) runs on PostgreSQL too; these check the dialect's
own promises. They run in ``make test``'s PostgreSQL pass; locally without a PostgreSQL
DATABASE_URL they skip saying how to run them, and in CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

from library.search import service
from library.search.backends.postgres import DOC_TABLE, PostgresBackend

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _require_postgresql(settings) -> None:
    settings.SEARCH_BACKEND = "database"
    if connection.vendor == "postgresql":
        return
    message = (
        "needs PostgreSQL: run `make test-postgresql`, or "
        "bash scripts/pg-cluster.sh run -- .venv/bin/python -m pytest tests/search"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def weights(piece_id: int) -> dict[str, set[str]]:
    """lexeme -> the weights it has in the piece's tsvector (PostgreSQL prints D as none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lexeme, weights FROM {DOC_TABLE}, unnest(vec) WHERE piece_id = %s",
            [piece_id],
        )
        return {lexeme: set(found) for lexeme, found in cursor.fetchall()}


def test_the_database_engine_is_the_postgres_dialect_with_a_gin_index():
    from library.search.backends import get_backend

    assert isinstance(get_backend(), PostgresBackend)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [DOC_TABLE])
        assert any("USING gin (vec)" in row[0] for row in cursor.fetchall())


def test_fields_are_weighted_title_a_people_and_tags_b_synopsis_c_body_d(make_piece):
    piece = make_piece(
        "Kestrel",
        authors=("Ole Wæver",),
        topics=("terrorism",),
        synopsis="Heron.",
        body="Osprey.",
    )
    vector = weights(piece.pk)
    assert vector["kestrel"] == {"A"}
    assert vector["waever"] == {"B"}  # folded by unaccent
    assert vector["terror"] == {"B"}
    assert vector["heron"] == {"C"}
    assert vector["osprey"] == {"D"}


def test_snippets_are_made_for_the_shown_page_only(make_piece):
    for n in range(5):
        make_piece(f"Kestrel report {n}", body="The kestrel hovers. " * 50)
    result = service.search("kestrel", page_size=2)
    assert result.total == 5
    assert len(result.entries) == 2
    assert all("\x02" in hit.snippet for _, hit in result.entries)


def test_stop_words_are_searchable_like_on_sqlite(make_piece):
    make_piece("The Who and the Why")
    assert service.search('"the who"').total == 1


def test_stroke_and_accented_letters_fold_both_ways(make_piece):
    make_piece("Łódź and Đà Nẵng", synopsis="Ørsted in Łódź.")
    assert service.search("lodz").total == 1
    assert service.search("Ørsted").total == 1
    (_piece, hit), *_ = service.search("orsted").entries
    assert "Ørsted" in hit.snippet.replace("\x02", "").replace("\x03", "")


def test_a_huge_body_is_indexed_without_error(make_piece):
    piece = make_piece("Huge", body=" ".join(f"word{n}" for n in range(120_000)))
    assert service.search("word5").total == 1
    assert weights(piece.pk)


def _topic_counts(result) -> dict[str, int]:
    return {v.key: v.count for v in result.facets["topic"]}


@pytest.fixture
def committed_index():
    """An empty index for a test that commits (a flush leaves the index tables alone)."""
    from library.search.backends import get_backend, pg_facets

    get_backend().clear()
    pg_facets.forget()
    yield
    get_backend().clear()


@pytest.mark.django_db(transaction=True)
def test_facets_from_the_process_arrays_follow_every_commit(
    make_piece, vocabulary, committed_index
):
    first = make_piece("Kestrel one", topics=("harrier",))
    result = service.search("kestrel")  # no write in this transaction: the shared arrays
    assert (result.total, _topic_counts(result)) == (1, {"harrier": 1})
    second = make_piece("Kestrel two", topics=("harrier",))
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (2, {"harrier": 2})
    first.delete()
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (1, {"harrier": 1})
    assert {v.key for v in result.facets["type"]} == {second.type}


@pytest.mark.django_db(transaction=True)
def test_a_write_committed_after_a_later_one_still_reaches_the_facets(
    make_piece, vocabulary, committed_index
):
    """Snapshot visibility, not the order of transaction ids, decides what is new."""
    import threading

    from django.db import connections, transaction

    from library.catalogue.models import Piece, Topic

    written, release, errors = threading.Event(), threading.Event(), []

    def late_writer() -> None:
        try:
            with transaction.atomic():
                # Not save_piece: its save lock would make the other save wait for this one.
                piece = Piece.objects.create(title="Osprey", citation_key="late", body="kestrel")
                piece.topics.add(Topic.objects.create(slug="harrier", name="Harrier"))
                written.set()
                release.wait(timeout=30)
        except BaseException as exc:
            errors.append(exc)
            written.set()
        finally:
            connections.close_all()

    service.search("kestrel")  # load the arrays before either write
    thread = threading.Thread(target=late_writer)
    thread.start()
    assert written.wait(timeout=30)
    make_piece("Falcon", topics=("merlin",), body="kestrel")
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (1, {"merlin": 1})
    release.set()
    thread.join(timeout=30)
    assert errors == []
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (2, {"harrier": 1, "merlin": 1})
