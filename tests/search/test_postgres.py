"""What only the PostgreSQL dialect has: its tables, weights, GIN index and transactions.

The behavioural suite (test_engines.py) runs on PostgreSQL too; these check the dialect's
own promises. They run in ``make test``'s PostgreSQL pass; locally without a PostgreSQL
DATABASE_URL they skip saying how to run them, and in CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.catalogue.models import Piece
from library.search import service
from library.search.backends.database.postgres.backend import _HEADLINE_OPTIONS, PostgresBackend
from library.search.backends.database.postgres.schema import (
    CONFIG,
    DOC_TABLE,
    MAX_INDEXED_CHARS,
    PAIR_CODE_BASE,
    PAIR_WORD_TABLE,
    TEXT_TABLE,
    insert_params,
)
from library.search.backends.database.postgres.snippets import (
    WINDOW_AFTER,
    WINDOW_BEFORE,
    query_terms,
    window,
)
from library.search.query import parse_query
from library.search.text import clean_for_index
from library.search.vocab import Vocabulary

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _database_engine(settings) -> None:
    settings.SEARCH_BACKEND = "database"


def weights(piece_id: int) -> dict[str, set[str]]:
    """lexeme -> the weights it has in the piece's tsvector (PostgreSQL prints D as none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lexeme, weights FROM {DOC_TABLE}, unnest(vec) WHERE piece_id = %s",
            [piece_id],
        )
        return {lexeme: set(found) for lexeme, found in cursor.fetchall()}


def test_the_database_engine_is_the_postgres_dialect_with_a_gin_index():
    from library.search.backends import get_backend

    assert isinstance(get_backend(), PostgresBackend)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [DOC_TABLE])
        assert any("USING gin (vec)" in row[0] for row in cursor.fetchall())


def test_fields_are_weighted_title_a_people_and_tags_b_synopsis_c_body_d(make_piece):
    piece = make_piece(
        "Kestrel",
        authors=("Ole Wæver",),
        topics=("terrorism",),
        synopsis="Heron.",
        body="Osprey.",
    )
    vector = weights(piece.pk)
    assert vector["kestrel"] == {"A"}
    assert vector["waever"] == {"B"}  # folded by unaccent
    assert vector["terror"] == {"B"}
    assert vector["heron"] == {"C"}
    assert vector["osprey"] == {"D"}


def test_snippets_are_made_for_the_shown_page_only(make_piece):
    for n in range(5):
        make_piece(f"Kestrel report {n}", body="The kestrel hovers. " * 50)
    result = service.search("kestrel", page_size=2)
    assert result.total == 5
    assert len(result.entries) == 2
    assert all("\x02" in hit.snippet for _, hit in result.entries)


def test_stop_words_are_searchable_like_on_sqlite(make_piece):
    make_piece("The Who and the Why")
    assert service.search('"the who"').total == 1


def test_stroke_and_accented_letters_fold_both_ways(make_piece):
    make_piece("Łódź and Đà Nẵng", synopsis="Ørsted in Łódź.")
    assert service.search("lodz").total == 1
    assert service.search("Ørsted").total == 1
    (_piece, hit), *_ = service.search("orsted").entries
    assert "Ørsted" in hit.snippet.replace("\x02", "").replace("\x03", "")


def test_a_huge_body_is_indexed_up_to_its_limit_and_sent_cut_to_it(make_piece):
    from library.search.documents import documents_for

    body = " ".join(f"word{n}" for n in range(120_000))  # ~830,000 characters
    piece = make_piece("Huge", body=body)
    assert service.search("word5").total == 1
    assert weights(piece.pk)
    last_indexed = body[:MAX_INDEXED_CHARS].split()[-2]  # [-1] may be cut in two
    first_beyond = body[MAX_INDEXED_CHARS:].split()[1]
    assert service.search(last_indexed).total == 1
    assert service.search(first_beyond).total == 0
    # The statement's parameters hold the body only as far as it is indexed.
    params = insert_params(documents_for([piece.pk]), {})
    texts = [value for column in params for value in column if isinstance(value, str)]
    assert max(map(len, texts)) == MAX_INDEXED_CHARS


