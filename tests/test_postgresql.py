"""Behaviour that only PostgreSQL can show: the connection settings and concurrent writers.

These run in ``make test``'s second pass, where scripts/pg-cluster.sh starts a throwaway
cluster and sets DATABASE_URL. Locally, without a PostgreSQL URL, they skip saying how to
run them; in CI (``CI`` set) a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import close_old_connections, connection, connections

from library.catalogue.authors import parse_name
from library.catalogue.models import Author, Piece
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.search.backends import get_backend

pytestmark = pytest.mark.postgresql


@pytest.fixture
def isolated_search(settings, tmp_path, caplog):
    """Threads commit for real, so an after-commit engine writes: an empty index in tmp.

    Afterwards nothing may have been logged as an error (a failed index update included).
    """
    settings.WHOOSH_INDEX_DIR = tmp_path / "whoosh-index"
    if settings.SEARCH_BACKEND == "whoosh":
        get_backend().clear()
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def run_together(workers: list[Callable[[], None]]) -> list[BaseException]:
    """Start every worker at the same moment on its own connection; return their errors."""
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait(timeout=30)
            work()
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
        finally:
            close_old_connections()
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


def add(title: str, author: str = "Abdul Basit") -> Piece:
    return save_piece(
        Piece(title=title, date=datetime.date(2016, 10, 28)),
        PieceContributors(authors=[parse_name(author)]),
        PieceTags(),
    )


@pytest.mark.django_db
def test_a_postgres_url_selects_postgresql_with_persistent_checked_connections():
    assert connection.vendor == "postgresql"
    config = settings.DATABASES["default"]
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["CONN_MAX_AGE"] > 0
    # SQLite's options would be refused by psycopg ("invalid connection option").
    assert not {"transaction_mode", "init_command", "timeout"} & set(config.get("OPTIONS", {}))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_encoding")
        assert cursor.fetchone()[0] == "UTF8"


@pytest.mark.django_db
def test_unicode_and_markup_survive_a_round_trip():
    title = "Đà Nẵng <script>alert(1)</script> & % $ # _ { 😀"
    piece = add(title, "Zoë Lefèvre")
    piece.refresh_from_db()
    assert piece.title == title
    assert piece.authorships.get().author.family == "Lefèvre"


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_two_connections_lose_nothing(isolated_search):
    per_writer = 15

    def writer(name: str) -> Callable[[], None]:
        def work() -> None:
            for number in range(per_writer):
                add(f"{name} piece {number}", f"{name} Writer")

        return work

    errors = run_together([writer("First"), writer("Second")])
    assert errors == []
    assert Piece.objects.count() == 2 * per_writer
    assert Author.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_citation_key_claimed_at_once_is_disambiguated_not_refused(isolated_search):
    # Same author, year and first title word: both saves want "basit2016mosul". SQLite
    # serialises writers; on PostgreSQL the loser would hit the unique index (a 500).
    rounds = 6
    for number in range(rounds):
        errors = run_together([lambda n=number: add(f"Mosul round {n}") for _ in range(2)])
        assert errors == []
    keys = list(Piece.objects.values_list("citation_key", flat=True))
    assert len(keys) == 2 * rounds == len(set(keys))
    # One new author typed by two editors at the same moment is created once.
    assert Author.objects.filter(family="Basit").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_piece_keep_the_last_commit(isolated_search):
    piece = add("Shared piece")
    key = piece.citation_key

    def edit(synopsis: str) -> Callable[[], None]:
        def work() -> None:
            mine = Piece.objects.get(pk=piece.pk)
            mine.synopsis = synopsis
            save_piece(mine, PieceContributors(authors=[parse_name("Abdul Basit")]), PieceTags())

        return work

    errors = run_together([edit("from the first editor"), edit("from the second editor")])
    assert errors == []
    piece.refresh_from_db()
    assert piece.synopsis in {"from the first editor", "from the second editor"}
    assert piece.citation_key == key
    assert piece.authorships.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_between_requests_is_replaced():
    # Persistent connections outlive a PostgreSQL restart or failover; CONN_HEALTH_CHECKS
    # makes the next request reconnect instead of failing with "server closed the connection".
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        old_pid = cursor.fetchone()[0]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()
    close_old_connections()  # what Django does when the next request starts
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid
