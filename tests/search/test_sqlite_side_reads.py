"""The SQLite engine's side reads: a search's ids pass on a second connection.

* **The same answers.** On a database file in WAL mode, with the RSIS commentary among
  generated pieces, as the project runs it (the test
  suite's in-memory database is one the helper could not open), each query's hits, total
  and facets are the same with side reads on and off, and the side read did run the pass
  the page needed: the ids pass where the head tiers filled the page, the body tier's
  BM25 pass where the head table could not. Inside a transaction, whose writes the helper
  could not see, none is started.
* **A side read never costs the request.** Cancelled, its statement stops (SQLite's
  interrupt); with every helper busy none begins, and on an error it hands the statement
  back (``rows()`` is None): the engine runs it on the request's own connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading

import pytest

from library.search.backends.database.sqlite import sidecar
from tests.reliability.test_index_faults import run

pytestmark = pytest.mark.sqlite  # the SQLite engine's own code; the PostgreSQL pass skips it

SEARCH_BOTH_WAYS = """
import json

import django

django.setup()
from django.core.management import call_command
from django.db import transaction

from library.catalogue.models import Piece, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.search import service
from library.search.backends import get_backend
from library.search.backends.database.sqlite import sidecar

call_command("migrate", verbosity=0)
topics = [
    Topic.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
    for slug in ("terrorism", "maritime")
]
for n in range(90):
    title = f"Insurgency notes {n}" if n % 3 == 0 else f"Harbour survey {n}"
    body = "The insurgency and the insurgents. " * (1 + n % 4) + f"Port number {n}."
    if n % 10 == 0:
        body += " A rare phrase of seagrass meadows."
    piece = Piece(title=title, body=body, synopsis="Coastal security.")
    save_piece(piece, PieceContributors(authors=[]), PieceTags([topics[n % 2]], []))

# Text nobody here wrote: the RSIS commentary, read as the ingest reads it.
from pathlib import Path

from library.ingest.text import parse_commentary

parsed = parse_commentary(Path("tests/fixtures/mosul-operation.txt").read_text(encoding="utf-8"))
commentary = Piece(title=parsed.title, synopsis=parsed.synopsis, body=parsed.body)
save_piece(commentary, PieceContributors(authors=[]), PieceTags([topics[0]], []))

get_backend().cache.size = 0  # every search ranks afresh
served = []
started = []
rows = sidecar.SideRead.rows
init = sidecar.SideRead.__init__


def counted_rows(self):
    found = rows(self)
    # Which pass the side read ran: the body tier's (with BM25) or the ids pass.
    served.append(("body" if "bm25(" in self._sql else "ids", found is not None))
    return found


def counted_init(self, *args):
    started.append("body" if "bm25(" in args[1] else "ids")
    init(self, *args)


sidecar.SideRead.rows = counted_rows
sidecar.SideRead.__init__ = counted_init


def answer(text):
    found = service.search(text)
    return {
        "hits": [[piece.pk, hit.snippet] for piece, hit in found.entries],
        "total": found.total,
        "error": found.index_error,
        "facets": json.loads(json.dumps(found.facets, default=str)),
    }


QUERIES = [
    "insurgency",
    "insurg*",
    "port",
    '"seagrass meadows"',
    "coastal",
    "harbour -survey",
    '"flagship monthly"',
    "territor*",
]
out = {"queries": {}}
for text in QUERIES:
    sidecar.enabled = False
    alone = answer(text)
    sidecar.enabled = True
    served.clear()
    started.clear()
    beside = answer(text)
    same = alone == beside
    out["queries"][text] = {
        "same": same, "started": list(started), "served": served[:], "total": alone["total"]
    }
started.clear()
with transaction.atomic():
    answer("insurgency")