def _topic_counts(result) -> dict[str, int]:
    return {v.key: v.count for v in result.facets["topic"]}


@pytest.fixture
def committed_index():
    """An empty index for a test that commits (a flush leaves the index tables alone)."""
    from library.search import state
    from library.search.backends import get_backend

    get_backend().clear()
    state.reset()  # this process's facet arrays too
    yield
    get_backend().clear()


@pytest.mark.django_db(transaction=True)
def test_facets_from_the_process_arrays_follow_every_commit(
    make_piece, vocabulary, committed_index
):
    first = make_piece("Kestrel one", topics=("harrier",))
    result = service.search("kestrel")  # no write in this transaction: the shared arrays
    assert (result.total, _topic_counts(result)) == (1, {"harrier": 1})
    second = make_piece("Kestrel two", topics=("harrier",))
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (2, {"harrier": 2})
    first.delete()
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (1, {"harrier": 1})
    assert {v.key for v in result.facets["type"]} == {second.type}


@pytest.mark.django_db(transaction=True)
def test_a_write_committed_after_a_later_one_still_reaches_the_facets(
    make_piece, vocabulary, committed_index
):
    """Snapshot visibility, not the order of transaction ids, decides what is new."""
    import threading

    from django.db import connections, transaction

    from library.catalogue.models import Topic

    written, release, errors = threading.Event(), threading.Event(), []

    def late_writer() -> None:
        try:
            with transaction.atomic():
                # Not save_piece: its save lock would make the other save wait for this one.
                piece = Piece.objects.create(title="Osprey", citation_key="late", body="kestrel")
                piece.topics.add(Topic.objects.create(slug="harrier", name="Harrier"))
                written.set()
                release.wait(timeout=30)
        except BaseException as exc:
            errors.append(exc)
            written.set()
        finally:
            connections.close_all()

    service.search("kestrel")  # load the arrays before either write
    thread = threading.Thread(target=late_writer)
    thread.start()
    assert written.wait(timeout=30)
    make_piece("Falcon", topics=("merlin",), body="kestrel")
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (1, {"merlin": 1})
    release.set()
    thread.join(timeout=30)
    assert errors == []
    result = service.search("kestrel")
    assert (result.total, _topic_counts(result)) == (2, {"harrier": 1, "merlin": 1})


# --- adjacent pairs of common words (phrase search) -----------------------------------------

COMMON = ("state", "security", "policy", "the", "sea", "border")
RARER = ("kestrel", "harrier")  # in fewer pieces: their pairs are not indexed


@pytest.fixture
def pair_words(monkeypatch):
    """Pair words even for a tiny catalogue: the words in 40 % of it.

    Only the choice of words reads the patched value; the pair rule in the SQL keeps 0.05,
    which any two such shares pass, so every pair of pair words is indexed.
    """
    from library.search.backends.database.postgres import schema

    monkeypatch.setattr(schema, "PAIR_MIN_PIECES", 1)
    monkeypatch.setattr(schema, "PAIR_SHARE_PRODUCT", 0.4)


def _chosen_pair_words() -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word, share FROM {PAIR_WORD_TABLE}")
        return dict(cursor.fetchall())


def _chosen_codes() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word, code FROM {PAIR_WORD_TABLE} ORDER BY code")
        return cursor.fetchall()


