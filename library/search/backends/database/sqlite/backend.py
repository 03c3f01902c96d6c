"""SQLite FTS5 dialect of the database engine.

Tables (created by this app's migration 0001; ``clear`` recreates them from ``CREATE_SQL``):

* ``search_piece_fts``: FTS5 over title, authors, tags, synopsis and body with the
  ``porter unicode61 remove_diacritics 2`` tokenizer (stemming, case and accent folding),
  plus an unindexed digest for check_index. It stores its own content so that snippets and
  deletes need nothing else.
* ``search_head_fts``: the short fields again, contentless, for ranking the head tiers.
* ``search_word``: the catalogue's own folded words (short fields) with document counts,
  for "did you mean" and prefix highlighting.
* ``search_state``: the index generation, which every write changes (the result cache's key).

(``search_word_fts`` and ``search_word_vocab`` are older tables that ``DROP_SQL`` still
removes.) The compiler is compiler.py; facet arrays and the result cache are facets.py;
the ids pass that runs on a second connection beside a search's ranking is sidecar.py.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from library.catalogue.models import Piece
from library.search.backends.base import IndexUnavailable, QueryRejected, SearchBackend
from library.search.backends.database.sqlite import sidecar
from library.search.backends.database.sqlite.compiler import (
    FTS_TABLE,
    REGION_TABLE,
    TOPIC_TABLE,
    compile_query,
)
from library.search.backends.database.sqlite.compiler import quote as fts_quote
from library.search.backends.database.sqlite.facets import Ranked, ResultCache, facet_data
from library.search.backends.database.sqlite.stems import TOKENIZER
from library.search.backends.shared import (
    build_facets,
    catalogue_order,
    closest,
    rarest,
    related_words,
    restore_snippets,
    short_words,
)
from library.search.documents import FIELDS, WEIGHTS, PieceDocument
from library.search.query import ParsedQuery
from library.search.results import Hit, SearchResults, Sort
from library.search.text import MARK_END, MARK_START, WORD, fold
from library.search.vocab import Vocabulary

HEAD_FIELDS = ("title", "authors", "tags", "synopsis")
WORD_TABLE = "search_word"
HEAD_TABLE = "search_head_fts"
STATE_TABLE = "search_state"
PIECE_TABLE = Piece._meta.db_table
_WEIGHTS = ", ".join(str(WEIGHTS[f]) for f in FIELDS)
_BM25 = f"bm25({FTS_TABLE}, {_WEIGHTS}, 0.0, 0.0)"
_HEAD_WEIGHTS = ", ".join(str(WEIGHTS[f]) for f in HEAD_FIELDS)
_HEAD_BM25 = f"bm25({HEAD_TABLE}, {_HEAD_WEIGHTS})"
_RANK_JOIN = (
    f"LEFT JOIN (SELECT rowid AS rid, {_BM25} AS s FROM {FTS_TABLE} "
    f"WHERE {FTS_TABLE} MATCH %s) r ON r.rid = p.id WHERE"
)
_SNIPPET_TOKENS = 24
# A filtered query's matching ids are handed to its ranking statements as a JSON list
# while there are at most this many (see _rank_tiered); beyond, the filter's own SQL.
_LISTED_IDS = 20_000
_SYNOPSIS_COLUMN = FIELDS.index("synopsis")
_BODY_COLUMN = FIELDS.index("body")
_SCAN_TERMS = 3  # quoted strings in a highlight expression from which snippets may scan
# Scanning postings beats seeking each page id while the words' pieces (counted in the
# short fields, which undercount the bodies) stay under this many per seek saved. Measured
# at 100,000 pieces: a seek of one word for one id ~16 µs, a scan ~0.8 µs for each of the
# words' short-field pieces (their bodies make it dearer than the count says). Until the
# twentieth round this was 400, so a 4-letter prefix's six words scanned for the page's 20
# ids (~11 ms) where seeking took ~4.5 ms (library/search/README.md, "Issue 18, twentieth
# round").
_SCAN_DOCS_PER_SEEK = 20
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_NEGATION = ") NOT ("  # only the compiler writes this; reader words are always quoted
_PREFIX = '"*'  # a quoted word followed by FTS5's prefix mark (a quote in a word is doubled)
# What FTS5's query parser says when it rejects a MATCH expression.
_REJECTED = ("fts5: syntax error", "unterminated string")
# Bulk load (rebuild_index): FTS5 buffers up to 1 MB of new postings before writing a
# segment, and merges whenever 4 segments share a level. Buffering a whole transaction's
# postings (64 MB) and merging 16 at a time measured 1,220 -> 2,220 pieces/s at 100,000
# pieces, with the same query CPU afterwards.
_BULK = {"hashsize": 64 * 1024 * 1024, "automerge": 16}
# Single-piece saves write their segment and merge nothing: the worker's upkeep task
# (``upkeep``) merges, in short steps of its own. FTS5's automerge (4) did that work inside
# a save's commit (commit p95 6.2 -> 2.1 ms at 10,000 pieces without it). If the worker is
# down, FTS5's crisis merge (16 segments on one level, its default) still bounds the
# segments a query reads, inside the save that reaches it.
_INCREMENTAL = {"hashsize": 1024 * 1024, "automerge": 0}
# Upkeep: merge work per step (FTS5 leaf pages written; a step ends at a word's end, so
# one reaching a common word writes its whole doclist) and at most this many steps per
# table per run, each its own short write transaction. Runs come about every ten saves
# (UPKEEP_WAL_BYTES) and every MERGE_PACE while they find merging to do; after a rebuild,
# whose segments FTS5 wants merged too, the work is spread over many runs, as automerge
# spread it over many saves. After each step the worker leaves SQLite's write lock free for
# _MERGE_PAUSE seconds before its next write (the next step, the other table, the change
# log's prune): a save that found the lock held waits in SQLite's busy handler, which tries
# again 1, 3, 8, 18 ... ms after its first try, and a lock taken again at once was held at
# those tries too. 5 ms catches a try of every save that waited up to 8 ms. 16-page steps
# (p50 ~2 ms at 100,000 pieces, against 1.6-5.9 ms for 64), 8 a run, paused: save p95 8.8
# ms against 12.6 with one 64-page step and no pause, and more merged per run
# (library/search/README.md, "Issue 18, fourteenth round").
_MERGE_PAGES = 16
_MERGE_STEPS = 8
_MERGE_PAUSE = 0.005
# The WAL size at which a save asks the worker for a checkpoint: about SQLite's own
# automatic checkpoint point (1,000 frames of 4 KB pages), which the saving connections
# raise to settings.SQLITE_WAL_AUTOCHECKPOINT (the bound if the worker is down).
UPKEEP_WAL_BYTES = 4 * 1024 * 1024

# Topic and region filters select piece ids by term id ("p.id IN (SELECT piece_id FROM …
# WHERE topic_id IN …)"). Django's indexes on the tag tables are (piece_id, topic_id) and
# (topic_id) alone, so that read fetched every tag row from the table; with the term id
# first and the piece id beside it the filter is read from the index alone (measured at
# 100,000 pieces: ranking a common word within a broad topic, 84 -> 52 ms). Created by this
# app (migration 0003), so the catalogue's models do not change.
FILTER_INDEXES = {
    "search_topic_piece": (TOPIC_TABLE, "topic_id"),
    "search_region_piece": (REGION_TABLE, "region_id"),
}
FILTER_INDEX_SQL = [
    f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column}, piece_id)"
    for name, (table, column) in FILTER_INDEXES.items()
]

CREATE_SQL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"title, authors, tags, synopsis, body, digest UNINDEXED, folded UNINDEXED, {TOKENIZER})",
    # The short fields again, contentless: ranking a common word here reads a few
    # positions per piece instead of every position in every body.
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {HEAD_TABLE} USING fts5("
    f"title, authors, tags, synopsis, content='', {TOKENIZER})",
    # The catalogue's own words (short fields, folded, unstemmed) and how many pieces use
    # each: "did you mean" candidates and prefix highlighting, by cheap b-tree range scans.
    f"CREATE TABLE IF NOT EXISTS {WORD_TABLE} (word TEXT PRIMARY KEY, docs INTEGER NOT NULL) "
    "WITHOUT ROWID",
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    # The same BM25 as "rank", for ad-hoc queries; the code calls bm25() itself (faster here).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('rank', 'bm25({_WEIGHTS}, 0.0, 0.0)')",
    f"INSERT INTO {HEAD_TABLE}({HEAD_TABLE}, rank) VALUES ('rank', 'bm25({_HEAD_WEIGHTS})')",
    *FILTER_INDEX_SQL,
]
DROP_SQL = [
    f"DROP TABLE IF EXISTS {t}"
    for t in (
        "search_word_vocab",
        "search_word_fts",
        WORD_TABLE,
        HEAD_TABLE,
        FTS_TABLE,
        STATE_TABLE,
    )
]


def _short_fields(document: PieceDocument) -> tuple[str, str, str, str]:
    return document.title, document.authors, document.tags, document.synopsis


def _tally(pieces_words: Iterable[set[str]], change: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for words in pieces_words:
        for word in words:
            counts[word] = counts.get(word, 0) + change
    return counts


def _count_words(cursor, counts: dict[str, int]) -> None:
    """Add each word's change in document count; forget the words no piece uses now."""
    changed = [(word, change) for word, change in counts.items() if change]
    cursor.executemany(
        f"INSERT INTO {WORD_TABLE}(word, docs) VALUES (%s, %s) "
        "ON CONFLICT(word) DO UPDATE SET docs = docs + excluded.docs",
        # In key order, so consecutive upserts share b-tree pages (a rebuild upserts ~10
        # words per piece: 0.72 -> 0.59-0.65 s per 10,000 pieces at load 4.5).
        sorted(changed),
    )
    fewer = sorted(word for word, change in changed if change < 0)
    for start in range(0, len(fewer), _CHUNK):
        # Only the words that lost a piece: "WHERE docs <= 0" alone read the whole table
        # on every save (0.9 ms of a save at 10,000 pieces).
        chunk = fewer[start : start + _CHUNK]
        cursor.execute(
            f"DELETE FROM {WORD_TABLE} WHERE word IN ({', '.join(['%s'] * len(chunk))}) "
            "AND docs <= 0",
            chunk,
        )


