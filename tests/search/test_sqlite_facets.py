"""The SQLite engine's facet arrays are read from one snapshot, whatever editors commit.

Under load at 100,000 pieces, an editor's piece committed between two of the load's
statements had topics but no id row, and counting raised ``IndexError`` (HTTP 500s on
search). Here another connection commits a piece right after the load's first statement,
on a database file in WAL mode as the project runs it (the test suite's in-memory
database locks whole tables instead, which would hide the race).
"""

from __future__ import annotations

import json
import os

import pytest

from tests.reliability.test_index_faults import run

LOAD_WHILE_AN_EDITOR_COMMITS = """
import json
import threading

import django

django.setup()
from django.core.management import call_command
from django.db import OperationalError, connection, connections

from library.catalogue.models import Piece, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.search.backends.database.sqlite.facets import facet_data

call_command("migrate", verbosity=0)
topic, _ = Topic.objects.get_or_create(slug="terrorism", defaults={"name": "Terrorism"})


def make(title):
    tags = PieceTags(topics=[topic], regions=[])
    return save_piece(Piece(title=title), PieceContributors(authors=[]), tags)


make("Loaded before")
outcome = []


def editor():
    # Its own thread, so its own connection, as another request's would be.
    try:
        outcome.append(make("Committed during the load").pk)
    except OperationalError as error:
        outcome.append(str(error))
    finally:
        connections.close_all()


thread = threading.Thread(target=editor)


class CommitAfterFirstStatement:
    def __init__(self, cursor):
        self.cursor, self.statements = cursor, 0

    def execute(self, sql, params=()):
        result = self.cursor.execute(sql, params)
        self.statements += 1
        if self.statements == 1:
            thread.start()
            thread.join(timeout=2)  # ample to commit, unless something holds it back
        return result


with connection.cursor() as cursor:
    data = facet_data(CommitAfterFirstStatement(cursor), connection.alias, generation=-1)
thread.join(timeout=60)
owners = data.groups["topic"].rows  # each topic row's piece row
counted = dict(data.count(data.ids)["topic"])
print(json.dumps({
    "ids": data.ids.tolist(),
    "topic_owners": owners.tolist(),
    "counted": counted.get(topic.pk, 0),
    "outcome": outcome,
    "pieces": sorted(Piece.objects.values_list("pk", flat=True)),
}))
"""


@pytest.mark.sqlite
def test_a_piece_an_editor_commits_during_the_load_is_seen_whole_or_not_at_all(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "library.settings",  # its own database file, in WAL mode
        "DATABASE_URL": f"sqlite:///{tmp_path / 'catalogue.sqlite3'}",
        "SEARCH_BACKEND": "database",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    done = run(LOAD_WHILE_AN_EDITOR_COMMITS, env=env)
    seen = json.loads(done.stdout.splitlines()[-1])

    (committed,) = seen["outcome"]
    assert isinstance(committed, int), committed  # the editor waited, then saved: none lost
    assert seen["pieces"] == sorted([*seen["ids"], committed])
    # The load saw the catalogue before the editor's commit, tags and ids alike.
    assert committed not in seen["ids"]
    assert all(row < len(seen["ids"]) for row in seen["topic_owners"])
    assert seen["counted"] == len(seen["ids"])
