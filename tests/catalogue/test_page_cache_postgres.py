"""Page caches under concurrent PostgreSQL writers, each on its own connection.

PostgreSQL runs writers side by side and hands out sequence ids before commit, so two
promises need real concurrent transactions to check: writers never wait for one another
on the cache's record of changes, and a write that commits after a later-numbered one
still changes the cache key (a key built on the largest change id would miss it for
good). The held-open writer runs in a thread, which Django gives its own connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction

from library.catalogue import generation
from library.catalogue.models import Author, CatalogueChange, Piece, Topic

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@contextmanager
def open_writer(write: Callable[[], None]) -> Iterator[threading.Event]:
    """``write()`` in a transaction on another connection, held open until the block ends.

    Yields an event that is set once the transaction has committed.
    """
    written, release, committed, errors = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
        [],
    )

    def run() -> None:
        try:
            with transaction.atomic():
                write()
                written.set()
                assert release.wait(timeout=30), "never released"
            committed.set()
        except BaseException as exc:  # reported in the test's own thread below
            errors.append(exc)
            written.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert written.wait(timeout=30)
        assert errors == []
        yield committed
    finally:
        release.set()
        thread.join(timeout=30)
    assert errors == []
    assert committed.is_set()


def tagged_piece(title: str, topic: str) -> None:
    """A piece and a new topic through the ORM (save_piece's lock would serialise writers)."""
    piece = Piece.objects.create(title=title, citation_key=title.lower(), body=title)
    piece.topics.add(Topic.objects.create(slug=topic, name=topic.title()))


def browse(client) -> str:
    response = client.get("/pieces/")
    assert response.status_code == 200
    return response.content.decode()


def vocabulary_and_author(topic: str, family: str) -> None:
    """Catalogue writes no piece's search row depends on (the search index has its own
    shared word counts, which make writers of pieces with words in common take turns)."""
    Topic.objects.create(slug=topic, name=topic.title())
    Author.objects.filter(family=family).update(given="Renamed")


def test_a_writer_commits_while_another_writers_transaction_is_open():
    Author.objects.create(family="Basit", given="Abdul", slug="abdul-basit")
    Author.objects.create(family="Marks", given="Zoe", slug="zoe-marks")
    with open_writer(lambda: vocabulary_and_author("zz-held", "Basit")) as first_committed:
        # A row lock on a shared row would make this wait for the held transaction;
        # lock_timeout turns such a wait into an error instead of a hung test.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            vocabulary_and_author("zz-second", "Marks")
        assert not first_committed.is_set()
        assert Topic.objects.filter(slug="zz-second").exists()
        assert not Topic.objects.filter(slug="zz-held").exists()
    assert Topic.objects.filter(slug="zz-held").exists()
    assert set(Author.objects.values_list("given", flat=True)) == {"Renamed"}


def test_a_commit_after_a_later_numbered_one_still_changes_the_cached_pages(client):
    generation.new_epoch()
    earlier = set(CatalogueChange.objects.values_list("pk", flat=True))
    with open_writer(lambda: tagged_piece("Osprey", "harrier")):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            tagged_piece("Falcon", "merlin")
        # The one new change row visible: the held writer's is not committed yet.
        (committed,) = set(CatalogueChange.objects.values_list("pk", flat=True)) - earlier
        before = generation.current()
        html = browse(client)  # cached under a key that has the later id, not the held one
        assert "Merlin" in html
        assert "Harrier" not in html
        assert generation.current() == before
        assert "Harrier" not in browse(client)
    (held,) = set(CatalogueChange.objects.values_list("pk", flat=True)) - earlier - {committed}
    assert held < committed, "the held writer's change id was not the lower one"
    # So the largest id did not change when the held writer committed; the count did.
    assert CatalogueChange.objects.order_by("-pk").values_list("pk", flat=True)[0] == committed
    assert generation.current() != before
    assert "Harrier" in browse(client)
