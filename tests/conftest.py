"""Shared fixtures: the real vocabulary, users with and without editor rights, a piece factory."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from library.catalogue.authors import parse_name
from library.catalogue.models import Piece, PieceType, Region, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from tests.servers import require_postgresql

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _fresh_search_state():
    """Each test starts with no search caches, engine instances or facet arrays from before
    (``state.reset()`` forgets the catalogue's facet arrays too)."""
    from library.search import state

    state.reset()


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    """Whether pytest-django runs this test in a real, flushed-afterwards database (its rule)."""
    from pytest_django.fixtures import validate_django_db

    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)  # a plain tuple
        if transaction or reset_sequences:
            return True
    return "transactional_db" in request.fixturenames or "live_server" in request.fixturenames


@pytest.fixture(autouse=True)
def _empty_search_index_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """A transactional test starts with the database engine's search index empty.

    The flush after each transactional test empties the models' tables only; the index's
    own tables (FTS5 on SQLite, the engine's tables on PostgreSQL) kept the pieces of every
    transactional test before, so a test counting what a search finds counted them too
    (fresh-clone CI run 34). Tests in a rolled-back transaction need nothing: their index
    writes roll back with it.
    """
    if not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    if connection.vendor not in ("sqlite", "postgresql"):
        return
    from library.search.backends import get_backend

    database_engine = get_backend("database")
    database_engine.clear()
    database_engine.optimize()  # back to the settings single saves use, as after a rebuild


@pytest.fixture(autouse=True)
def _postgresql_only(request) -> None:
    """A test marked ``postgresql`` needs that server: skipped without it, failed under CI."""
    if request.node.get_closest_marker("postgresql") is not None:
        require_postgresql(request.node.nodeid)


@pytest.fixture
def seed_text() -> str:
    return (FIXTURES / "mosul-operation.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> None:
    """The test database with the starter vocabulary committed once, for the whole session.

    Loaded per test inside a rolled-back transaction, its ~900 rows (inserted, then updated
    with their parents) left tens of thousands of dead rows in the topic and region tables
    over a PostgreSQL run, and autovacuum then recorded those tables as empty: the plans
    built on that made the first live-server test hang (library/catalogue/statistics.py).
    Tests that empty the database (``transaction=True``) run last and load it again.
    """
    from library.catalogue.statistics import refresh_planner_statistics
    from library.catalogue.vocabulary import load_vocabulary

    with django_db_blocker.unblock():
        load_vocabulary()
        refresh_planner_statistics()


@pytest.fixture
def empty_vocabulary(db) -> None:
    """No topic or region stored: the session's vocabulary deleted, until the test rolls back."""
    Region.objects.all().delete()
    Topic.objects.all().delete()


@pytest.fixture
def vocabulary(db) -> None:
    """The shipped starter vocabulary: already there, unless a flush emptied the database."""
    from library.catalogue.vocabulary import load_vocabulary

    load_vocabulary()  # reads and compares only, when every term is already stored


@pytest.fixture
def editor(db, django_user_model):
    user = django_user_model.objects.create_user(username="ed", password="correct horse 42")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def reader(db, django_user_model):
    return django_user_model.objects.create_user(username="reader", password="correct horse 42")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def make_piece(db):
    """Build a piece through the same service the forms use."""

    def make(
        title: str = "A piece",
        *,
        authors: tuple[str, ...] = ("Abdul Basit",),
        date: datetime.date | None = datetime.date(2016, 10, 28),
        type: str = PieceType.COMMENTARY,
        topics: tuple[str, ...] = (),
        regions: tuple[str, ...] = (),
        **fields,
    ) -> Piece:
        piece = Piece(title=title, date=date, type=type, **fields)
        return save_piece(
            piece,
            PieceContributors(authors=[parse_name(a) for a in authors]),
            PieceTags(
                topics=[
                    Topic.objects.get_or_create(slug=s, defaults={"name": s.title()})[0]
                    for s in topics
                ],
                regions=[
                    Region.objects.get_or_create(slug=s, defaults={"name": s.title()})[0]
                    for s in regions
                ],
            ),
        )

    return make


@pytest.fixture
def database_page_cache(settings) -> str:
    """``PAGE_CACHE=database``: the pages cache in a table, as instances share it; its name.

    Uses the test's own database access (its ``django_db`` mark or ``db`` fixture).
    """
    from django.core.management import call_command

    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "test_page_cache",
        },
    }
    call_command("createcachetable", verbosity=0)
    return "test_page_cache"
