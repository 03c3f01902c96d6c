"""Transactional tests each start with an empty search index (``tests/conftest.py``).

pytest-django's flush after a transactional test empties the models' tables, not the
engine's own index tables; before the autouse fixture, a later transactional test found
the pieces of the tests before it (fresh-clone CI run 34). Two runs of one test, each
leaving a committed piece in the index: whichever runs second fails if the first one's
row survived, whatever order the tests are run in.
"""

from __future__ import annotations

import pytest

from library.search.backends import get_backend


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", ["first", "second"])
def test_a_transactional_test_starts_with_an_empty_index(run, make_piece, settings):
    settings.SEARCH_BACKEND = "database"
    index = get_backend("database")
    assert index.indexed_digests() == {}
    piece = make_piece(f"Committed by the {run} run")  # autocommit: the index row is committed
    assert list(index.indexed_digests()) == [piece.pk]
