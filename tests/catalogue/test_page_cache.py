"""Cached page parts follow every write: the catalogue generation changes with each one.

Each page test first renders a page (filling the cache under the current generation),
then writes, then renders again and expects the write to show. They commit for real
(``transaction=True``): inside one uncommitted transaction that has written, nothing is
cached at all (``generation.current``), which would make them pass vacuously. Runs on
both databases.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from library.catalogue import generation
from library.catalogue.models import Author, FormattedCitation, Piece, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece

committed = pytest.mark.django_db(transaction=True)


def row() -> tuple[int, str] | None:
    """The generation row as stored (``generation.current`` hides it from a writer)."""
    from library.catalogue.models import CatalogueGeneration

    return CatalogueGeneration.objects.values_list("number", "token").filter(pk=1).first()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


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


def test_a_rolled_back_write_never_gives_a_generation_again(db):
    before = row()
    seen = []

    def write_then_fail() -> None:
        with transaction.atomic():
            generation.bump()
            seen.append(row())
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        write_then_fail()
    (inside,) = seen
    assert row() == before
    generation.bump()
    after = row()
    assert len({before[1], inside[1], after[1]}) == 3
    # The counter repeats after the rollback; the random token does not.
    assert inside[0] == after[0]


def test_without_the_generation_row_nothing_is_cached(db):
    from library.catalogue.models import CatalogueGeneration

    CatalogueGeneration.objects.all().delete()
    calls = []
    cached = generation.PageCache.now()
    assert cached.generation is None
    for _ in range(2):
        cached.get("test", (), lambda: calls.append(1))
    assert len(calls) == 2
    generation.bump()  # puts the row back
    assert row() is not None


def test_a_transaction_changes_the_generation_row_once_on_postgresql(db):
    # PostgreSQL: repeated UPDATEs of one row in one transaction each leave a version the
    # next must walk past, so the row changes once. SQLite updates in place, every time.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        generation.bump()
        with CaptureQueriesContext(connection) as queries:
            for _ in range(50):
                generation.bump()
    updates = [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(updates) == (0 if connection.vendor == "postgresql" else 50)


def test_a_bump_rolled_back_with_its_savepoint_is_made_again(db):
    before = row()
    with transaction.atomic():

        def fail() -> None:
            with transaction.atomic():
                generation.bump()
                raise RuntimeError("roll back the savepoint")

        with pytest.raises(RuntimeError):
            fail()
        assert row() == before
        generation.bump()
        assert row() != before


@committed
def test_pages_are_cached_between_writes(client, tagged):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            page(client, "/pieces/?topic=zz-sieges")
        counts.append(len(queries))
    assert counts[1] <= counts[0] - 8  # no count, no facet queries


def test_a_transaction_that_wrote_caches_only_what_its_later_writes_invalidate(db, make_piece):
    from django.db import connection

    make_piece("Uncommitted")  # the test's own transaction wrote the catalogue
    if connection.vendor == "postgresql":
        # Its later writes leave the row as it is: it must not cache at all.
        assert generation.current() is None
    else:
        # Every write changes the row: a value cached now is keyed on exactly this state.
        before = generation.current()
        assert before is not None
        make_piece("Also uncommitted")
        assert generation.current() not in (None, before)
