"""PostgreSQL dialect of the database engine: a weighted ``tsvector`` with a GIN index.

Tables (created by this app's migrations 0002, 0004 and 0005, on PostgreSQL only):

* ``search_pg_doc``: the narrow row every match reads: piece id, the digest for
  check_index, date and type (for sorting,
  filters and the type facet), ``title`` (the title's own ``tsvector``, GIN-indexed: the
  first ranking tier) and ``vec``, the ``tsvector`` weighted title ``A``, authors/topics/
  regions ``B``, synopsis ``C``, body ``D``, built with the ``dossier_english``
  configuration (Snowball English stemming, no stop words, after ``unaccent``), GIN-indexed
  and stored uncompressed (a phrase's recheck reads it; decompressing doubled that).
* ``search_pg_text``: each piece's indexed text (for ``ts_headline`` and related pieces)
  and ``head``, the weighted vector of the short fields that
  ranking reads.
* ``search_pg_word``: the catalogue's own folded words (short fields) with document counts,
  the candidates for "did you mean".
* ``search_pg_change``: (transaction id, piece id) of every index write, so each process's
  facet arrays (pg_facets.py) stay exact.
* ``search_pg_pair_word``: the catalogue's common words with their shares of the pieces,
  chosen when the index is cleared for a rebuild. Each doc row's ``pairs`` (GIN-indexed) is
  a ``tsvector`` of the adjacent pairs of them in ``vec``, at their positions, so a phrase
  of common words ("security policy") is found without rechecking the word order in half
  the catalogue's vectors (see ``_pairs_of`` and pg_compiler.py).
"""

from __future__ import annotations

import datetime
import math
import random
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from django.db import DatabaseError, connection, transaction

from library.catalogue.models import Authorship, Piece, Role
from library.search.backends import pg_facets
from library.search.backends.base import IndexUnavailable
from library.search.backends.database import DatabaseBackend
from library.search.backends.pg_compiler import (
    CONFIG,
    DOC_TABLE,
    TEXT_TABLE,
    TSQUERY,
    compile_query,
    quote,
)
from library.search.backends.shared import build_facets, closest, related_words, restore_snippets
from library.search.documents import PieceDocument, documents_for
from library.search.query import ParsedQuery
from library.search.results import Hit, SearchResults, Sort
from library.search.text import MARK_START, clean_for_index, fold
from library.search.vocab import Vocabulary

WORD_TABLE = "search_pg_word"
CHANGE_TABLE = pg_facets.CHANGE_TABLE
PAIR_WORD_TABLE = "search_pg_pair_word"
TABLES = (DOC_TABLE, TEXT_TABLE, WORD_TABLE, CHANGE_TABLE, PAIR_WORD_TABLE)
PIECE_TABLE = Piece._meta.db_table
TOPIC_TABLE = Piece.topics.through._meta.db_table
REGION_TABLE = Piece.regions.through._meta.db_table
AUTHORSHIP_TABLE = Authorship._meta.db_table
# A tsvector holds at most 1 MB; a body longer than this is indexed up to here.
MAX_INDEXED_CHARS = 400_000
# Pair words: below PAIR_MIN_PIECES pieces a phrase's recheck is cheap and none are chosen;
# above it, the words in at least PAIR_SHARE_PRODUCT of a sample of PAIR_SAMPLE pieces, with
# that share. A pair is indexed when its words' shares multiply to PAIR_SHARE_PRODUCT, so
# a phrase whose pair is not indexed has few candidates to recheck (~5 % of the pieces).
PAIR_MIN_PIECES = 5_000
PAIR_SAMPLE = 1_000
PAIR_SHARE_PRODUCT = 0.05
# The memory each text index's build may use after a rebuild.
BUILD_MEMORY = "512MB"
# Relevance tier 2 (people, tags, synopsis) ranks at most this many of the newest matches.
TIER2_CANDIDATES = 1_000
# Related pieces: how many of a piece's rarest shared words are looked up.
RELATED_WORDS = 12
# A search's working memory: the match of a word in every piece (100,000 rows) spilled to
# disk at the default 4 MB.
WORK_MEM = "32MB"

