"""A save reads its version, byline and tags in three statements written out, and writes
only the relations that changed; what it stores and indexes is what ``.set()`` and a
rebuild give (library/catalogue/save_reads.py, services.set_tags)."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.db.models.signals import m2m_changed
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.catalogue.authors import parse_name
from library.catalogue.models import Authorship, Piece, Region, Topic
from library.catalogue.save_reads import byline_rows, piece_version, tag_ids
from library.catalogue.services import PieceContributors, PieceTags, save_piece, set_tags
from library.search.maintenance import check, rebuild

pytestmark = pytest.mark.django_db

TAG_TABLES = ("catalogue_piece_topics", "catalogue_piece_regions")


def edit(piece: Piece, **changes) -> tuple[Piece, CaptureQueriesContext]:
    """Save ``piece`` as the edit form does (byline and tags sent again), with ``changes``."""
    piece = Piece.objects.get(pk=piece.pk)
    authors = changes.pop("authors", None)
    topics = changes.pop("topics", None)
    regions = changes.pop("regions", None)
    for name, value in changes.items():
        setattr(piece, name, value)
    contributors = PieceContributors(
        authors=[parse_name(a) for a in authors]
        if authors is not None
        else [parse_name(a.display_name) for a in piece.authors]
    )
    tags = PieceTags(
        topics=list(piece.topics.all()) if topics is None else topics,
        regions=list(piece.regions.all()) if regions is None else regions,
    )
    with CaptureQueriesContext(connection) as queries:
        saved = save_piece(piece, contributors, tags)
    return saved, queries


def tag_statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in TAG_TABLES)]


def test_an_edit_reads_both_tag_relations_in_one_statement_and_writes_neither(
    database_engine, make_piece
):
    piece = make_piece("Tags kept", topics=("terrorism",), regions=("sahel",))
    changed: list[str] = []

    def note(sender, action, **kwargs):
        changed.append(action)

    m2m_changed.connect(note)
    try:
        _, queries = edit(piece, title="Tags kept, title changed")
    finally:
        m2m_changed.disconnect(note)
    statements = tag_statements(queries)
    # The save's one read of both relations, then the index document's two reads; before,
    # each relation's .set() read it once (four statements).
    assert len(statements) == 3
    assert "UNION ALL" in statements[0]
    assert not any(s.lstrip().upper().startswith(("INSERT", "DELETE")) for s in statements)
    assert changed == []


def test_only_the_changed_relation_is_set(database_engine, make_piece):
    piece = make_piece("Tags moved", topics=("terrorism",), regions=("sahel",))
    other = Topic.objects.get_or_create(slug="maritime", defaults={"name": "Maritime"})[0]
    seen: list[tuple[str, str]] = []

    def note(sender, action, **kwargs):
        seen.append((sender._meta.db_table, action))

    m2m_changed.connect(note)
    try:
        saved, _ = edit(piece, topics=[other])
    finally:
        m2m_changed.disconnect(note)
    assert {t for t, _ in seen} == {"catalogue_piece_topics"}
    assert list(saved.topics.values_list("slug", flat=True)) == ["maritime"]
    assert list(saved.regions.values_list("slug", flat=True)) == ["sahel"]
    assert check(database_engine).ok


def test_a_new_piece_reads_no_tags_and_unsaved_or_wrong_terms_still_fail_as_set_does(
    database_engine, make_piece
):
    piece = Piece(title="New, untagged")
    with CaptureQueriesContext(connection) as queries:
        save_piece(piece, PieceContributors(authors=[parse_name("Abdul Basit")]), PieceTags())
    assert not any("UNION ALL" in s for s in tag_statements(queries))  # nothing to read yet
    region = Region.objects.get_or_create(slug="sahel", defaults={"name": "Sahel"})[0]
    for wrong in ([region], [Topic(slug="unsaved", name="Unsaved")]):
        # Each in a savepoint: set() marks the transaction broken when it fails.
        with pytest.raises((TypeError, ValueError)) as by_orm, transaction.atomic():
            piece.topics.set(wrong)
        with pytest.raises(by_orm.type, match=re.escape(str(by_orm.value))), transaction.atomic():
            set_tags(piece, PieceTags(topics=wrong), saved_before=True)


def test_the_written_out_reads_give_what_the_orm_gives(database_engine, make_piece):
    piece = make_piece(
        "Read back", authors=("Abdul Basit", "van der Berg, Jan, Jr."), topics=("terrorism",)
    )
    Authorship.objects.create(piece=piece, author=piece.authors[0], role="editor", position=0)
    rows = byline_rows(piece.pk)
    orm = list(piece.authorships.select_related("author").order_by("role", "position", "pk"))
    assert [(r.role, r.position, r.author_id) for r in rows] == [
        (a.role, a.position, a.author_id) for a in orm
    ]
    assert [(r.kind, r.family, r.given, r.particle, r.suffix) for r in rows] == [
        (a.author.kind, a.author.family, a.author.given, a.author.particle, a.author.suffix)
        for a in orm
    ]
    assert tag_ids(piece.pk) == (set(piece.topics.values_list("pk", flat=True)), set())
    assert piece_version(piece.pk) == Piece.objects.get(pk=piece.pk).version
    assert piece_version(piece.pk + 1000) is None


def index_content() -> object:
    """What the index holds, independent of how its segments are laid out."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            found = []
            for table in ("search_piece_fts", "search_head_fts"):
                cursor.execute(
                    f"CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, {table}, instance)"
                )
                cursor.execute("SELECT term, doc, col, offset FROM temp.v ORDER BY 1, 2, 3, 4")
                found.append(cursor.fetchall())
                cursor.execute("DROP TABLE temp.v")
            cursor.execute(
                "SELECT rowid, title, authors, tags, synopsis, body, digest "
                "FROM search_piece_fts ORDER BY rowid"
            )
            found.append(cursor.fetchall())
            cursor.execute("SELECT word, docs FROM search_word ORDER BY word")
            found.append(cursor.fetchall())
            return found
        cursor.execute("SELECT word, docs FROM search_pg_word ORDER BY word")
        return cursor.fetchall()