def _pairs(title: str) -> set[str]:
    """The piece's indexed pairs, each number spelt back as "first second"."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.word || ' ' || b.word FROM {DOC_TABLE} d, unnest(d.pairs) c, "
            f"{PAIR_WORD_TABLE} a, {PAIR_WORD_TABLE} b "
            "WHERE d.piece_id = (SELECT id FROM catalogue_piece WHERE title = %s) "
            "AND c = a.code * %s + b.code",
            [title, PAIR_CODE_BASE],
        )
        return {pair for (pair,) in cursor.fetchall()}


def _compiled(text: str):
    from library.search.backends.database.postgres.compiler import compile_query

    return compile_query(parse_query(text).root, Vocabulary.load(), PostgresBackend._phrase_pairs)


def test_a_rebuild_chooses_the_common_words_and_indexes_their_adjacent_pairs(
    make_piece, pair_words
):
    from library.search.maintenance import rebuild

    make_piece("Kestrel", synopsis="", body="The state security policy. State, sea.")
    make_piece("Harrier", synopsis="", body="Security of the state; the sea border.")
    make_piece("Osprey", synopsis="", body="Policy for the border, the sea.")
    rebuild()
    chosen = _chosen_pair_words()
    assert {"state", "secur", "polici", "sea", "border", "abdul", "basit"} <= set(chosen)
    assert chosen["sea"] == 1.0
    assert round(chosen["state"], 2) == 0.67
    assert "kestrel" not in chosen  # in one piece of three
    pairs = _pairs("Kestrel")
    # Punctuation does not break a pair (it does not break a phrase either).
    assert {"the state", "state secur", "secur polici", "polici state", "state sea"} <= pairs
    assert "sea state" not in pairs  # pairs are ordered
    assert not any("kestrel" in pair for pair in pairs)


def test_phrases_find_the_same_pieces_with_and_without_pairs(make_piece, pair_words):
    """The pairs only spare PostgreSQL rechecking word order: the answers never change."""
    import random

    from library.search.maintenance import rebuild

    rng = random.Random(8)
    words, weights = COMMON + RARER, [6] * len(COMMON) + [0.25] * len(RARER)

    def body() -> str:
        sentences = (" ".join(rng.choices(words, weights, k=rng.randint(2, 6))) for _ in range(4))
        return ". ".join(sentences).capitalize()

    pieces = [make_piece(f"Piece {n}", synopsis=body(), body=body()) for n in range(40)]
    make_piece("Đà Nẵng state security-policy reform", synopsis="", body="")
    make_piece(r"The state\'s sea", synopsis="", body="")
    rebuild()
    assert set(COMMON) - {"security", "policy"} <= set(_chosen_pair_words())  # (stemmed)
    assert not set(RARER) & set(_chosen_pair_words())
    # After the rebuild: new pieces and edits are indexed with the same pair words.
    for n in range(10):
        make_piece(f"Later {n}", synopsis="", body=body())
    for piece in pieces[:10]:
        piece.body = body()
        piece.save()

    phrases = [f"{a} {b}" for a in words for b in words]
    phrases += [f"{a} {b} {c}" for a in COMMON[:3] for b in words for c in words[3:]]
    phrases += ["state security-policy", "Đà Nẵng state", "security policy reform", "state's sea"]
    phrases += ["policy security state the sea", "the the"]

    def found() -> dict[str, list[int]]:
        answers = {}
        for phrase in phrases:
            result = service.search(f'"{phrase}"', page_size=100)
            answers[phrase] = sorted(piece.pk for piece, _ in result.entries)
            assert result.total == len(answers[phrase])
        return answers

    with_pairs = found()
    exact, narrowed = _compiled('"state security"'), _compiled('"security policy kestrel"')
    assert exact.match is None
    assert not exact.rechecks
    assert "d.pairs &&" in exact.where
    codes = dict(_chosen_codes())
    assert exact.params == [[codes["state"] * PAIR_CODE_BASE + codes["secur"]]]
    assert narrowed.match is not None
    assert "d.pairs @>" in narrowed.where

    with connection.cursor() as cursor:  # the same index without pair words, or pairs
        cursor.execute(f"TRUNCATE {PAIR_WORD_TABLE}")
        cursor.execute(f"UPDATE {DOC_TABLE} SET pairs = '{{}}'")
    assert "d.pairs" not in _compiled('"state security"').where
    assert found() == with_pairs
    assert sum(map(bool, with_pairs.values())) > 60  # most phrases match something


def test_a_small_catalogue_chooses_no_pair_words(make_piece):
    from library.search.maintenance import rebuild

    for n in range(3):
        make_piece(f"State security {n}", body="state security")
    rebuild()
    assert _chosen_pair_words() == {}
    assert service.search('"state security"').total == 3


def test_a_rebuild_drops_the_text_indexes_and_builds_them_again(make_piece):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from library.search.backends import get_backend
    from library.search.maintenance import rebuild

    make_piece("Kestrel", body="The state security policy.")
    backend = get_backend()
    backend.start_rebuild()
    assert len(backend.problems()) == 4  # all four dropped while the rows are written
    assert rebuild() == 1
    assert backend.problems() == []
    assert service.search('"security policy"').total == 1

    with connection.cursor() as cursor:  # as if a rebuild had been interrupted
        cursor.execute(f"DROP INDEX {DOC_TABLE}_pairs")
    out = StringIO()
    with pytest.raises(CommandError, match=r"incomplete; run python manage\.py rebuild_index"):
        call_command("check_index", stdout=out)
    assert f"the text index {DOC_TABLE}_pairs on {DOC_TABLE} is missing" in out.getvalue()


def test_the_lower_ranking_tiers_rank_the_newest_matches_and_lose_none(make_piece, monkeypatch):
    import datetime

    from library.search.backends.database.postgres import ranking

    monkeypatch.setattr(ranking, "TIER2_CANDIDATES", 2)
    for n in range(6):  # the older the piece, the more often it says "kestrel"
        make_piece(f"Report {n}", synopsis="kestrel " * (6 - n), date=datetime.date(2000 + n, 1, 1))
    result = service.search("kestrel", page_size=10)
    assert result.total == 6
    # Ranked: the two newest (more kestrels first); then the rest, ranked by the whole
    # vector (tier 3: more kestrels first).
    titles = [piece.title for piece, _ in result.entries]
    assert titles == ["Report 4", "Report 5", "Report 0", "Report 1", "Report 2", "Report 3"]
    # Tier 3 ranks only its newest TIER3_CANDIDATES; the others follow, newest first.
    monkeypatch.setattr(ranking, "TIER3_CANDIDATES", 1)
    result = service.search("kestrel", page_size=10)
    titles = [piece.title for piece, _ in result.entries]
    assert titles == ["Report 4", "Report 5", "Report 3", "Report 2", "Report 1", "Report 0"]
    page_two = service.search("kestrel", page_size=4, page=2)
    assert [piece.title for piece, _ in page_two.entries] == ["Report 1", "Report 0"]


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_outside_a_transaction_writes_on_several_connections(make_piece, pair_words):
    """rebuild_index's own case: chunks on their own connections, nothing lost or doubled."""
    from library.search.backends import get_backend
    from library.search.maintenance import check, rebuild

    backend = get_backend()
    assert backend.rebuild_workers >= 1
    backend.rebuild_workers = 3  # more workers than chunks of one, in any order
    try:
        for n in range(7):
            make_piece(f"Piece {n}", body=f"The state security policy {n}.")
        assert rebuild(chunk=2) == 7
    finally:
        del backend.rebuild_workers
    status = check(backend)
    assert (status.missing, status.extra, status.stale) == ([], [], [])
    assert backend.problems() == []
    assert service.search('"security policy"').total == 7
    assert "d.pairs &&" in _compiled('"security policy"').where


