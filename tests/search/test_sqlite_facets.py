"""The SQLite engine's facet arrays: read from one snapshot, and kept exact from the change log.

* **One snapshot, whatever editors commit.** Under load at 100,000 pieces, an editor's
  piece committed between two of the load's statements had topics but no id row, and
  counting raised ``IndexError`` (HTTP 500s on search). Here another connection commits a
  piece right after the read's first row (its statement still open), for a whole load and
  for an update from the log, on a database file in WAL mode as the project runs it (the
  test suite's in-memory database locks whole tables instead, which would hide the race).
* **Updates equal a whole load and SQL's counts** after random sequences of saves,
  deletes, tag, byline, date and type changes (Hypothesis), each read being one statement.
* **The log cannot say, so the arrays load whole**: rows pruned above the mark, a log made
  again, another database's token, a type not seen before. The log is pruned by the
  worker's upkeep and ``manage.py cleanup``.
"""

from __future__ import annotations

import datetime
import json
import os
from collections import Counter
from dataclasses import replace
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.catalogue import facet_arrays, facet_groups
from library.catalogue.authors import AuthorSpec
from library.catalogue.facet_arrays import LOG_TABLE, PRUNE_SECONDS, SQLITE_NOW, FacetArrays
from library.catalogue.models import Authorship, Piece, PieceType, Region, Role, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.search.backends.database.facet_data import VIEW
from library.search.backends.database.sqlite.facets import FacetData, facet_data
from library.search.tasks import maintain_index
from tests.reliability.test_index_faults import run

pytestmark = pytest.mark.sqlite  # the SQLite engine's own code; the PostgreSQL pass skips it

# --- one snapshot, in a real WAL database with a second connection ----------------------

READ_WHILE_AN_EDITOR_COMMITS = """
import json
import sys
import threading

import django
import numpy as np

django.setup()
from django.core.management import call_command
from django.db import OperationalError, connection, connections

from library.catalogue.models import Piece, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.catalogue import facet_arrays
from library.search.backends.database.sqlite.facets import facet_data

call_command("migrate", verbosity=0)
topic, _ = Topic.objects.get_or_create(slug="terrorism", defaults={"name": "Terrorism"})


def make(title):
    tags = PieceTags(topics=[topic], regions=[])
    return save_piece(Piece(title=title), PieceContributors(authors=[]), tags)


make("Loaded before")
if sys.argv[1] == "update":
    with connection.cursor() as cursor:
        facet_data(cursor, connection.alias)  # this process's arrays, loaded whole
    make("Committed before the update")
outcome = []


def editor():
    # Its own thread, so its own connection, as another request's would be.
    try:
        outcome.append(make("Committed during the read").pk)
    except OperationalError as error:
        outcome.append(str(error))
    finally:
        connections.close_all()


thread = threading.Thread(target=editor)


class CommitAfterTheFirstRow:
    \"\"\"The editor commits once the read's statement has returned its first row.\"\"\"

    def __init__(self, cursor):
        self.cursor, self.statements = cursor, 0

    def execute(self, sql, params=()):
        result = self.cursor.execute(sql, params)
        self.statements += 1
        if self.statements == 1:
            thread.start()
            thread.join(timeout=10)  # ample to commit, unless something holds it back
        return result


with connection.cursor() as cursor:
    wrapped = CommitAfterTheFirstRow(cursor)
    data = facet_data(wrapped, connection.alias)
committed_while_reading = not thread.is_alive()
thread.join(timeout=60)
with connection.cursor() as cursor:
    after = facet_data(cursor, connection.alias)  # the next search's
facet_arrays.reset()
with connection.cursor() as cursor:
    whole = facet_data(cursor, connection.alias)


def seen(found):
    return {
        "ids": np.flatnonzero(found.alive).tolist(),
        "topic_owners": sorted(found.groups["topic"].rows.tolist()),
        "counted": dict(found.count(np.flatnonzero(found.alive))["topic"]).get(topic.pk, 0),
        "mark": found.mark,
    }


print(json.dumps({
    "read": seen(data),
    "after": seen(after),
    "whole": seen(whole),
    "statements": wrapped.statements,
    "committed_while_reading": committed_while_reading,
    "outcome": outcome,
    "pieces": sorted(Piece.objects.values_list("pk", flat=True)),
}))
"""