NAMES = ["Abdul Basit", "Zoë Ng", "ana ruiz", "Ana Ruiz", "van der Berg, Jan"]
EDITS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "title": st.sampled_from(["Sahel networks", "Maritime piracy", "Sahel cells"]),
            "synopsis": st.sampled_from(["", "Cells and networks.", "Piracy at sea."]),
            "body": st.sampled_from(["", "Long body on networks.", "Another body, piracy."]),
            "authors": st.lists(st.sampled_from(NAMES), max_size=3),
            "topics": st.lists(st.integers(0, 2), max_size=3),
            "regions": st.lists(st.integers(0, 1), max_size=2),
        },
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=EDITS, which=st.lists(st.integers(0, 1), min_size=6, max_size=6))
def test_edits_of_every_kind_store_what_they_are_given_and_index_as_a_rebuild(
    database_engine, make_piece, edits, which
):
    topics = [Topic.objects.get_or_create(slug=s, defaults={"name": s.title()})[0]
              for s in ("terrorism", "maritime", "cyber")]  # fmt: skip
    regions = [Region.objects.get_or_create(slug=s, defaults={"name": s.title()})[0]
               for s in ("sahel", "asean")]  # fmt: skip
    pieces = [make_piece("First", topics=("terrorism",)), make_piece("Second", regions=("sahel",))]
    for number, change in enumerate(edits):
        change = dict(change)
        if "topics" in change:
            change["topics"] = [topics[i] for i in change["topics"]]
        if "regions" in change:
            change["regions"] = [regions[i] for i in change["regions"]]
        target = pieces[which[number]]
        saved, _ = edit(target, **change)
        if "topics" in change:
            assert set(saved.topics.all()) == set(change["topics"])
        if "regions" in change:
            assert set(saved.regions.all()) == set(change["regions"])
        if "authors" in change:
            wanted = list(dict.fromkeys(parse_name(a).family.lower() for a in change["authors"]))
            assert [a.family.lower() for a in saved.authors] == wanted
    assert check(database_engine).ok
    kept = index_content()
    rebuild()
    assert index_content() == kept