def test_the_pair_codes_migration_keeps_phrases_exact_until_a_rebuild(make_piece, pair_words):
    """0007 empties the pair words, so no phrase relies on a pair no row holds yet."""
    from importlib import import_module

    from library.search.maintenance import rebuild

    make_piece("Kestrel", synopsis="", body="The state security policy.")
    make_piece("Harrier", synopsis="", body="Policy security of the state.")
    rebuild()
    assert _pairs("Kestrel")
    migration = import_module("library.search.migrations.0007_postgresql_pair_codes")
    with connection.cursor() as cursor:
        # As on an install at 0005: its columns, its pair words, its rows.
        cursor.execute(f"ALTER TABLE {PAIR_WORD_TABLE} DROP COLUMN code")
        cursor.execute(f"ALTER TABLE {DOC_TABLE} DROP COLUMN pairs")
        cursor.execute(f"ALTER TABLE {DOC_TABLE} ADD COLUMN pairs tsvector NOT NULL DEFAULT ''")
        cursor.execute("ALTER TABLE search_pg_text ADD COLUMN body text NOT NULL DEFAULT ''")
        assert _chosen_pair_words()
        for sql in migration.FORWARD_SQL:
            cursor.execute(sql)
    assert _chosen_pair_words() == {}
    assert "d.pairs" not in _compiled('"security policy"').where
    assert sorted(p.title for p, _ in service.search('"security policy"').entries) == ["Kestrel"]
    assert sorted(p.title for p, _ in service.search('"policy security"').entries) == ["Harrier"]