@pytest.mark.parametrize("read", ["load", "update"])
def test_a_piece_an_editor_commits_during_a_read_is_seen_whole_or_not_at_all(tmp_path, read):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "library.settings",  # its own database file, in WAL mode
        "DATABASE_URL": f"sqlite:///{tmp_path / 'catalogue.sqlite3'}",
        "SEARCH_BACKEND": "database",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    done = run(READ_WHILE_AN_EDITOR_COMMITS, read, env=env)
    seen = json.loads(done.stdout.splitlines()[-1])

    (committed,) = seen["outcome"]
    assert isinstance(committed, int), committed  # the editor saved: none lost
    # One statement, and it took no lock: the editor committed while it was still open.
    assert seen["statements"] == 1
    assert seen["committed_while_reading"]
    before = [pk for pk in seen["pieces"] if pk != committed]
    assert len(before) == (2 if read == "update" else 1)
    # The read saw the catalogue before the editor's commit, tags and ids alike.
    assert seen["read"]["ids"] == before
    assert seen["read"]["topic_owners"] == before
    assert seen["read"]["counted"] == len(before)
    # The next search's update from the log brings the editor's piece in: as a whole load.
    assert seen["after"] == seen["whole"]
    assert seen["after"]["ids"] == seen["pieces"]
    assert seen["after"]["mark"] > seen["read"]["mark"]


# --- updates against a whole load and SQL ---------------------------------------------

TOPICS = ("zz-sieges", "zz-drones", "zz-ports", "zz-mines")
REGIONS = ("zz-plains", "zz-coast")
PEOPLE = tuple(
    AuthorSpec(family=family, given=given)
    for given, family in (("Abdul", "Basit"), ("Zoe", "Marks"), ("Lin", "Chen"), ("Ama", "Owusu"))
)
TYPES = (PieceType.COMMENTARY, PieceType.REPORT, PieceType.BOOK)


@pytest.fixture
def vocabulary(db):
    topics = [Topic.objects.create(slug=s, name=s) for s in TOPICS]
    regions = [Region.objects.create(slug=s, name=s) for s in REGIONS]
    return topics, regions


def _whole(cursor) -> FacetArrays:
    """The catalogue's arrays loaded whole; the search's layout is ``FacetData.of`` them."""
    return facet_arrays.brought_up_to_date(cursor, None)


def _statements(data: FacetArrays) -> tuple[FacetArrays, int]:
    """``data`` (with its search layout made) brought up to date, and how many statements
    that took: the search's layout comes along from the same read, with no statement."""
    FacetData.of(data)
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        found = facet_arrays.brought_up_to_date(cursor, data)
    if found.loaded == data.loaded:  # an update: the search's layout came along, unread
        assert isinstance(found.views.get(VIEW), FacetData)
    return found, len(queries)


def _pairs(arrays: FacetArrays) -> dict[str, list[tuple[int, object]]]:
    """Each facet's (piece id, value) pairs, sorted, read both ways the arrays hold them."""
    found = {}
    data = FacetData.of(arrays)
    assert all(data.groups[name] is arrays.tags[name] for name in arrays.tags)  # one copy
    for name, group in data.groups.items():
        values = np.repeat(group.values, group.whole)
        by_value = sorted(zip(group.rows.tolist(), values.tolist(), strict=True))
        owners = np.repeat(np.arange(group.size), np.diff(group.offsets))
        by_piece = sorted(zip(owners.tolist(), group.codes.tolist(), strict=True))
        assert by_value == by_piece, name
        assert group.size == len(data.alive)
        for start, length in zip(group.starts, group.whole, strict=True):  # ids in order
            assert np.all(np.diff(group.rows[start : start + length]) > 0), name
        assert len(group.starts) == len(group.values) == len(group.whole)
        if name == "type":
            by_value = [(pk, data.types[code]) for pk, code in by_value]
        found[name] = by_value
    return found


def _sql_counts(ids: list[int]) -> dict[str, Counter]:
    """Each facet's counts over ``ids``, in plain SQL (the reference)."""
    marks = ", ".join(["%s"] * len(ids)) or "NULL"
    queries = {
        "topic": f"SELECT topic_id FROM catalogue_piece_topics WHERE piece_id IN ({marks})",
        "region": f"SELECT region_id FROM catalogue_piece_regions WHERE piece_id IN ({marks})",
        "author": f"SELECT author_id FROM catalogue_authorship WHERE role = "
        f"'{Role.AUTHOR.value}' AND piece_id IN ({marks})",
        "year": f"SELECT CAST(strftime('%%Y', date) AS integer) FROM catalogue_piece "
        f"WHERE date IS NOT NULL AND id IN ({marks})",
        "type": f"SELECT type FROM catalogue_piece WHERE id IN ({marks})",
    }
    found = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, ids)
            found[name] = Counter(value for (value,) in cursor.fetchall())
    return found