CONFIG_SQL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # English stemming without a stop-word list, like the SQLite dialect: "once only" and
    # "The Who" are searchable, and every engine answers the same queries.
    f"CREATE TEXT SEARCH DICTIONARY {CONFIG}_stem (TEMPLATE = snowball, Language = english)",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
    f"ALTER MAPPING FOR asciiword, asciihword, hword_asciipart WITH {CONFIG}_stem",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
    f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {CONFIG}_stem",
]
# The text indexes: dropped while rebuild_index writes every row, created again after.
GIN_INDEXES = (
    (f"{DOC_TABLE}_vec", DOC_TABLE, "vec"),
    (f"{DOC_TABLE}_title", DOC_TABLE, "title"),
    (f"{DOC_TABLE}_pairs", DOC_TABLE, "pairs"),
    (f"{TEXT_TABLE}_head", TEXT_TABLE, "head"),
)
GIN_INDEX_NAMES = [name for name, _table, _column in GIN_INDEXES]
TABLE_SQL = [
    f"CREATE TABLE {DOC_TABLE} (piece_id bigint PRIMARY KEY, digest text NOT NULL, date date, "
    "type text NOT NULL, title tsvector NOT NULL, vec tsvector NOT NULL, "
    "pairs tsvector NOT NULL DEFAULT '')",
    f"ALTER TABLE {DOC_TABLE} ALTER COLUMN vec SET STORAGE EXTERNAL",
    f"ALTER TABLE {DOC_TABLE} ALTER COLUMN pairs SET STORAGE EXTERNAL",
    f"CREATE TABLE {PAIR_WORD_TABLE} (word text PRIMARY KEY, share real NOT NULL)",
    f"CREATE TABLE {TEXT_TABLE} (piece_id bigint PRIMARY KEY, title text NOT NULL, "
    "authors text NOT NULL, tags text NOT NULL, synopsis text NOT NULL, body text NOT NULL, "
    "folded boolean NOT NULL, head tsvector NOT NULL)",
    f"CREATE TABLE {WORD_TABLE} (word text PRIMARY KEY, docs integer NOT NULL)",
    f"CREATE TABLE {CHANGE_TABLE} (xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
    "piece_id bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())",
    f"CREATE INDEX {CHANGE_TABLE}_xid ON {CHANGE_TABLE} (xid)",
    *(
        f"CREATE INDEX {name} ON {table} USING gin ({column})"
        for name, table, column in GIN_INDEXES
    ),
]
CREATE_SQL = CONFIG_SQL + TABLE_SQL
DROP_TABLES_SQL = [f"DROP TABLE IF EXISTS {table}" for table in reversed(TABLES)]
DROP_SQL = [
    *DROP_TABLES_SQL,
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}",
    f"DROP TEXT SEARCH DICTIONARY IF EXISTS {CONFIG}_stem",
]


# A pair as a tsvector input lexeme at its position: quoted, backslashes and quotes escaped.
_TSVECTOR_LEXEME = (
    r"'''' || replace(replace(a.w || ' ' || b.w, '\', '\\'), '''', '''''') || ''':' || a.p"
)


def _indexed_pair(first: str, second: str) -> str:
    """SQL: whether the pair of words with these pair-word rows is indexed (one definition
    for the rows' pairs and the phrase compiler, which must agree exactly)."""
    return f"{first}.share * {second}.share >= {PAIR_SHARE_PRODUCT}"


def _pairs_of(vector: str) -> str:
    """A scalar subquery: the ``tsvector`` of the indexed pairs in ``vector``.

    Its lexemes are "first second" stems, at the first word's positions, so a phrase of
    pair words is a phrase of pairs: "a b c" is ``'a b' <-> 'b c'``. A pair is indexed when
    the product of its words' shares reaches PAIR_SHARE_PRODUCT (both words common). The
    ``tsvector`` input merges a pair's repeated entries (faster than grouping them here).
    """
    positions = (
        f"SELECT u.lexeme AS w, p, s.share FROM unnest({vector}) u "
        f"JOIN {PAIR_WORD_TABLE} s ON s.word = u.lexeme CROSS JOIN LATERAL unnest(u.positions) p"
    )
    return (
        f"(WITH positions AS ({positions}) "
        f"SELECT coalesce(string_agg({_TSVECTOR_LEXEME}, ' '), '')::tsvector "
        "FROM positions a JOIN positions b ON b.p = a.p + 1 "
        f"WHERE {_indexed_pair('a', 'b')})"
    )