_CHUNK = 500  # parameters per statement


class SQLiteFTS5Backend(SearchBackend):
    name = "database"
    transactional = True
    index_table = FTS_TABLE  # a row here means the index has been written

    def __init__(self) -> None:
        self.cache = ResultCache(size=getattr(settings, "SEARCH_RESULT_CACHE_SIZE", 128))

    # --- writing -------------------------------------------------------------------------

    def add(self, document: PieceDocument) -> None:
        """Index one piece on the current connection (so inside the caller's transaction)."""
        with self._cursor() as cursor:
            old = cursor.execute(
                f"SELECT digest, title, authors, tags, synopsis FROM {FTS_TABLE} WHERE rowid = %s",
                [document.piece_id],
            ).fetchone()
            if old is not None and old[0] == document.digest:
                return  # unchanged: several signals fire for one save
            counts = _tally([short_words(*_short_fields(document))], 1)
            if old is not None:
                self._remove(cursor, document.piece_id, old[1:])
                # The net change only: an edit rarely changes the short fields' words.
                for word in short_words(*old[1:]):
                    counts[word] = counts.get(word, 0) - 1
            self._write_rows(cursor, [document])
            _count_words(cursor, counts)
            self._bump(cursor)

    def add_bulk(self, documents: Iterable[PieceDocument]) -> int:
        """Insert the documents in one go (a rebuild's chunk, an import's new pieces).

        A piece already in the index was saved while a rebuild ran, after the rebuild
        emptied the index: it goes the way of a single save (replaced if it differs),
        where inserting it again failed the whole rebuild on the duplicate row.
        """
        batch = list(documents)
        with self._cursor() as cursor:
            present = self._present(cursor, [d.piece_id for d in batch])
            self._insert(cursor, [d for d in batch if d.piece_id not in present])
        for document in batch:
            if document.piece_id in present:
                self.add(document)
        return len(batch)

    def delete(self, piece_id: int) -> None:
        """Remove a piece's rows (no-op when absent)."""
        with self._cursor() as cursor:
            old = cursor.execute(
                f"SELECT title, authors, tags, synopsis FROM {FTS_TABLE} WHERE rowid = %s",
                [piece_id],
            ).fetchone()
            if old is not None:
                self._remove(cursor, piece_id, old)
                _count_words(cursor, _tally([short_words(*old)], -1))
                self._bump(cursor)

    def clear(self) -> None:
        """Drop and recreate the tables: faster than deleting rows and resets the vocabulary.

        Rebuilding starts here, so the tables are set up for a bulk load (see ``_BULK``)
        until ``optimize`` sets them back for single-piece writes.
        """
        with self._cursor() as cursor, _index_pages_freed(cursor):
            for sql in (*DROP_SQL, *CREATE_SQL):
                cursor.execute(sql)
            self._configure(cursor, _BULK)

    def optimize(self) -> None:
        """After a rebuild: one segment per table, then the settings for single-piece writes.

        The bulk load leaves up to 15 segments on each level (``_BULK``). Left to the
        worker's merge steps, the first saves after a rebuild hit FTS5's crisis merge of a
        full level inside their commit (2.5 s twice in 200 updates at 100,000 pieces)
        before the steps caught up; merging here costs the rebuild ~5 s at 100,000 pieces
        and leaves saves nothing to merge but their own small segments.
        """
        with self._cursor() as cursor, _index_pages_freed(cursor):
            for table in (FTS_TABLE, HEAD_TABLE):
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
            self._configure(cursor, _INCREMENTAL)

    merges_in_upkeep = True

    def upkeep_due(self) -> bool:
        """Whether the WAL has grown past UPKEEP_WAL_BYTES since it last started over."""
        return wal_bytes() >= UPKEEP_WAL_BYTES

    def upkeep(self) -> dict[str, int]:
        """Merge FTS5 segments and checkpoint the WAL, off the saving request (the worker).

        Merging runs in steps of _MERGE_PAGES pages, each its own short write transaction
        followed by _MERGE_PAUSE without one, so a waiting save gets the lock in between,
        while a step still changes something (FTS5 merges a level once it holds 4
        segments, its ``usermerge``); the checkpoint is PASSIVE: it copies what it can
        without waiting for, or blocking, readers and writers.
        """
        merges = 0
        for table in (FTS_TABLE, HEAD_TABLE):
            for _ in range(_MERGE_STEPS):
                with transaction.atomic(), self._cursor() as cursor:
                    connection.ensure_connection()
                    before = connection.connection.total_changes
                    cursor.execute(
                        f"INSERT INTO {table}({table}, rank) VALUES ('merge', %s)", [_MERGE_PAGES]
                    )
                    # FTS5's documented test: two or more changes mean it merged something.
                    if connection.connection.total_changes - before < 2:
                        break
                merges += 1
                time.sleep(_MERGE_PAUSE)
        frames = copied = -1  # as SQLite reports a database without a WAL
        if not connection.in_atomic_block:  # SQLite refuses to checkpoint inside one
            with self._cursor() as cursor:
                row = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                _busy, frames, copied = row
        return {"merge_steps": merges, "wal_frames": frames, "checkpointed": copied}

    @staticmethod
    def _configure(cursor, options: dict[str, int]) -> None:
        for table in (FTS_TABLE, HEAD_TABLE):
            for name, value in options.items():
                try:
                    cursor.execute(
                        f"INSERT INTO {table}({table}, rank) VALUES (%s, %s)", [name, value]
                    )
                except DatabaseError:
                    # An SQLite whose FTS5 lacks the option ("SQL logic error"): the
                    # rebuild is only slower; SQLite undoes just the failed statement.
                    continue

    @staticmethod
    def _present(cursor, piece_ids: list[int]) -> set[int]:
        """Which of the pieces the index holds: one range of rowids (a chunk's ids are
        close together), not a parameter a piece."""
        if not piece_ids:
            return set()
        rows = cursor.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE rowid BETWEEN %s AND %s",
            [min(piece_ids), max(piece_ids)],
        ).fetchall()
        return {rowid for (rowid,) in rows} & set(piece_ids)

    def _insert(self, cursor, documents: list[PieceDocument]) -> None:
        if not documents:
            return
        self._write_rows(cursor, documents)
        _count_words(cursor, _tally((short_words(*_short_fields(d)) for d in documents), 1))
        self._bump(cursor)

    @staticmethod
    def _write_rows(cursor, documents: list[PieceDocument]) -> None:
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE}(rowid, title, authors, tags, synopsis, body, digest, folded) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(d.piece_id, *d.fields(), d.digest, int(d.folded)) for d in documents],
        )
        cursor.executemany(
            f"INSERT INTO {HEAD_TABLE}(rowid, title, authors, tags, synopsis) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(d.piece_id, *_short_fields(d)) for d in documents],
        )

    @staticmethod
    def _bump(cursor) -> None:
        """Give the index a new generation (result caches in every process notice it).

        A random value, not a counter: a rolled-back write must not leave a number that a
        later, different write reuses while a cache still holds the rolled-back state.
        """
        cursor.execute(
            f"INSERT INTO {STATE_TABLE}(name, value) VALUES ('generation', random()) "
            "ON CONFLICT(name) DO UPDATE SET value = random()"
        )

    @staticmethod
    def _remove(cursor, piece_id: int, short_fields) -> None:
        """Delete a piece's rows from both FTS tables (its words are counted by the caller)."""
        # A contentless table forgets a row only when told exactly what it indexed.
        cursor.execute(
            f"INSERT INTO {HEAD_TABLE}({HEAD_TABLE}, rowid, title, authors, tags, synopsis) "
            "VALUES ('delete', %s, %s, %s, %s, %s)",
            [piece_id, *short_fields],
        )
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [piece_id])

    def _cursor(self):
        return _GuardedCursor()

    # --- searching -----------------------------------------------------------------------

    def search(
        self, query: ParsedQuery, *, sort: Sort = Sort.RELEVANCE, offset: int = 0, limit: int = 20
    ) -> SearchResults:
        """Ranked page, total, facets and snippets for ``query``.

        Ranking is tiered: pieces whose title, authors, tags or synopsis match (ranked by
        BM25 over those fields, from the small head table) come before pieces that match
        only in the body (BM25 over every field). A common word therefore never needs BM25
        over every body in the catalogue to fill the first pages.
        """
        vocabulary = Vocabulary.load()
        with self._cursor() as cursor:
            compiled = compile_query(
                query.root, vocabulary, lambda prefix: self._prefix_words(cursor, prefix)
            )
            need = offset + limit
            generation = self._generation(cursor)
            key = (compiled.match, compiled.where, tuple(compiled.params), sort)
            cached = self.cache.get(connection.alias, generation, key, need)
            fresh = cached is None
            if cached is None:
                cached = self._rank(cursor, compiled, sort, max(need, self.cache.depth))
            rows = cached.rows[offset:need]
            # Before the facets: the ids they count may still be listed beside this.
            snippets = self._snippets(cursor, compiled.highlight, [r[0] for r in rows])
            if fresh and cached.pending is None:
                self._count(cursor, cached, vocabulary, (generation, key))
        hits = [Hit(pk, -float(s or 0.0), snippets.get(pk, "")) for pk, s in rows]
        if fresh and cached.pending is not None:
            # The ids are still being listed beside this request: the total and facets
            # are counted when the caller first asks for them, so it can fetch the page's
            # pieces meanwhile (on a cursor of their own: this one is closed by then).
            def count() -> tuple[int, dict]:
                with self._cursor() as cursor:
                    return self._count(cursor, cached, vocabulary, (generation, key))

            return SearchResults(hits, hints=list(compiled.hints), pending=count)
        return SearchResults(hits, cached.total, cached.facets, list(compiled.hints))

    def _count(
        self, cursor, ranked: Ranked, vocabulary: Vocabulary, cache_key: tuple[int, tuple]
    ) -> tuple[int, dict]:
        """The total and facets of a freshly ranked query, which is then kept in the cache."""
        ranked.settle(cursor)
        ranked.facets = self._facets(cursor, ranked.ids, vocabulary)
        ranked.ids = np.zeros(0, np.int64)  # keep the page and counts, not every id
        self.cache.put(connection.alias, *cache_key, ranked)
        return ranked.total, ranked.facets

    def _rank(self, cursor, compiled, sort: Sort, need: int) -> Ranked:
        """Every matching id (for the count and facets) and the first ``need`` in order."""
        if (
            sort is Sort.RELEVANCE
            and compiled.match is not None
            and (not compiled.where or _ids_only(compiled.where))
        ):
            return self._rank_tiered(cursor, compiled, need)
        base, params = self._base(compiled)
        ids = _id_array(cursor.execute(*self._ids_pass(compiled)))
        if not len(ids):
            rows = []
        elif sort is Sort.RELEVANCE and compiled.match is not None:
            rows = self._tiered(cursor, compiled, base, params, need)
        elif sort is Sort.RELEVANCE and compiled.highlight is not None:
            rows = cursor.execute(
                f"SELECT p.id, coalesce(r.s, 0.0) {base.replace('WHERE', _RANK_JOIN, 1)} "
                "ORDER BY coalesce(r.s, 0.0), p.date IS NULL, p.date DESC, p.id LIMIT %s",
                [compiled.highlight, *params, need],
            ).fetchall()
        elif sort.by_catalogue:
            # Title or author: the browse page's order over the ids already in hand; the
            # match is not run again.
            rows = [(pk, 0.0) for pk in catalogue_order(sort, ids, need)]
        else:
            direction = "ASC" if sort is Sort.OLDEST else "DESC"
            rows = cursor.execute(
                f"SELECT p.id, 0.0 {base} ORDER BY p.date IS NULL, p.date {direction}, p.id "
                "LIMIT %s",
                [*params, need],
            ).fetchall()
        return Ranked(total=len(ids), rows=rows, ids=ids)

    @staticmethod
    def _prefix_words(cursor, prefix: str, limit: int = 6) -> list[str]:
        key = fold(prefix)
        return [
            row[0]
            for row in cursor.execute(
                f"SELECT word FROM {WORD_TABLE} WHERE word >= %s AND word < %s "
                "ORDER BY docs DESC LIMIT %s",
                [key, key[:-1] + chr(ord(key[-1]) + 1), limit],
            ).fetchall()
        ]

    @staticmethod
    def _ids(compiled, base: str, params: list) -> tuple[str, list]:
        """SQL for every matching id; skips the join with the piece table when it can.

        Joining 10,000 matches to their (wide) piece rows costs several times the match
        itself; filters that only test ``p.id`` work on the index's rowid as well.
        """
        where = compiled.where
        if compiled.match is None or "p.date" in where or "p.type" in where:
            return f"SELECT p.id AS id {base}", params
        sql = f"SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        if where:
            sql += " AND " + where.replace("p.id", f"+{FTS_TABLE}.rowid")
        return sql, [compiled.match, *compiled.params]

    @staticmethod
    def _base(compiled) -> tuple[str, list]:
        """FROM/WHERE selecting the matching pieces as ``p`` (no ranking)."""
        if compiled.match is not None:
            base = (
                f"FROM {FTS_TABLE} JOIN {PIECE_TABLE} p ON p.id = {FTS_TABLE}.rowid "
                f"WHERE {FTS_TABLE} MATCH %s"
            )
            if compiled.where:
                # "+p.id": let the MATCH drive the query. Handing FTS5 an IN list of rowids
                # makes it re-run the match once per id, hundreds of times slower.
                where = compiled.where.replace("p.id", "+p.id")
                return f"{base} AND {where}", [compiled.match, *compiled.params]
            return base, [compiled.match]
        return f"FROM {PIECE_TABLE} p WHERE {compiled.where or '1'}", list(compiled.params)

    @staticmethod
    def _tiered(cursor, compiled, base: str, params: list, need: int) -> list:
        """The first ``need`` hits of a query filtered on piece columns (type, dates).

        One BM25 pass over the filtered set joined to the piece rows (needed for the filter
        and the date tie-break). Unfiltered queries and id filters (topic, region, year)
        are ranked tier by tier (``_rank_tiered``).
        """
        return cursor.execute(
            f"SELECT p.id, {_BM25} {base} "
            f"ORDER BY {_BM25}, p.date IS NULL, p.date DESC, p.id LIMIT %s",
            [*params, need],
        ).fetchall()

    def _rank_tiered(self, cursor, compiled, need: int) -> Ranked:
        """Relevance, unfiltered or filtered on ids (topic, region, year), tier by tier.

        The head tiers first; when they fill the page, the body tier is never ranked and
        one pass without BM25 collects the ids. Otherwise one BM25 pass over the full
        table, in rank order, gives both the ids and the body tier: ranking it separately
        evaluated the match once more (for a phrase of common words, position checks over
        most of the catalogue each time; BM25 itself also counts the phrase's documents).
        Unfiltered, the pass the page will need starts on a second connection before the
        head tiers run (sidecar.py): the BM25 pass when the head table holds too few
        matches to fill the page (``_head_falls_short``), else the ids pass, whose ids the
        facets wait for while the page's snippets are cut (``Ranked.pending``) and which
        is stopped if the head tiers fall short after all.
        An id filter restricts every tier (``+rowid``: the MATCH drives, the filter's ids
        are tested as rows come); a common word within a topic used to be ranked by BM25
        over every match in the topic, which the head tiers now skip when they fill the
        page (see library/search/README.md for the figures).

        With topic, region and year filters only (``id_filter``) the matching ids come
        first, and while they are few the tiers are restricted to them, not to the
        filter: SQLite builds the filter's id list again for every statement (a common
        word within four years: one tier 9.0 ms so, 2.3 ms restricted to its 6,718
        matches). The same rows pass either way, in the same order.
        """
        where, where_params = "", []
        ids = None
        if compiled.id_filter is not None:
            ids = self._match_ids(cursor, compiled)
            if not len(ids):
                return Ranked(total=0, rows=[], ids=ids)
            if len(ids) <= _LISTED_IDS:
                where = " AND +rowid IN (SELECT value FROM json_each(%s))"
                where_params = [json.dumps(ids.tolist())]
        if compiled.where and not where:
            where = " AND " + compiled.where.replace("p.id", "+rowid")
            where_params = list(compiled.params)
        # Unfiltered, the pass the page will need runs beside the head tiers (sidecar.py):
        # the body tier's when the head table cannot fill the page, else the ids pass
        # (wanted when the head tiers fill the page, stopped when they do not).
        beside = not where and ids is None and sidecar.available()
        body_beside = beside and self._head_falls_short(cursor, compiled, need)
        side = None
        if body_beside:
            side = sidecar.start(*self._body_pass(compiled, where, where_params))
        elif beside:
            side = sidecar.start(*self._ids_pass(compiled))
        filled = False
        try:
            rows = self._head_tiers(cursor, compiled, need, where, where_params)
            filled = len(rows) >= need
        finally:
            if side is not None and filled == body_beside:  # its rows are not wanted
                side.cancel()
        if filled:
            if side is None or body_beside:  # (body_beside: a write came in between)
                ids = self._match_ids(cursor, compiled) if ids is None else ids
                return Ranked(total=len(ids), rows=rows[:need], ids=ids)
            ranked = Ranked(total=0, rows=rows[:need])  # the total once settled
            ranked.pending = lambda cursor: self._listed_ids(cursor, compiled, side)
            return ranked
        listed = side.rows() if side is not None and body_beside else None
        if listed is None:
            listed = cursor.execute(*self._body_pass(compiled, where, where_params)).fetchall()
        text = listed[0][0]
        pairs = np.fromstring(text, sep=",") if text else np.zeros(0)
        ids = pairs[0::2].astype(np.int64)
        seen = {pk for pk, _ in rows}
        for pk, score in zip(ids, pairs[1::2], strict=True):
            if len(rows) >= need:
                break
            if int(pk) not in seen:
                rows.append((int(pk), float(score)))
        return Ranked(total=len(ids), rows=rows, ids=ids)

    @staticmethod
    def _body_pass(compiled, where: str, where_params: list) -> tuple[str, list]:
        """Every match in rank order with its score, as one string: the body tier and the
        ids at once. bm25() in SQL, not FTS5's configured "rank": measured a third less
        CPU here."""
        return (
            f"SELECT group_concat(rowid || ',' || s) FROM (SELECT rowid, {_BM25} AS s "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s{where} ORDER BY s, rowid)",
            [compiled.match, *where_params],
        )

    @staticmethod
    def _head_falls_short(cursor, compiled, need: int) -> bool:
        """Whether the head tiers certainly cannot fill the page: the head table holds
        fewer than ``need`` matches of the whole expression. Each tier's rows match it
        there too (a column filter only narrows a positive expression), so the tiers
        hold no more; with an exclusion that no longer holds, and this says False.

        Not asked for a prefix (False): FTS5 merges the postings of every word a prefix
        begins before its first row, which cost the probe ~1 ms, a tenth of a broad
        prefix's search, and a prefix's head tiers seldom fall short.
        """
        if _NEGATION in compiled.match or _PREFIX in compiled.match:
            return False
        found = cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {HEAD_TABLE} "
            f"WHERE {HEAD_TABLE} MATCH %s LIMIT %s)",
            [compiled.match, need],
        ).fetchone()[0]
        return found < need

    def _ids_pass(self, compiled) -> tuple[str, list]:
        """The statement listing every id ``compiled`` matches, as one string."""
        ids_sql, ids_params = self._ids(compiled, *self._base(compiled))
        return f"SELECT group_concat(m.id) FROM ({ids_sql}) m", ids_params

    def _listed_ids(self, cursor, compiled, side: sidecar.SideRead | None) -> np.ndarray:
        """The ids the side read listed, or listed here if it could not."""
        rows = side.rows() if side is not None else None
        if rows is None:
            return self._match_ids(cursor, compiled)
        return _parse_ids(rows[0][0])

    def _match_ids(self, cursor, compiled) -> np.ndarray:
        """Every matching id (for the total and the facets), in no particular order.

        A topic, region or year filter is applied in numpy, not in the statement: with
        ``+rowid IN (…)`` SQLite probes the filter's ids once for every row the MATCH
        yields (a common word within four years at 100,000 pieces: 13.6 ms, against
        5.0 ms for the MATCH alone and 1.1 ms to read the filter's ids).
        """
        if compiled.id_filter is None:
            return _id_array(cursor.execute(*self._ids_pass(compiled)))
        matched = _id_array(
            cursor.execute(
                f"SELECT group_concat(m.id) FROM (SELECT rowid AS id FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %s) m",
                [compiled.match],
            )
        )
        filter_sql, filter_params = compiled.id_filter
        passing = _id_array(
            cursor.execute(f"SELECT group_concat(f.id) FROM ({filter_sql}) f", filter_params)
        )
        return matched[np.isin(matched, passing)]

    def _head_tiers(
        self, cursor, compiled, need: int, where: str = "", where_params: list | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``need`` hits from the head table: title, then authors/tags, then any.

        ``where`` (`` AND …`` on ``+rowid``) is an id filter every tier must pass.
        """
        rows: list[tuple[int, float]] = []
        # A positive expression that matches the head fields also matches the whole piece;
        # an exclusion (whose word may sit in a body) is checked against the full match,
        # and BM25 is then computed only for the rows that pass.
        restrict, restrict_params = where, list(where_params or [])
        if _NEGATION in compiled.match:
            restrict += f" AND +rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
            restrict_params.append(compiled.match)
        # bm25() in SQL, not FTS5's configured "rank": measured a third less CPU here.
        score = _HEAD_BM25
        for columns in ("{title}", "{authors tags}", ""):
            if len(rows) >= need:
                break
            expr = f"{columns} : ({compiled.match})" if columns else compiled.match
            seen = [pk for pk, _ in rows]
            exclude = f" AND rowid NOT IN ({', '.join(['%s'] * len(seen))})" if seen else ""
            rows += cursor.execute(
                f"SELECT rowid, {score} FROM {HEAD_TABLE} WHERE {HEAD_TABLE} MATCH %s"
                f"{exclude}{restrict} ORDER BY {score} LIMIT %s",
                [expr, *seen, *restrict_params, need - len(rows)],
            ).fetchall()
        return rows

    def _facets(self, cursor, ids, vocabulary: Vocabulary) -> dict:
        if not len(ids):
            return {}
        data = facet_data(cursor, connection.alias)
        return build_facets(data.count(ids), vocabulary)

    @staticmethod
    def _generation(cursor) -> int:
        row = cursor.execute(
            f"SELECT value FROM {STATE_TABLE} WHERE name = 'generation'"
        ).fetchone()
        return row[0] if row else 0

    def _snippets(self, cursor, highlight: str | None, ids: list[int]) -> dict[int, str]:
        """A passage around the match: the synopsis, else the body, else the best field.

        Trying the synopsis first is cheap (50 words); the body means scanning the whole
        text, so only pieces whose synopsis does not match pay for it.
        """
        if not highlight or not ids:
            return {}
        snippets: dict[int, str] = {}
        folded: set[int] = set()
        remaining = list(ids)
        scan_for = self._scan_postings(cursor, highlight)
        # Synopsis, then body: prose reads better than the tag list, which FTS5 would
        # often pick for a tag word (it scores columns by matches, not by readability).
        # The body (a thousand words to tokenise again) is cut only when the synopsis has
        # no match: SQL's CASE evaluates one branch (measured 3-4x faster for common words
        # than cutting both). The best field only for pieces matching in neither.
        synopsis = _snippet_sql(_SYNOPSIS_COLUMN)
        prose = (
            f"CASE WHEN instr({synopsis}, %s) THEN {synopsis} ELSE {_snippet_sql(_BODY_COLUMN)} END"
        )
        passes = (
            (prose, [MARK_START, MARK_END, MARK_START, *[MARK_START, MARK_END] * 2]),
            (_snippet_sql(-1), [MARK_START, MARK_END]),
        )
        for call, call_params in passes:
            if not remaining:
                break
            if scan_for(len(remaining)):
                marks = ", ".join(["%s"] * len(remaining))
                rows = cursor.execute(
                    f"SELECT rowid, folded, {call} FROM {FTS_TABLE} "
                    f"WHERE {FTS_TABLE} MATCH %s AND +rowid IN ({marks})",
                    [*call_params, highlight, *remaining],
                ).fetchall()
            else:
                columns = f"rowid, folded, {call}"
                rows = _seek_each(cursor, columns, call_params, highlight, remaining)
            # A piece the first pass did not return does not match the highlight at all,
            # so the best-field pass could find nothing in it either: only the rows
            # returned without a marked passage go on (fewer seeks per term).
            unmarked = set()
            for pk, was_folded, *texts in rows:
                text = next((t for t in texts if t and MARK_START in t), "")
                if text:
                    snippets[pk] = text
                    if was_folded:
                        folded.add(pk)
                else:
                    unmarked.add(pk)
            remaining = [pk for pk in remaining if pk in unmarked]
        restored = restore_snippets({pk: snippets[pk] for pk in folded})
        return {**snippets, **restored}

    @staticmethod
    def _scan_postings(cursor, highlight: str) -> Callable[[int], bool]:
        """Whether snippets for so many ids should scan the highlight words' postings
        instead of seeking each id.

        FTS5 runs an IN list of rowids as one seek per id and per term; for an OR of
        several rare words (aliases, prefix expansions) scanning their posting lists once
        and letting SQLite keep the page's ids ("+rowid") is faster. For common words the
        scan reads most of the index (measured at 100,000 pieces, six common words: 14 ms
        scanning, 3.5 ms seeking), so the words' document counts decide, for each pass
        with its own number of ids (the best-field pass often has 3 of the page's 20: a
        4-letter prefix's snippets scanned for them, 12 ms, where seeking takes ~2 ms).
        """
        quoted = _QUOTED.findall(highlight)
        if len(quoted) < _SCAN_TERMS:
            return lambda ids: False
        words = sorted({w for text in quoted for w in WORD.findall(fold(text))})
        marks = ", ".join(["%s"] * len(words))
        docs = cursor.execute(
            f"SELECT coalesce(sum(docs), 0) FROM {WORD_TABLE} WHERE word IN ({marks})", words
        ).fetchone()[0]
        return lambda ids: docs < _SCAN_DOCS_PER_SEEK * ids * len(quoted)

    # --- vocabulary ----------------------------------------------------------------------

    def document_count(self, word: str) -> int:
        """Pieces containing ``word`` anywhere (stemmed and folded like the index)."""
        with self._cursor() as cursor:
            row = cursor.execute(
                f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [fts_quote(word)]
            ).fetchone()
        return row[0]

    def suggest(self, word: str) -> str:
        """The closest catalogue word (titles, names, tags, synopses) if ``word`` is not one."""
        key = fold(word)
        if len(key) < 4 or not key.isalpha():
            return ""
        with self._cursor() as cursor:
            if cursor.execute(f"SELECT 1 FROM {WORD_TABLE} WHERE word = %s", [key]).fetchone():
                return ""
            # Misspellings rarely change the first letter; limiting to it keeps this fast.
            rows = cursor.execute(
                f"SELECT word, docs FROM {WORD_TABLE} WHERE word >= %s AND word < %s "
                "AND length(word) BETWEEN %s AND %s",
                [key[0], chr(ord(key[0]) + 1), len(key) - 2, len(key) + 2],
            ).fetchall()
        return closest(key, rows)

    def related(self, document: PieceDocument, limit: int = 5) -> list[Hit]:
        """Pieces sharing the most distinctive title, tag and synopsis words.

        Ranked on the short fields' own table (the full table's postings carry every body
        position too, which made this ~215 ms of a piece page at 100,000 pieces), over the
        RELATED_WORDS rarest of the piece's words that other pieces also use, as on
        PostgreSQL: an OR of 24 words, common ones included, ranked tens of thousands of
        pieces by BM25 on every piece page (~480 ms at 100,000).
        """
        words = related_words(document)
        if not words:
            return []
        with self._cursor() as cursor:
            marks = ", ".join(["%s"] * len(words))
            counts = dict(
                cursor.execute(
                    f"SELECT word, docs FROM {WORD_TABLE} WHERE word IN ({marks})", words
                ).fetchall()
            )
            expr = " OR ".join(fts_quote(word) for word in rarest(words, counts))
            rows = cursor.execute(
                f"SELECT rowid, {_HEAD_BM25} FROM {HEAD_TABLE} WHERE {HEAD_TABLE} MATCH %s "
                f"AND rowid != %s ORDER BY {_HEAD_BM25} LIMIT %s",
                [f"{{title tags synopsis}} : ({expr})", document.piece_id, limit],
            ).fetchall()
        return [Hit(pk, -float(score)) for pk, score in rows]

    # --- maintenance ---------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Index tables that are missing or unreadable (reading one row of each)."""
        found = []
        with self._cursor() as cursor:
            for table in (FTS_TABLE, HEAD_TABLE, WORD_TABLE, STATE_TABLE):
                try:
                    cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
                except IndexUnavailable as exc:
                    found.append(f"the index table {table} is unavailable: {exc}")
        return found

    def indexed_digests(self) -> dict[int, str]:
        with self._cursor() as cursor:
            return dict(cursor.execute(f"SELECT rowid, digest FROM {FTS_TABLE}").fetchall())

    def size_bytes(self) -> int:
        with self._cursor() as cursor:
            try:
                row = cursor.execute(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search\\_%' ESCAPE '\\'"
                ).fetchone()
                return int(row[0] or 0)
            except DatabaseError:
                row = cursor.execute(f"SELECT sum(length(block)) FROM {FTS_TABLE}_data").fetchone()
                return int(row[0] or 0)


def wal_bytes() -> int:
    """The size of the database's WAL file (0 without one): what the saves wrote since the
    log last started over, as the saving connections set ``journal_size_limit=0``
    (library/settings.py), which truncates the file whenever a writer starts it over after
    a complete checkpoint.

    ``os.stat``, not SQLite: ``PRAGMA wal_checkpoint`` would checkpoint, the work this keeps
    out of the save, and opening the ``-shm`` file to read its header would drop this
    process's POSIX locks on it when closed (another process then re-initialises the
    shared memory under SQLite's mapping: a bus error, found while building this).
    """
    name = connection.settings_dict["NAME"]
    try:
        return os.stat(f"{name}-wal").st_size
    except (OSError, TypeError):  # an in-memory database, or no WAL yet
        return 0


_SECURE_DELETE = {0: "OFF", 1: "ON", 2: "FAST"}  # PRAGMA secure_delete's answers, as settable


@contextmanager
def _index_pages_freed(cursor) -> Iterator[None]:
    """Free the index's pages without zeroing each one (``PRAGMA secure_delete = FAST``).

    Debian's SQLite is built with secure_delete on: every page a statement frees is
    overwritten with zeros and written to the WAL. Dropping a 100,000-piece index took
    13.8 s of a 67-s rebuild that way and 0.3 s with FAST, which still clears what it
    deletes from b-tree pages when that costs no extra write, but leaves freed pages as
    they were. Only the index's own pages are freed here: the catalogue's text as
    indexed, and the words of pieces deleted since their segment was last merged. The
    rebuild writes the new index over most of them. The connection's own setting is
    restored afterwards, for everything else it writes (deleted catalogue rows stay
    zeroed).
    """
    before = cursor.execute("PRAGMA secure_delete").fetchone()[0]
    cursor.execute("PRAGMA secure_delete = FAST")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA secure_delete = {_SECURE_DELETE[before]}")


class _GuardedCursor:
    """A cursor whose "no such table" becomes IndexUnavailable (run migrate/rebuild_index)
    and whose rejected MATCH expression becomes QueryRejected."""

    def __enter__(self):
        self._cursor = connection.cursor()
        self._inner = self._cursor.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._cursor.__exit__(*exc)

    def execute(self, sql: str, params=None):
        try:
            self._inner.execute(sql, params)
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            if "no such table" in str(exc) or "malformed" in str(exc):
                raise IndexUnavailable(str(exc)) from exc
            if str(exc).startswith(_REJECTED):
                raise QueryRejected(str(exc)) from exc
            raise
        return self._inner

    def executemany(self, sql: str, params) -> None:
        try:
            self._inner.executemany(sql, params)
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            if "no such table" in str(exc):
                raise IndexUnavailable(str(exc)) from exc
            raise


def _id_array(rows) -> np.ndarray:
    """The ids of a ``group_concat`` row: one string numpy parses in C (fetching a hundred
    thousand rows one by one into Python cost ten times more than the match itself)."""
    return _parse_ids(rows.fetchone()[0])


def _parse_ids(text: str | None) -> np.ndarray:
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, np.int64)