CREATE = st.tuples(
    st.just("create"),
    st.sampled_from(TYPES),
    st.none() | st.integers(1990, 2030),
    st.sets(st.integers(0, len(TOPICS) - 1)),
    st.sets(st.integers(0, len(REGIONS) - 1)),
    st.lists(st.integers(0, len(PEOPLE) - 1), unique=True, max_size=3),
)
OPERATIONS = st.one_of(
    CREATE,
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("topics"), st.integers(0, 50), st.sets(st.integers(0, len(TOPICS) - 1))),
    st.tuples(st.just("regions"), st.integers(0, 50), st.sets(st.integers(0, 1))),
    st.tuples(
        st.just("byline"),
        st.integers(0, 50),
        st.lists(st.integers(0, len(PEOPLE) - 1), unique=True, max_size=3),
    ),
    st.tuples(st.just("editor"), st.integers(0, 50), st.integers(0, len(PEOPLE) - 1)),
    st.tuples(st.just("date"), st.integers(0, 50), st.none() | st.integers(1990, 2030)),
    st.tuples(st.just("type"), st.integers(0, 50), st.sampled_from(TYPES)),
    st.tuples(st.just("synopsis"), st.integers(0, 50)),
    st.just(("update",)),  # bring the arrays up to date here, mid-sequence
)


def _apply(operation: tuple, topics: list[Topic], regions: list[Region]) -> None:
    """One write: through ``save_piece`` as the forms do, or straight to the tables."""
    kind, *args = operation
    pieces = list(Piece.objects.order_by("pk"))
    if kind == "create":
        piece_type, year, topic_ix, region_ix, people = args
        date = datetime.date(year, 6, 1) if year else None
        save_piece(
            Piece(title=f"Piece {len(pieces)}", type=piece_type, date=date),
            PieceContributors(authors=[PEOPLE[n] for n in people]),
            PieceTags(
                topics=[topics[n] for n in topic_ix], regions=[regions[n] for n in region_ix]
            ),
        )
        return
    if not pieces:
        return
    piece = pieces[args[0] % len(pieces)]
    if kind == "delete":
        piece.delete()
    elif kind == "topics":
        piece.topics.set([topics[n] for n in args[1]])
    elif kind == "regions":
        piece.regions.set([regions[n] for n in args[1]])
    elif kind == "byline":
        save_piece(
            piece,
            PieceContributors(authors=[PEOPLE[n] for n in args[1]]),
            PieceTags(topics=list(piece.topics.all()), regions=list(piece.regions.all())),
        )
    elif kind == "editor":  # an editor, not an author: not in the author facet
        author = (
            save_piece(
                Piece(title="Byline source"),
                PieceContributors(authors=[PEOPLE[args[1]]]),
                PieceTags(topics=[], regions=[]),
            )
            .authorships.get()
            .author
        )
        Authorship.objects.get_or_create(
            piece=piece, author=author, role=Role.EDITOR, defaults={"position": 99}
        )
    elif kind == "date":
        year = args[1]
        Piece.objects.filter(pk=piece.pk).update(date=datetime.date(year, 1, 2) if year else None)
    elif kind == "type":
        Piece.objects.filter(pk=piece.pk).update(type=args[1])
    elif kind == "synopsis":
        Piece.objects.filter(pk=piece.pk).update(synopsis=f"{piece.synopsis} again")


def _check(data: FacetArrays, cursor, subset: list[int]) -> None:
    """``data`` equals a whole load, and its counts equal SQL's, over every piece and ``subset``."""
    whole = _whole(cursor)
    assert data.mark == whole.mark
    assert np.flatnonzero(data.alive).tolist() == np.flatnonzero(whole.alive).tolist()
    # (A type whose last piece went keeps its code until the next whole load: no pairs.)
    assert _pairs(data) == _pairs(whole)
    ids = list(Piece.objects.values_list("pk", flat=True))
    for wanted in (ids, [pk for pk in ids if pk % 3 in subset], [*ids[:2], 10_000]):
        found = FacetData.of(data).count(wanted)
        counted = {name: Counter(dict(values)) for name, values in found.items()}
        expected = _sql_counts([pk for pk in wanted if pk in ids])
        assert counted == {name: expected[name] for name in counted}