# One statement per piece: the short fields' vectors once, for both rows; the pairs from the
# finished vector, so they hold exactly the positions a phrase's recheck reads.
_INSERT = (
    f"WITH v AS (SELECT setweight(to_tsvector('{CONFIG}', %s), 'A') AS a, "
    f"setweight(to_tsvector('{CONFIG}', %s), 'B') || setweight(to_tsvector('{CONFIG}', %s), 'C') "
    f"AS bc), t AS (INSERT INTO {TEXT_TABLE} (piece_id, title, authors, tags, synopsis, body, "
    "folded, head) SELECT %s, %s, %s, %s, %s, %s, %s, v.a || v.bc FROM v), "
    f"f AS (SELECT v.a, v.a || v.bc || setweight(to_tsvector('{CONFIG}', "
    f"left(%s, {MAX_INDEXED_CHARS})), 'D') AS vec FROM v) "
    f"INSERT INTO {DOC_TABLE} (piece_id, digest, date, type, title, vec, pairs) "
    f"SELECT %s, %s, %s, %s, f.a, f.vec, {_pairs_of('f.vec')} FROM f"
)
# A phrase's adjacent pairs in order, from the same parser, and whether each is indexed.
_PHRASE_PAIRS = (
    f"WITH q AS (SELECT u.lexeme AS w, p FROM unnest(to_tsvector('{CONFIG}', %s)) u, "
    "unnest(u.positions) p) "
    f"SELECT a.w || ' ' || b.w, coalesce({_indexed_pair('sa', 'sb')}, FALSE) "
    "FROM q a JOIN q b ON b.p = a.p + 1 "
    f"LEFT JOIN {PAIR_WORD_TABLE} sa ON sa.word = a.w "
    f"LEFT JOIN {PAIR_WORD_TABLE} sb ON sb.word = b.w ORDER BY a.p"
)
# ts_headline drops anything that looks like an HTML tag; hide "<" from it, put it back after.
_LT = "\ue000"
_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel=\x03, MaxWords=30, MinWords=12, ShortWord=2, "
    'MaxFragments=2, FragmentDelimiter="…"'
)
_WORD = re.compile(r"[^\W_]+")


def _short_words(title: str, authors: str, tags: str, synopsis: str) -> set[str]:
    return set(_WORD.findall(fold("\n".join((title, authors, tags, synopsis)))))


def _date(d: PieceDocument) -> datetime.date | None:
    return datetime.date.fromordinal(d.date_ordinal) if d.date_ordinal else None


def _row(d: PieceDocument) -> tuple:
    """INSERT parameters: the A, B and C texts, the stored fields, then the doc row."""
    vectors = (d.title, f"{d.authors}\n{d.tags}", d.synopsis)
    stored = (d.piece_id, *d.fields(), d.folded)
    return (*vectors, *stored, d.body, d.piece_id, d.digest, _date(d), d.type)