out["started_in_a_transaction"] = len(started)
print(json.dumps(out))
"""


def test_side_reads_give_the_same_answers_and_serve_the_ids(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "library.settings",  # its own database file, in WAL mode
        "DATABASE_URL": f"sqlite:///{tmp_path / 'catalogue.sqlite3'}",
        "SEARCH_BACKEND": "database",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    done = run(SEARCH_BOTH_WAYS, env=env)
    seen = json.loads(done.stdout.splitlines()[-1])
    queries = seen["queries"]
    assert all(q["same"] for q in queries.values()), queries
    # 30 titles hold "insurgency": the head tiers fill a page of 20, and the side read
    # listed the ids of all 90 generated pieces and the commentary ("counter-insurgency")
    # while they ran; the prefix likewise.
    assert queries["insurgency"]["served"] == [["ids", True]]
    assert queries["insurgency"]["total"] == 91
    assert queries["insurg*"]["served"] == [["ids", True]]
    # A rare phrase, in no title: the head table cannot fill the page, so the body tier's
    # BM25 pass (which lists the ids too) ran beside the head tiers.
    assert queries['"seagrass meadows"']["served"] == [["body", True]]
    assert queries['"seagrass meadows"']["total"] == 9
    # With an exclusion the head table's count proves nothing: the ids pass is started,
    # and stopped when the head tiers (no "Harbour" title without "survey") fall short.
    assert queries["harbour -survey"]["started"] == ["ids"]
    assert queries["harbour -survey"]["served"] == []
    # In the RSIS commentary's body only: a phrase, and a prefix of several of its words.
    assert queries['"flagship monthly"']["served"] == [["body", True]]
    assert queries['"flagship monthly"']["total"] == 1
    assert queries["territor*"]["total"] == 1
    assert seen["started_in_a_transaction"] == 0


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "side.sqlite3")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (n INTEGER)")
        db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(10)])
    return path


# Counts far past what any machine finishes in minutes: only an interrupt ends it.
ENDLESS = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000) "
    "SELECT count(*) FROM c"
)


def started_running(read: sidecar.SideRead) -> None:
    for _ in range(6000):
        with read._lock:
            if read._running is not None:
                return
        threading.Event().wait(0.01)
    raise AssertionError("the side read never started")


def test_a_side_read_gives_its_rows_with_django_placeholders(database):
    read = sidecar.SideRead.begin(database, "SELECT sum(n) FROM t WHERE n >= %s", [5])
    assert read.rows() == [(35,)]


def test_a_cancelled_side_read_stops_its_statement(database):
    read = sidecar.SideRead.begin(database, ENDLESS, [])
    started_running(read)
    read.cancel()
    # Interrupted: the helper is free again and its connection answers the next read.
    assert read._future.result(timeout=120) is None
    assert sidecar.SideRead.begin(database, "SELECT count(*) FROM t", []).rows() == [(10,)]


def test_a_read_cancelled_before_its_statement_starts_is_stopped(database, monkeypatch):
    # The window CI once hit: the helper has taken the read (``_running`` set) and SQLite
    # has not started the statement, so the interrupt finds nothing running and is
    # dropped. Held open here: the helper waits in the placeholder rewrite until then.
    taken, cancelled = threading.Event(), threading.Event()
    rewrite = sidecar._DJANGO_PLACEHOLDER

    class Held:
        def sub(self, *args):
            taken.set()
            cancelled.wait(60)
            return rewrite.sub(*args)

    monkeypatch.setattr(sidecar, "_DJANGO_PLACEHOLDER", Held())
    read = sidecar.SideRead.begin(database, ENDLESS, [])
    assert taken.wait(60)
    read.cancel()
    cancelled.set()
    assert read._future.result(timeout=120) is None


def test_with_every_helper_busy_no_side_read_begins(database):
    busy = [sidecar.SideRead.begin(database, ENDLESS, []) for _ in range(sidecar.HELPERS)]
    try:
        for read in busy:
            started_running(read)
        # Not queued behind them: the caller runs the statement itself.
        assert sidecar.SideRead.begin(database, "SELECT count(*) FROM t", []) is None
    finally:
        for read in busy:
            read.cancel()
    for read in busy:
        assert read._future.result(timeout=120) is None


def test_a_database_file_copied_into_place_is_read_afresh(database, tmp_path):
    assert sidecar.SideRead.begin(database, "SELECT count(*) FROM t", []).rows() == [(10,)]
    assert sidecar.SideRead.begin(database, "SELECT count(*) FROM t", []).rows() == [(10,)]
    restored = str(tmp_path / "restored.sqlite3")
    with sqlite3.connect(restored) as db:
        db.execute("CREATE TABLE t (n INTEGER)")
        db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(3)])
    os.replace(restored, database)
    # A helper's kept connection reads the file now at the path, not the one replaced. (The
    # reads may all go to one helper: each finishes before the next begins.)
    assert sidecar.SideRead.begin(database, "SELECT count(*) FROM t", []).rows() == [(3,)]
    assert sidecar.SideRead.begin(database, "SELECT count(*) FROM t", []).rows() == [(3,)]


def test_no_file_is_made_where_there_is_none(tmp_path):
    missing = tmp_path / "missing.sqlite3"
    assert sidecar.SideRead.begin(str(missing), "SELECT 1", []).rows() is None
    assert not missing.exists()


def test_a_forked_child_has_helpers_of_its_own(database):
    # The parent's helpers exist and have run something before the fork.
    assert sidecar.SideRead.begin(database, "SELECT count(*) FROM t", []).rows() == [(10,)]
    child = os.fork()
    if child == 0:  # the child: exit 0 only if its side read runs and answers
        code = 1
        try:
            read = sidecar.SideRead.begin(database, "SELECT count(*) FROM t", [])
            # A bounded wait: with the parent's helpers believed alive it would never end.
            code = 0 if read is not None and read._future.result(timeout=60) == [(10,)] else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_failing_side_read_is_handed_back(database):
    assert sidecar.SideRead.begin(database, "SELECT * FROM no_such_table", []).rows() is None


def test_side_reads_are_refused_where_the_helper_could_not_see_the_data(db):
    # The test suite's database is in memory (and each test runs in a transaction).
    assert sidecar.start("SELECT 1", []) is None