@pytest.mark.parametrize("regroup", [False, True], ids=["pairs moved", "grouped again"])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.lists(CREATE, min_size=1, max_size=6),
    operations=st.lists(OPERATIONS, max_size=12),
    subset=st.sets(st.integers(0, 2)),
)
def test_updates_from_the_log_equal_a_whole_load_and_sql_counts(
    vocabulary, monkeypatch, regroup, start, operations, subset
):
    """Both ways of replacing a facet's pairs: moved in place (a few changes, the usual
    case), and grouped again (a bulk write's many; here every update)."""
    if regroup:
        monkeypatch.setattr(facet_groups, "_regroup", lambda changes, pairs: True)
    topics, regions = vocabulary
    with transaction.atomic():  # each example starts from the same empty catalogue
        # A piece of each type first (as before the arrays were shared, when a type new to
        # them made them load whole; now it gets the next code: tested below).
        for operation in [*(("create", t, None, set(), set(), []) for t in TYPES), *start]:
            _apply(operation, topics, regions)
        with connection.cursor() as cursor:
            data = _whole(cursor)
        for operation in [*operations, ("update",)]:
            if operation[0] != "update":
                _apply(operation, topics, regions)
                continue
            updated, statements = _statements(data)
            # One statement: an update from the log, not a load (a second statement).
            assert statements == 1
            assert updated.mark >= data.mark
            with connection.cursor() as cursor:
                _check(updated, cursor, sorted(subset))
            data = updated
        transaction.set_rollback(True)


# --- when the log cannot say -------------------------------------------------------------


@pytest.fixture
def loaded(vocabulary, make_piece):
    """Three pieces, the arrays loaded, then a fourth piece and a topic change logged."""
    for n in range(3):
        make_piece(f"Piece {n}", topics=(TOPICS[n],), regions=(REGIONS[0],))
    with connection.cursor() as cursor:
        data = _whole(cursor)
    make_piece("Piece 3", topics=(TOPICS[3],))
    Piece.objects.order_by("pk").first().topics.set([vocabulary[0][2]])
    return data


def _delete_log(where: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LOG_TABLE} WHERE {where}")
        return cursor.rowcount


def test_an_update_reads_one_statement_and_nothing_when_nothing_changed(loaded):
    updated, statements = _statements(loaded)
    assert statements == 1
    with connection.cursor() as cursor:
        _check(updated, cursor, [0])
    again, statements = _statements(updated)
    assert statements == 1
    assert again is updated


def test_rows_missing_above_the_mark_mean_a_whole_load(loaded):
    # The oldest row above the mark pruned: the rest cannot say all that changed.
    assert _delete_log(f"id = (SELECT min(id) FROM {LOG_TABLE} WHERE id > {loaded.mark})") == 1
    updated, statements = _statements(loaded)
    assert statements == 2  # the update's read found the gap; then the whole load
    with connection.cursor() as cursor:
        _check(updated, cursor, [1])


def test_a_log_emptied_by_pruning_means_a_whole_load(loaded):
    assert _delete_log("1") > 0
    updated, statements = _statements(loaded)
    assert statements == 2
    with connection.cursor() as cursor:
        _check(updated, cursor, [2])


def test_a_log_made_again_means_a_whole_load(loaded):
    ahead = replace(loaded, mark=loaded.mark + 10_000)
    updated, statements = _statements(ahead)
    assert statements == 2  # its sequence is below the arrays' mark
    assert updated.mark < ahead.mark


def test_another_databases_token_means_a_whole_load(loaded):
    other = replace(loaded, token="another")
    updated, statements = _statements(other)
    assert statements == 2
    assert updated.token != "another"


def test_a_type_the_arrays_have_no_code_for_gets_the_next_code_in_an_update(loaded, make_piece):
    make_piece("A first thesis", type=PieceType.THESIS)
    updated, statements = _statements(loaded)
    assert statements == 1
    assert updated.types == (*loaded.types, PieceType.THESIS)  # the codes given keep theirs
    with connection.cursor() as cursor:
        _check(updated, cursor, [0, 1])


def test_the_processs_arrays_are_shared_outside_a_transaction_only(loaded):
    facet_arrays.reset()
    with transaction.atomic(), connection.cursor() as cursor:
        facet_data(cursor, connection.alias)
    assert connection.alias not in facet_arrays._loaded


# --- pruning -----------------------------------------------------------------------------