class PostgresBackend(DatabaseBackend):
    name = "database"
    transactional = True

    # --- writing -------------------------------------------------------------------------

    def add(self, document: PieceDocument) -> None:
        """Index one piece on the current connection (so inside the caller's transaction)."""
        with _cursor() as cursor:
            cursor.execute(
                f"SELECT digest, date FROM {DOC_TABLE} WHERE piece_id = %s FOR UPDATE",
                [document.piece_id],
            )
            old = cursor.fetchone()
            # The digest has the year only; the row also keeps the exact date for sorting.
            if old is not None and old == (document.digest, _date(document)):
                return  # unchanged: several signals fire for one save
            self._remove(cursor, [document.piece_id])
            self._insert(cursor, [document])
            self._log(cursor, [document.piece_id])

    def add_bulk(self, documents: Iterable[PieceDocument]) -> int:
        """Insert documents that are not in the index yet (rebuild's fast path)."""
        batch = list(documents)
        with _cursor() as cursor:
            self._remove(cursor, [d.piece_id for d in batch])  # any half-present row
            self._insert(cursor, batch)
            if batch:
                self._log(cursor, [0])  # 0: every process reloads its facet arrays
        return len(batch)

    def delete(self, piece_id: int) -> None:
        with _cursor() as cursor:
            if self._remove(cursor, [piece_id]):
                self._log(cursor, [piece_id])

    def optimize(self) -> None:
        """Fresh planner statistics and visibility map after a rebuild; an old change log gone.

        Without them the first searches over freshly written rows ran about twice as slow
        (every matched row's visibility checked). VACUUM cannot run inside a transaction,
        so there only ANALYZE runs; autovacuum does the rest later. Change-log rows older
        than an hour are never read again: facet arrays reload every 15 minutes.
        """
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with _cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {CHANGE_TABLE} WHERE at < clock_timestamp() - interval '1 hour'"
            )
            cursor.execute(f"{command} {', '.join(TABLES)}")

    def clear(self) -> None:
        """Empty the index and choose the pair words for the catalogue as it is now.

        In one transaction with the TRUNCATE, so no row indexed with the old pair words
        survives: a phrase may then rely on every row's pairs (pg_compiler.py).
        """
        with transaction.atomic(), _cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)}")
            words, shares = self._choose_pair_words(cursor)
            cursor.execute(
                f"INSERT INTO {PAIR_WORD_TABLE} (word, share) "
                "SELECT * FROM unnest(%s::text[], %s::real[])",
                [words, shares],
            )
            self._log(cursor, [0])

    def start_rebuild(self) -> None:
        """Clear, and drop the text indexes: building each once after the rows are written
        is several times faster than keeping them up to date row by row."""
        with transaction.atomic(), _cursor() as cursor:
            self.clear()
            for name, _table, _column in GIN_INDEXES:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")

    def finish_rebuild(self) -> None:
        """Create the text indexes again (without blocking saves, outside a transaction)."""
        concurrently = "" if connection.in_atomic_block else "CONCURRENTLY"
        with _cursor() as cursor:
            for name in self._invalid_indexes(cursor):
                cursor.execute(f"DROP INDEX IF EXISTS {name}")  # a failed earlier build
            # A GIN build sorts its entries in this memory; the 64 MB default made the
            # pairs index's build several times slower at 100,000 pieces.
            cursor.execute(
                "SELECT current_setting('maintenance_work_mem'), "
                "set_config('maintenance_work_mem', %s, false)",
                [BUILD_MEMORY],
            )
            memory = cursor.fetchone()[0]
            try:
                for name, table, column in GIN_INDEXES:
                    cursor.execute(
                        f"CREATE INDEX {concurrently} IF NOT EXISTS {name} ON {table} "
                        f"USING gin ({column})"
                    )
            finally:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [memory])
        self.optimize()

    def problems(self) -> list[str]:
        with _cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname = ANY(%s)",
                [GIN_INDEX_NAMES],
            )
            present = {name for (name,) in cursor.fetchall()} - set(self._invalid_indexes(cursor))
        return [
            f"the text index {name} on {table} is missing (an interrupted rebuild_index?)"
            for name, table, _ in GIN_INDEXES
            if name not in present
        ]

    @staticmethod
    def _invalid_indexes(cursor) -> list[str]:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname = ANY(%s)",
            [GIN_INDEX_NAMES],
        )
        return [name for (name,) in cursor.fetchall()]

    @staticmethod
    def _choose_pair_words(cursor) -> tuple[list[str], list[float]]:
        """The lexemes in at least PAIR_SHARE_PRODUCT of a random sample of the pieces."""
        ids = list(Piece.objects.values_list("pk", flat=True))
        if len(ids) < PAIR_MIN_PIECES:
            return [], []
        sample = documents_for(random.sample(ids, min(PAIR_SAMPLE, len(ids))))
        texts = ["\n".join(d.fields())[:MAX_INDEXED_CHARS] for d in sample]
        cursor.execute(
            "SELECT u.lexeme, count(*)::real / %s FROM unnest(%s::text[]) t, "
            f"unnest(to_tsvector('{CONFIG}', t)) u "
            "GROUP BY u.lexeme HAVING count(*) >= %s ORDER BY u.lexeme",
            [len(texts), texts, math.ceil(PAIR_SHARE_PRODUCT * len(texts))],
        )
        rows = cursor.fetchall()
        return [word for word, _ in rows], [share for _, share in rows]

    @staticmethod
    def _phrase_pairs(words) -> list[tuple[str, bool]]:
        """A phrase's adjacent pairs of stems, in order, each with whether it is indexed."""
        with _cursor() as cursor:
            cursor.execute(_PHRASE_PAIRS, [clean_for_index(" ".join(words))])
            return cursor.fetchall()

    def _insert(self, cursor, documents: list[PieceDocument]) -> None:
        if not documents:
            return
        cursor.executemany(_INSERT, [_row(d) for d in documents])
        self._count_words(
            cursor, [_short_words(d.title, d.authors, d.tags, d.synopsis) for d in documents], 1
        )

    def _remove(self, cursor, piece_ids: list[int]) -> bool:
        """Delete the pieces' rows (and their words' counts); whether there were any."""
        if not piece_ids:
            return False
        cursor.execute(
            f"DELETE FROM {TEXT_TABLE} WHERE piece_id = ANY(%s) "
            "RETURNING title, authors, tags, synopsis",
            [piece_ids],
        )
        old = cursor.fetchall()
        self._count_words(cursor, [_short_words(*row) for row in old], -1)
        cursor.execute(f"DELETE FROM {DOC_TABLE} WHERE piece_id = ANY(%s)", [piece_ids])
        return bool(old) or cursor.rowcount > 0

    @staticmethod
    def _log(cursor, piece_ids: list[int]) -> None:
        """Note the write for other processes' facet arrays (pg_facets.py); no row lock."""
        cursor.execute(
            f"INSERT INTO {CHANGE_TABLE} (piece_id) SELECT unnest(%s::bigint[])", [piece_ids]
        )

    @staticmethod
    def _count_words(cursor, pieces_words: list[set[str]], change: int) -> None:
        counts: dict[str, int] = {}
        for words in pieces_words:
            for word in words:
                counts[word] = counts.get(word, 0) + change
        if not counts:
            return
        # Sorted: concurrent saves lock the word rows in one order, so they never deadlock.
        words = sorted(counts)
        cursor.execute(
            f"INSERT INTO {WORD_TABLE} AS w (word, docs) "
            "SELECT * FROM unnest(%s::text[], %s::int[]) "
            "ON CONFLICT (word) DO UPDATE SET docs = w.docs + excluded.docs",
            [words, [counts[w] for w in words]],
        )
        if change < 0:
            cursor.execute(f"DELETE FROM {WORD_TABLE} WHERE word = ANY(%s) AND docs <= 0", [words])

    # --- searching -----------------------------------------------------------------------

    def search(
        self, query: ParsedQuery, *, sort: Sort = Sort.RELEVANCE, offset: int = 0, limit: int = 20
    ) -> SearchResults:
        """Ranked page, total and facets over the whole match, snippets for the page only."""
        vocabulary = Vocabulary.load()
        compiled = compile_query(query.root, vocabulary, self._phrase_pairs)
        clauses, params = [], []
        if compiled.match is not None:
            clauses.append(f"d.vec @@ {TSQUERY}")
            params.append(compiled.match)
        if compiled.where:
            clauses.append(compiled.where)
            params.extend(compiled.params)
        base = f"FROM {DOC_TABLE} d WHERE {' AND '.join(clauses) or 'TRUE'}"
        # A savepoint: a query PostgreSQL rejects must not poison the caller's transaction
        # (the service then retries with the plain words).
        with transaction.atomic(), _cursor() as cursor:
            # A transaction that has written may see its own uncommitted rows: it counts
            # facets in SQL and leaves the shared arrays alone (pg_facets.py).
            cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
            shared = cursor.fetchone()[0]
            with _index_scans(cursor):
                rows, total, counts = self._match(
                    cursor, compiled, base, params, sort, offset, limit, shared
                )
            if shared and total:
                counts = pg_facets.facet_counts(cursor, connection.alias, counts)
            snippets = self._snippets(cursor, compiled.highlight, [pk for pk, _ in rows])
        hits = [Hit(pk, float(score or 0.0), snippets.get(pk, "")) for pk, score in rows]
        facets = build_facets(counts, vocabulary) if total else {}
        return SearchResults(hits=hits, total=total, facets=facets, hints=list(compiled.hints))

    @staticmethod
    def _match(cursor, compiled, base, params, sort: Sort, offset, limit, shared: bool):
        """The page in order, the total and the facets (or the matching ids), in one statement.

        The match ``m`` is a CTE over the narrow doc rows, computed once and kept unless
        it is a text match alone (paying a recheck twice doubled a phrase's time). Ranking is in
        tiers, so a common word never ranks every match: pieces whose title matches
        first, then (only when the titles do not fill the page) those matching in people,
        tags or synopsis, both ranked by ``ts_rank`` of ``head`` (the short fields weighted
        A > B > C; tier 2 among the newest TIER2_CANDIDATES matches), then (only when
        those do not fill it either) the other matches, newest first.
        """
        need = offset + limit
        direction = "ASC" if sort is Sort.OLDEST else "DESC"
        dated = f"m.date IS NULL, m.date {direction}, m.id"
        relevance = sort is Sort.RELEVANCE and compiled.highlight is not None
        if relevance:
            order = "r DESC, date IS NULL, date DESC, id"
            rank = (
                f"(SELECT ts_rank(x.head, {TSQUERY}) FROM {TEXT_TABLE} x "
                "WHERE x.piece_id = d.piece_id)"
            )
            # Tier 1 straight from the title index, the match re-tested on those rows only
            # unless a title match implies it (a prefix in 3,000 titles: 3,000 whole
            # vectors, ~50 ms); each row's head is read by its key, never by a scan.
            titled = (
                f"FROM {DOC_TABLE} d WHERE d.title @@ {TSQUERY}"
                if compiled.title_implies_match
                else f"{base} AND d.title @@ {TSQUERY}"
            )
            base_params = [] if compiled.title_implies_match else params
            tier1 = (
                f"SELECT d.piece_id AS id, d.date, {rank} AS r {titled} ORDER BY {order} LIMIT %s"
            )
            # Tiers 2 and 3 run only when the tiers above have fewer rows than the page
            # needs (one-time filters: otherwise none of their rows is read). Tier 2: the
            # head index's rows (people, tags, synopsis) in the match; tier 3: the rest
            # (body only), newest first, never ranked.
            # Tier 2 ranks the newest TIER2_CANDIDATES matches at most: two common words
            # in a phrase match half the catalogue's synopses, and ranking them all took
            # ~260 ms at 100,000 pieces.
            tier2 = (
                f"SELECT x.piece_id AS id, c.date, ts_rank(x.head, q.q) AS r "
                f"FROM (SELECT {TSQUERY} AS q) q, (SELECT m.id, m.date FROM m "
                f"ORDER BY {dated} LIMIT {TIER2_CANDIDATES}) c "
                f"JOIN {TEXT_TABLE} x ON x.piece_id = c.id "
                "WHERE (SELECT count(*) FROM p1) < %s AND x.head @@ q.q "
                f"AND x.piece_id NOT IN (SELECT id FROM p1) ORDER BY {order} LIMIT %s"
            )
            tier3 = (
                "SELECT m.id, m.date, 0.0::real AS r FROM m "
                "WHERE (SELECT count(*) FROM p1) + (SELECT count(*) FROM p2) < %s "
                "AND m.id NOT IN (SELECT id FROM p1 UNION ALL SELECT id FROM p2) "
                f"ORDER BY {dated} LIMIT %s"
            )
            page = (
                f"SELECT 1 AS tier, id, row_number() OVER (ORDER BY {order}) AS n, r FROM p1 "
                f"UNION ALL SELECT 2, id, row_number() OVER (ORDER BY {order}), r FROM p2 "
                f"UNION ALL SELECT 3, id, row_number() OVER (ORDER BY {dated.replace('m.', '')}), "
                f"r FROM ({tier3}) p3"
            )
            ctes = f", p1 AS MATERIALIZED ({tier1}), p2 AS MATERIALIZED ({tier2})"
            cte_params = [compiled.highlight, *base_params, compiled.highlight, need]
            cte_params += [compiled.highlight, need, need]
            page_params = [need, need]
        else:
            page = (
                f"SELECT 1 AS tier, m.id, row_number() OVER (ORDER BY {dated}) AS n, "
                f"0.0::real AS r FROM m ORDER BY {dated} LIMIT %s"
            )
            ctes, cte_params, page_params = "", [], [need]
        if shared:
            facets = (
                "SELECT 'ids', NULL, count(*), NULL, string_agg(int8send(m.id), ''::bytea) FROM m"
            )
            facet_params = []
        else:
            facets = (
                "SELECT 'total', NULL, count(*), NULL, NULL FROM m "
                f"UNION ALL SELECT 'topic', t.topic_id, count(*), NULL, NULL FROM {TOPIC_TABLE} t "
                "JOIN m ON m.id = t.piece_id GROUP BY t.topic_id "
                f"UNION ALL SELECT 'region', t.region_id, count(*), NULL, NULL "
                f"FROM {REGION_TABLE} t JOIN m ON m.id = t.piece_id GROUP BY t.region_id "
                f"UNION ALL SELECT 'author', a.author_id, count(*), NULL, NULL "
                f"FROM {AUTHORSHIP_TABLE} a JOIN m ON m.id = a.piece_id WHERE a.role = %s "
                "GROUP BY a.author_id "
                "UNION ALL SELECT 'year', extract(year FROM m.date)::bigint, count(*), NULL, "
                "NULL FROM m WHERE m.date IS NOT NULL GROUP BY 2 "
                "UNION ALL SELECT 'type:' || m.type, NULL, count(*), NULL, NULL FROM m "
                "GROUP BY m.type"
            )
            facet_params = [Role.AUTHOR.value]
        # Inlined only for a text match alone (writing 100,000 rows down took ~20 ms).
        # Kept when read several times (facets in SQL), costly to compute again (a
        # recheck), or joined to a filter: inlined there, the planner tested every
        # piece's vector instead of using the index (~720 ms at 100,000 pieces).
        inline = shared and not compiled.rechecks and not compiled.where
        keep = "NOT MATERIALIZED" if inline else "MATERIALIZED"
        cursor.execute(
            f"WITH m AS {keep} (SELECT d.piece_id AS id, d.date, d.type {base}){ctes} "
            f"SELECT 'hit:' || tier, id, n, r, NULL FROM ({page}) pages UNION ALL {facets}",
            [*params, *cte_params, *page_params, *facet_params],
        )
        tiers: list[tuple[str, int, int, float]] = []
        total, counts = 0, {}
        for kind, value, count, score, blob in cursor.fetchall():
            if kind.startswith("hit:"):
                tiers.append((kind, count, value, score))
            elif kind == "ids":
                total = count
                counts = np.frombuffer(bytes(blob or b""), dtype=">i8").astype(np.int64)
            elif kind == "total":
                total = count
            elif kind.startswith("type:"):
                counts.setdefault("type", []).append((kind[5:], count))
            else:
                counts.setdefault(kind, []).append((value, count))
        ordered = [(pk, score) for _, _, pk, score in sorted(tiers)]
        return ordered[offset:need], total, counts

    @staticmethod
    def _snippets(cursor, highlight: str | None, ids: list[int]) -> dict[int, str]:
        """``ts_headline`` of the synopsis when it matches, else of the body, else the title.

        Field by field, so only pieces whose short synopsis does not match pay for a
        headline over their whole body.
        """
        if not highlight or not ids:
            return {}
        snippets: dict[int, str] = {}
        folded: set[int] = set()
        remaining = list(ids)
        for column in ("synopsis", "body", "title"):
            if not remaining:
                break
            cursor.execute(
                f"SELECT d.piece_id, d.folded, ts_headline('{CONFIG}', "
                f"replace(d.{column}, '<', %s), q.q, %s) FROM {TEXT_TABLE} d, "
                f"(SELECT {TSQUERY} AS q) q WHERE d.piece_id = ANY(%s) AND d.{column} <> ''",
                [_LT, _HEADLINE_OPTIONS, highlight, remaining],
            )
            for pk, was_folded, marked in cursor.fetchall():
                if marked and MARK_START in marked:
                    snippets[pk] = marked.replace(_LT, "<")
                    if was_folded:
                        folded.add(pk)
            remaining = [pk for pk in remaining if pk not in snippets]
        restored = restore_snippets({pk: snippets[pk] for pk in folded})
        return {**snippets, **restored}

    # --- vocabulary ----------------------------------------------------------------------

    def document_count(self, word: str) -> int:
        sql = f"SELECT count(*) FROM {DOC_TABLE} WHERE vec @@ {TSQUERY}"
        with transaction.atomic(), _cursor() as cursor, _index_scans(cursor):
            cursor.execute(sql, [quote(word)])
            return cursor.fetchone()[0]

    def suggest(self, word: str) -> str:
        """The closest catalogue word (titles, names, tags, synopses) if ``word`` is not one."""
        key = fold(word)
        if len(key) < 4 or not key.isalpha():
            return ""
        with _cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {WORD_TABLE} WHERE word = %s", [key])
            if cursor.fetchone():
                return ""
            # Misspellings rarely change the first letter; limiting to it keeps this fast.
            cursor.execute(
                f"SELECT word, docs FROM {WORD_TABLE} WHERE word >= %s AND word < %s "
                "AND length(word) BETWEEN %s AND %s",
                [key[0], chr(ord(key[0]) + 1), len(key) - 2, len(key) + 2],
            )
            rows = cursor.fetchall()
        return closest(key, rows)

    def related(self, document: PieceDocument, limit: int = 5) -> list[Hit]:
        """Pieces sharing the most distinctive title, tag and synopsis words.

        The RELATED_WORDS rarest of the piece's words that other pieces also use (by the
        word table's counts): a word in half the catalogue says little about relatedness
        and made every piece page rank tens of thousands of pieces (~165 ms at 100,000).
        """
        words = related_words(document)
        if not words:
            return []
        with transaction.atomic(), _cursor() as cursor, _index_scans(cursor):
            cursor.execute(
                f"SELECT w FROM unnest(%s::text[]) w LEFT JOIN {WORD_TABLE} c ON c.word = w "
                "ORDER BY coalesce(c.docs, 1) <= 1, c.docs, w LIMIT %s",
                [words, RELATED_WORDS],
            )
            expr = " | ".join(quote(word) for (word,) in cursor.fetchall())
            # ``head`` is ``vec`` without the body, at the same positions: the same ranks,
            # from a small vector. It holds weights A-C only, so no weight is asked for
            # (a weight would make PostgreSQL recheck every candidate).
            cursor.execute(
                f"SELECT piece_id, ts_rank(head, q) AS r FROM {TEXT_TABLE}, {TSQUERY} q "
                "WHERE head @@ q AND piece_id <> %s ORDER BY r DESC, piece_id LIMIT %s",
                [expr, document.piece_id, limit],
            )
            return [Hit(pk, float(score)) for pk, score in cursor.fetchall()]

    # --- maintenance ---------------------------------------------------------------------

    def indexed_digests(self) -> dict[int, str]:
        with _cursor() as cursor:
            cursor.execute(f"SELECT piece_id, digest FROM {DOC_TABLE}")
            return dict(cursor.fetchall())

    def size_bytes(self) -> int:
        with _cursor() as cursor:
            sizes = " + ".join(f"pg_total_relation_size('{table}')" for table in TABLES)
            cursor.execute(f"SELECT {sizes}")
            return int(cursor.fetchone()[0] or 0)