def _seek_each(cursor, columns: str, params: list, match: str, ids: list[int]) -> list[tuple]:
    """``columns`` of the rows of ``ids`` that match ``match``, each row sought on its own.

    Not ``rowid IN (…)``: after the row it was asked for, FTS5 (3.40) looks for the
    expression's next match before it tests the rowid bound, and for a phrase whose
    matches are far apart that means checking every piece holding its words on the way
    (``"esor syria conflict"``'s 4 rows at 100,000 pieces: 9.2 ms as an IN list, 0.5 ms
    with ``LIMIT 1`` each, which stops at the row asked for). One correlated subquery per
    id, its columns as a JSON array: one statement, one plan.
    """
    rows = cursor.execute(
        f"SELECT (SELECT json_array({columns}) FROM {FTS_TABLE} "
        f"WHERE {FTS_TABLE} MATCH %s AND rowid = j.value LIMIT 1) FROM json_each(%s) j",
        [*params, match, json.dumps(ids)],
    ).fetchall()
    return [tuple(json.loads(row)) for (row,) in rows if row is not None]


def _snippet_sql(column: int) -> str:
    return f"snippet({FTS_TABLE}, {column}, %s, %s, '…', {_SNIPPET_TOKENS})"


def _ids_only(where: str) -> bool:
    """Whether an SQL filter tests piece ids only (topic, region, year), not piece columns."""
    return bool(where) and "p.date" not in where and "p.type" not in where