def _age_log(seconds: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {LOG_TABLE} SET at = {SQLITE_NOW} - %s", [seconds])


def _log_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {LOG_TABLE}")
        return cursor.fetchone()[0]


def test_the_workers_upkeep_prunes_log_rows_older_than_an_hour(loaded, make_piece):
    _age_log(PRUNE_SECONDS + 5)
    old = _log_rows()
    make_piece("Logged just now", topics=(TOPICS[0],))
    recent = _log_rows() - old
    assert old
    assert recent
    done = maintain_index.call()
    assert done["changes_pruned"] == old
    assert _log_rows() == recent
    # The arrays' mark is below the pruned rows: they load whole, and are right.
    updated, statements = _statements(loaded)
    assert statements == 2
    with connection.cursor() as cursor:
        _check(updated, cursor, [0])


def test_cleanup_prunes_the_log_and_keeps_recent_rows(loaded):
    _age_log(PRUNE_SECONDS - 60)
    kept = _log_rows()
    out = StringIO()
    call_command("cleanup", stdout=out)
    assert "0 piece change log row(s)" in out.getvalue()
    assert _log_rows() == kept
    _age_log(PRUNE_SECONDS + 60)
    call_command("cleanup", stdout=out)
    assert f"{kept} piece change log row(s) older than 60 minutes" in out.getvalue()
    assert _log_rows() == 0


# --- one set of arrays: the catalogue's pages and the search read the log once -----------


@pytest.mark.django_db(transaction=True)  # real commits: only then are the arrays shared
def test_a_write_then_a_browse_and_a_search_read_the_log_once(empty_index, make_piece, monkeypatch):
    """After a write, the browse page's facets and a search's facets come from one read of
    the change log (the browse's); the search counts over the same arrays. Both answers
    equal SQL's counts and a whole load's."""
    from library.catalogue.browse import Filters, facets
    from library.search import service

    people = ("Abdul Basit", "Zoe Marks", "Lin Chen")
    for n in range(12):
        make_piece(
            f"Maritime security {n}",
            authors=people[: 1 + n % 3],
            date=None if n % 5 == 0 else datetime.date(2010 + n % 4, 3, 1),
            type=TYPES[n % 3],
            topics=TOPICS[: n % 4],
            regions=REGIONS[: n % 3],
        )
    counted: list[tuple[np.ndarray, dict]] = []
    count = FacetData.count

    def recorded(self, ids):  # the real count, its ids and answer kept
        found = count(self, ids)
        counted.append((np.asarray(list(ids), dtype=np.int64), found))
        return found

    monkeypatch.setattr(FacetData, "count", recorded)
    facets(Filters())
    service.search("security")  # both layouts in use before the write
    before = facet_arrays._loaded[connection.alias].mark
    piece = Piece.objects.order_by("pk")[3]
    piece.topics.set(Topic.objects.filter(slug__in=TOPICS[2:]))
    make_piece("Maritime security written last", type=PieceType.THESIS, topics=(TOPICS[0],))

    counted.clear()
    with CaptureQueriesContext(connection) as queries:
        browsed = facets(Filters())
        searched = service.search("security")
    # Each request asks the log what is new (exactness across processes), but the rows the
    # write logged are read once: the browse's read updates both layouts, and the search's
    # asks only above the mark that read reached (two layouts asked from one mark each).
    reads = [q["sql"] for q in queries if facet_arrays.SQL_MARK in q["sql"]]
    mark = facet_arrays._loaded[connection.alias].mark
    assert mark > before
    assert len(reads) == 2, reads  # updates, not loads (a load asks above no mark)
    assert f"{LOG_TABLE} WHERE id > {before})" in reads[0]
    assert f"{LOG_TABLE} WHERE id > {mark})" in reads[1]
    assert not any(LOG_TABLE in q["sql"] for q in queries if q["sql"] not in reads)

    # The browse: as SQL counts it (inside a transaction the arrays are not used).
    with transaction.atomic():
        assert facet_arrays.arrays() is None
        in_sql = facets(Filters())
    assert [(f.name, [(v.value, v.count) for v in f.values]) for f in browsed] == [
        (f.name, [(v.value, v.count) for v in f.values]) for f in in_sql
    ]
    # The search: its counts over the ids it matched, as SQL and a whole load count them.
    ((ids, found),) = counted
    assert searched.total == len(ids) == Piece.objects.count()
    expected = _sql_counts(ids.tolist())
    assert {name: Counter(dict(values)) for name, values in found.items()} == expected
    with connection.cursor() as cursor:
        whole = _whole(cursor)
    assert found == count(FacetData.of(whole), ids)
    shared = facet_arrays._loaded[connection.alias]
    assert _pairs(shared) == _pairs(whole)
