"""Search fixtures: every engine behind one ``engine`` fixture, and a small real corpus."""

from __future__ import annotations

import datetime
import os

import pytest

from library.catalogue.models import PieceType
from library.search.backends import get_backend

ENGINES = ("database", "whoosh")


def _require_whoosh() -> None:
    try:
        import whoosh  # noqa: F401
    except ImportError:
        message = "the Whoosh engine needs whoosh-reloaded: pip install -r requirements.txt"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _require_dialect() -> None:
    from django.db import connection

    if connection.vendor not in ("sqlite", "postgresql"):
        pytest.skip(f"the database engine has no {connection.vendor} dialect")


@pytest.fixture(params=ENGINES)
def engine(request, settings, tmp_path, db):
    """The configured backend for each engine in turn, with an empty index."""
    if request.param == "whoosh":
        _require_whoosh()
        settings.WHOOSH_INDEX_DIR = tmp_path / "whoosh-index"
    else:
        _require_dialect()
    settings.SEARCH_BACKEND = request.param
    backend = get_backend()
    backend.clear()
    return backend


@pytest.fixture
def database_engine(settings, db):
    _require_dialect()
    settings.SEARCH_BACKEND = "database"
    return get_backend()


@pytest.fixture
def empty_index(database_engine):
    """The engine with an empty index set up for single saves, emptied again afterwards:
    a transactional test's flush empties the catalogue's tables, not the index's (an
    earlier transactional test's pieces would still be found)."""
    database_engine.clear()
    database_engine.optimize()
    yield database_engine
    database_engine.clear()
    database_engine.optimize()


@pytest.fixture
def whoosh_engine(settings, tmp_path, db):
    _require_whoosh()
    settings.WHOOSH_INDEX_DIR = tmp_path / "whoosh-index"
    settings.SEARCH_BACKEND = "whoosh"
    backend = get_backend()
    backend.clear()
    return backend


@pytest.fixture
def add_piece(make_piece, django_capture_on_commit_callbacks):
    """make_piece, with after-commit index updates run as a real commit would run them."""

    def add(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return make_piece(*args, **kwargs)

    return add


@pytest.fixture
def corpus(engine, vocabulary, add_piece) -> dict:
    """Seven pieces chosen so each search feature has one unambiguous right answer."""
    pieces = {
        "mosul": add_piece(
            "Mosul's Coin: Islamic State Mints Its Own Currency",
            authors=("Abdul Basit",),
            date=datetime.date(2016, 10, 28),
            topics=("islamic-state",),
            regions=("mosul", "iraq"),
            synopsis="The group minted gold dinars to assert statehood over the city.",
            body="ISIS minted coins in Mosul.\n\nThe propaganda value of money was high.",
        ),
        "fighters": add_piece(
            "Returning Militants and the Threat to Europe",
            authors=("Rohan Gunaratna",),
            date=datetime.date(2015, 3, 1),
            topics=("foreign-fighters",),
            regions=("iraq",),
            synopsis="Foreign fighters are coming home from the battlefields.",
            body="Thousands of foreign fighters travelled to Iraq; insurgents trained them.",
        ),
        "thailand": add_piece(
            "Insurgency in Southern Thailand",
            authors=("Zoë Lefèvre",),
            date=datetime.date(2012, 6, 1),
            topics=("insurgency",),
            regions=("thailand",),
            synopsis="A long-running rebellion in the deep south.",
            body="The insurgency has cost thousands of lives.",
        ),
        "danang": add_piece(
            "Maritime Security off Đà Nẵng",
            authors=("Nguyễn Văn An",),
            date=datetime.date(2019, 5, 1),
            topics=("maritime-security",),
            regions=("vietnam",),
            synopsis="Sea lanes near Đà Nẵng are contested.",
            body="Fishing fleets and coast guards meet in the South China Sea.",
        ),
        "daesh": add_piece(
            "Countering Daesh Propaganda Online",
            authors=("Abdul Basit",),
            date=datetime.date(2018, 2, 1),
            topics=("counter-terrorism",),
            synopsis="Platforms remove accounts faster than before.",
            body="Daesh media units adapted to takedowns.",
        ),
        "weird": add_piece(
            "<script>alert(1)</script> & % $ # _ { braces",
            authors=("Seán O'Neill",),
            date=datetime.date(2010, 1, 1),
            type=PieceType.REPORT,
            synopsis="Markup <b>inside</b> a synopsis & an ampersand.",
            body="Plain body about cartels <img src=x onerror=alert(2)> and smuggling.",
        ),
        "undated": add_piece(
            "Securitization Theory Revisited",
            authors=("Ole Wæver",),
            date=None,
            type=PieceType.BOOK,
            synopsis="Speech acts make security.",
            body="Securitization moves an issue beyond normal politics.",
        ),
    }
    return pieces