def test_word_counts_follow_edits_and_deletes_exactly(make_piece):
    """One upsert of the net change per save: counts equal a recount from the text rows."""
    from library.search.backends.database.postgres.schema import WORD_TABLE
    from library.search.backends.shared import short_words

    def counted() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT word, docs FROM {WORD_TABLE}")
            return dict(cursor.fetchall())

    def recounted() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT title, authors, tags, synopsis FROM {TEXT_TABLE}")
            counts: dict[str, int] = {}
            for row in cursor.fetchall():
                for word in short_words(*row):
                    counts[word] = counts.get(word, 0) + 1
            return counts

    kestrel = make_piece("Kestrel report", synopsis="merlin harrier")
    osprey = make_piece("Osprey report", synopsis="merlin")
    assert counted() == recounted()
    assert counted()["merlin"] == 2
    kestrel.title, kestrel.synopsis = "Hobby report", "harrier"
    kestrel.save()
    assert counted() == recounted()
    assert "kestrel" not in counted()
    assert (counted()["merlin"], counted()["hobby"]) == (1, 1)
    osprey.delete()
    assert counted() == recounted()
    assert "merlin" not in counted()


# A row for each doc row a write inserts, with the time PostgreSQL inserted it.
_WRITE_LOG = f"""
CREATE TABLE test_write_log (tbl text, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION test_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO test_write_log (tbl) VALUES (TG_TABLE_NAME); RETURN NEW; END $$;
CREATE TRIGGER test_log_doc BEFORE INSERT ON {DOC_TABLE}
FOR EACH ROW EXECUTE FUNCTION test_log_write();
"""


@pytest.mark.django_db(transaction=True)
def test_a_write_computes_its_rows_before_it_waits_for_the_shared_word_counts(make_piece):
    """Two writes of pieces sharing a word: the second writes its doc rows (the vectors and
    pairs, nearly all of a write's time) while the first still holds that word's count.

    The count's row is locked until the first write's transaction ends. The second used to
    lock the counts first and so waited before computing anything: rebuild_index's
    connections took turns (332 pieces/s on two, one connection's rate).
    """
    import queue
    import threading
    import time

    from django.db import connections, transaction

    from library.search.backends import get_backend
    from library.search.documents import documents_for

    first, second = make_piece("Kestrel one"), make_piece("Kestrel two")  # committed
    backend = get_backend()
    holding, release, reports = threading.Event(), threading.Event(), queue.Queue()

    def write(piece_id: int, *, hold: bool) -> None:
        """Index the piece again in a transaction rolled back at the end, reporting to
        ``reports`` this connection's pid, then when its first doc row was written."""
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                reports.put(cursor.fetchone()[0])
                # Out of the index without lowering the counts: re-adding raises every one
                # of the piece's words, "kestrel" among them.
                for table in (DOC_TABLE, TEXT_TABLE):
                    cursor.execute(f"DELETE FROM {table} WHERE piece_id = %s", [piece_id])
                backend.add_bulk(documents_for([piece_id]))
                if hold:
                    holding.set()
                    release.wait(30)
                cursor.execute("SELECT min(at) FROM test_write_log WHERE tbl = %s", [DOC_TABLE])
                reports.put(cursor.fetchone()[0])
                transaction.set_rollback(True)
        finally:
            connections.close_all()

    with connection.cursor() as cursor:
        cursor.execute(_WRITE_LOG)
    try:
        holder = threading.Thread(target=write, args=(first.pk,), kwargs={"hold": True})
        holder.start()
        assert holding.wait(30)
        reports.get(timeout=5)  # the holder's pid
        waiter = threading.Thread(target=write, args=(second.pk,), kwargs={"hold": False})
        waiter.start()
        waiter_pid = reports.get(timeout=30)
        with connection.cursor() as cursor:
            for _ in range(300):  # until the second write waits for the first's lock
                cursor.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [waiter_pid]
                )
                if cursor.fetchone()[0] == "Lock":
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the second write never waited for the first one's word counts")
            cursor.execute("SELECT clock_timestamp()")
            released_at = cursor.fetchone()[0]
            release.set()  # the holder reports its time, rolls back; the waiter goes on
            reports.get(timeout=30)
            waiter.join(30)
            assert reports.get(timeout=5) < released_at  # the waiter's first doc row
            holder.join(30)
    finally:
        release.set()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_log_doc ON {DOC_TABLE}")
            cursor.execute("DROP FUNCTION test_log_write()")
            cursor.execute("DROP TABLE test_write_log")