@contextmanager
def _index_scans(cursor) -> Iterator[None]:
    """Match through the GIN index even when most pieces match, and without JIT.

    The planner prices testing a piece's ``tsvector`` as nearly free, but each test reads
    the whole (large) vector: a sequential scan for a common word cost ~140 ms at 10,000
    pieces where the index's exact bitmap takes ~15 ms, and a topic filter at 100,000
    pieces was planned as a walk of the primary key testing every vector (~720 ms). With
    sequential and plain index scans off, rows are found through bitmaps (GIN, or keys).
    At 100,000 pieces the plans' estimated cost passed the JIT threshold, and compiling
    cost more than it saved. The settings are local to the transaction and restored after.
    """
    names = list(_SEARCH_SETTINGS)
    current = ", ".join(f"current_setting('{name}')" for name in names)
    changed = ", ".join(f"set_config('{name}', %s, true)" for name in names)
    cursor.execute(f"SELECT {current}, {changed}", list(_SEARCH_SETTINGS.values()))
    before = cursor.fetchone()[: len(names)]
    try:
        yield
    finally:
        cursor.execute(f"SELECT {changed}", list(before))


_SEARCH_SETTINGS = {
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    "jit": "off",
    "work_mem": WORK_MEM,
}


class _cursor:
    """A cursor whose "relation does not exist" becomes IndexUnavailable (run migrate)."""

    def __enter__(self):
        self._cursor = connection.cursor()
        self._inner = self._cursor.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._cursor.__exit__(*exc)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def execute(self, sql: str, params=None):
        try:
            return self._inner.execute(sql, params)
        except DatabaseError as exc:
            message = str(exc)
            if "does not exist" in message and any(table in message for table in TABLES):
                raise IndexUnavailable(str(exc)) from exc
            raise

    def executemany(self, sql: str, params) -> None:
        try:
            self._inner.executemany(sql, params)
        except DatabaseError as exc:
            if "does not exist" in str(exc):
                raise IndexUnavailable(str(exc)) from exc
            raise