def _write_number() -> int:
    """The last number the index's write sequence gave out (0 before any)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM search_pg_write_number")
        value, called = cursor.fetchone()
        return value if called else value - 1


def test_the_write_sequence_migration_continues_the_change_logs_numbers(make_piece):
    """0010 replaces search_pg_change (a row a save, never pruned but by a rebuild) with a
    sequence that starts after the log's last number, so upkeep keeps its rhythm."""
    from importlib import import_module

    migration = import_module("library.search.migrations.0010_postgresql_write_sequence")
    with connection.cursor() as cursor:
        # As on an install at 0009: the log with three writes numbered up to 41.
        for sql in migration.BACKWARD_SQL:
            cursor.execute(sql)
        cursor.execute(
            "INSERT INTO search_pg_change (piece_id, n) OVERRIDING SYSTEM VALUE "
            "VALUES (1, 39), (2, 40), (0, 41)"
        )
        for sql in migration.FORWARD_SQL:
            cursor.execute(sql)
        cursor.execute("SELECT to_regclass('search_pg_change')")
        assert cursor.fetchone()[0] is None
    assert _write_number() == 41
    make_piece("Numbered after the log")
    assert _write_number() >= 42


def test_index_writes_move_the_write_number_and_add_no_rows(make_piece):
    from library.search.backends import get_backend
    from library.search.documents import build_document

    before = _write_number()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = 'search_pg_change'")
        assert cursor.fetchone()[0] == 0
    piece = make_piece("Kestrel numbered")
    created = _write_number()
    assert created > before
    Piece.objects.filter(pk=piece.pk).update(title="Kestrel renumbered")
    get_backend().add(build_document(Piece.objects.get(pk=piece.pk)))
    assert _write_number() == created + 1  # the edit
    get_backend().add(build_document(Piece.objects.get(pk=piece.pk)))
    assert _write_number() == created + 1  # unchanged: no write
    piece.delete()
    assert _write_number() == created + 2  # the delete (its byline rows write nothing)


def test_check_index_names_a_missing_write_sequence():
    from library.search.backends import get_backend

    with connection.cursor() as cursor:
        cursor.execute("DROP SEQUENCE search_pg_write_number")
    assert get_backend().problems() == ["the index sequence search_pg_write_number does not exist"]


# --- body snippets from a window (snippets.py) ------------------------------------------

FILLER = "The committee met again and the minister spoke at length about budgets. " * 60


def _whole_body_headline(body: str, query: str) -> str:
    """The headline the backend made before the window: over the whole body."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ts_headline('{CONFIG}', %s, to_tsquery('{CONFIG}', %s), %s)",
            [body, query, _HEADLINE_OPTIONS],
        )
        return cursor.fetchone()[0]


def _snippet(query: str) -> str:
    (_piece, hit), *_ = service.search(query).entries
    return hit.snippet


def test_a_body_snippet_from_the_window_is_the_whole_bodys(make_piece):
    body = FILLER + "Ospreys dive for fish near the estuary. " + FILLER
    make_piece("Seabirds", synopsis="Birds of the coast.", body=body)
    assert window(body, query_terms("'osprey'")) != body  # cut
    assert _snippet("osprey") == _whole_body_headline(body, "'osprey'")
    assert "\x02Ospreys\x03" in _snippet("osprey")


def test_a_window_the_guess_places_wrongly_is_headlined_again_whole(make_piece):
    """Lower-casing "İ" gives two characters, so after 500 of them the guess's offsets point
    past the match: its window shows none, and the whole body is headlined."""
    body = "İstanbul İzmir " * 250 + "An osprey dives. " + FILLER
    make_piece("Seabirds", synopsis="Birds of the coast.", body=body)
    assert "dives" not in window(body, query_terms("'osprey'"))
    snippet = _snippet("osprey")
    assert "\x02osprey\x03 dives" in snippet
    assert snippet == _whole_body_headline(body, "'osprey'")


def test_a_body_match_the_guess_misses_is_found_through_the_index(make_piece):
    """unaccent folds "Sécurité"; the guess compares lower-cased letters only."""
    body = FILLER + "The Sécurité council met. " + FILLER
    make_piece("Councils", synopsis="Bodies that meet.", body=body)
    assert window(body, query_terms("'securite'")) is None
    assert "\x02Sécurité\x03" in _snippet("securite")


def test_no_whole_body_is_headlined_for_a_piece_matched_by_its_author_only(make_piece):
    make_piece("Seabirds", authors=("Kestrelson, Ada",), synopsis="Birds.", body=FILLER)
    with CaptureQueriesContext(connection) as captured:
        result = service.search("author:kestrelson")
    assert result.total == 1
    headlined = [q["sql"] for q in captured if "ts_headline" in q["sql"]]
    assert headlined  # the synopsis and the title were tried
    assert not any("budgets" in sql for sql in headlined)  # the body never was


def test_snippets_lose_no_match_against_whole_body_headlines(make_piece):
    """Every piece that had a snippet from the whole body still has one, marking a word."""
    words = ["osprey", "kestrel", "heron", "policies", "state", "hoping"]
    for n in range(12):
        parts = [FILLER[: 600 * (n % 5)]]
        for k, word in enumerate(words):
            if (n + k) % 3 == 0:
                parts.append(f"{word} " + FILLER[: 400 * k])
        make_piece(f"Report {n}", synopsis="Nothing here.", body=" ".join(parts) + FILLER)
    for query in [*words, '"state policies"', "osprey kestrel", "polic*", "hope"]:
        result = service.search(query, page_size=50)
        for piece, hit in result.entries:
            highlight = _compiled(query).highlight
            before = _whole_body_headline(clean_for_index(piece.body), highlight)
            assert ("\x02" in hit.snippet) == ("\x02" in before), (query, piece.title)


def test_snippets_of_a_real_commentary_mark_what_whole_body_headlines_mark(make_piece):
    """The RSIS commentary in tests/fixtures (not ours): curly apostrophes ("Egypt’s"), an
    accent unaccent folds ("naïve"), hyphenated and line-broken words, inflections. Every
    query below matches only the body, most of it past the first window."""
    from pathlib import Path

    from library.ingest.text import parse_commentary

    seed = Path(__file__).resolve().parents[1] / "fixtures" / "mosul-operation.txt"
    parsed = parse_commentary(seed.read_text())
    assert len(parsed.body) > 2 * (WINDOW_BEFORE + WINDOW_AFTER)
    make_piece(parsed.title, synopsis=parsed.synopsis, body=parsed.body)
    queries = {
        "phoenix": {"phoenix"},  # the body's last word
        "naive": {"naïve"},  # found through the index, not by the guess
        "egypt": {"egypt"},
        "mindanao": {"mindanao"},
        "nangarhar": {"nangarhar"},
        "misgovern*": {"misgovernance"},
        '"wounded and cornered"': {"wounded", "and", "cornered"},
        "reinventing": {"reinventing"},
    }
    for query, marked in queries.items():
        (_piece, hit), *_ = service.search(query).entries
        whole = _whole_body_headline(clean_for_index(parsed.body), _compiled(query).highlight)
        assert marked <= _marked(hit.snippet), query
        assert _marked(hit.snippet) == _marked(whole), query


def _marked(snippet: str) -> set[str]:
    return {part.split("\x03", 1)[0].lower() for part in snippet.split("\x02")[1:]}
