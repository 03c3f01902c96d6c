"""PostgreSQL dialect of the database engine: a weighted ``tsvector`` with GIN indexes.

Writes and reads for the tables of schema.py: the query is compiled by compiler.py, ranked
in tiers by ranking.py, and its facets counted by facets.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from psycopg.errors import DeadlockDetected

from library.catalogue.models import Piece
from library.search.backends.base import IndexUnavailable, QueryRejected, SearchBackend
from library.search.backends.database.postgres.compiler import compile_query, quote
from library.search.backends.database.postgres.facets import facet_counts
from library.search.backends.database.postgres.ranking import Match, index_scans, rank
from library.search.backends.database.postgres.schema import (
    CONFIG,
    COUNT_SQL,
    DOC_TABLE,
    GIN_INDEX_NAMES,
    GIN_INDEXES,
    GIN_STORAGE,
    INSERT_SQL,
    PAIR_WORD_TABLE,
    PHRASE_PAIRS_SQL,
    PUNCTUATION,
    RELATIONS,
    REMOVE_SQL,
    STEM_DICTIONARY,
    TABLES,
    TEXT_TABLE,
    TSQUERY,
    WORD_TABLE,
    WORDS_ONLY,
    WRITE_SEQUENCE,
    choose_pair_words,
    count_params,
    insert_params,
    row_date,
)
from library.search.backends.database.postgres.snippets import (
    query_terms,
    window,
    without_weights,
)
from library.search.backends.shared import (
    build_facets,
    closest,
    rarest,
    related_words,
    restore_snippets,
    short_words,
)
from library.search.documents import PieceDocument
from library.search.query import ParsedQuery
from library.search.results import Hit, SearchResults, Sort
from library.search.text import MARK_START, clean_for_index, fold
from library.search.vocab import Vocabulary

# The memory each text index's build may use after a rebuild.
BUILD_MEMORY = "512MB"
# The first key of the advisory locks that keep a rebuild's chunk and a save of the same
# pieces apart (``PostgresBackend._lock``; the second is the span): ASCII "dsix".
INDEX_LOCK = int.from_bytes(b"dsix", "big")
_LOCKING = "SELECT count({function}(%s, span)) FROM unnest(%s::int[]) AS span"
_SHARED = "pg_advisory_xact_lock_shared"
# ts_headline reads text with the parser that drops tags and makes "Israel/Palestine" one
# token: the punctuation the index turns into spaces (schema.PUNCTUATION) is hidden from it
# as private-use characters, which it takes for spaces, and put back after (a stored one
# would come back as punctuation). They are from plane 15's private-use area, rarely used,
# not the BMP's (U+E000 on), where some fonts put ligatures that reach a PDF's text.
_HIDDEN = "".join(chr(0xF0000 + i) for i in range(len(PUNCTUATION)))
_HIDE = str.maketrans(PUNCTUATION, _HIDDEN)
_SHOWN = str.maketrans(_HIDDEN, PUNCTUATION)
_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel=\x03, MaxWords=30, MinWords=12, ShortWord=2, "
    'MaxFragments=2, FragmentDelimiter="…"'
)
# The marked text of ``d.t``, its punctuation hidden (the parameters: the highlight query,
# _HEADLINE_OPTIONS). Body windows are hidden in Python (str.translate, µs); the short
# fields the index keeps, by translate() in SQL, which is slow per character (~0.1 µs)
# but they are short.
_HEADLINE = f"ts_headline('{CONFIG}', d.t, {TSQUERY}, %s)"


def _tally(
    pieces_words: list[set[str]], change: int = 1, into: dict[str, int] | None = None
) -> dict[str, int]:
    """Word -> change in its document count, ``change`` per piece holding it, added to ``into``."""
    counts = dict(into or {})
    for words in pieces_words:
        for word in words:
            counts[word] = counts.get(word, 0) + change
    return counts


class PostgresBackend(SearchBackend):
    name = "database"
    transactional = True
    index_table = DOC_TABLE  # a row here means the index has been written
    # Each connection's server process computes its pieces' vectors on one core.
    rebuild_workers = max(1, min(4, os.cpu_count() or 1))
    # Saves and a rebuild's chunks lock pieces in spans of 64 ids (``_lock``): a chunk of
    # 1,000 consecutive pieces takes 16 locks, not 1,000.
    rebuild_span = 64

    def __init__(self) -> None:
        # Per thread: whether this thread's last index write was a SEARCH_UPKEEP_EVERY-th.
        self._due = threading.local()

    # --- writing -------------------------------------------------------------------------

    def add(self, document: PieceDocument) -> None:
        """Index one piece on the current connection (so inside the caller's transaction)."""
        with _cursor() as cursor:
            # The piece's span locked first (the lateral join reads the lock's one row
            # before it looks for the doc row, which may not exist), then its row.
            cursor.execute(
                f"SELECT d.digest, d.date FROM ({_LOCKING.format(function=_SHARED)}) l "
                f"LEFT JOIN LATERAL (SELECT digest, date FROM {DOC_TABLE} "
                "WHERE piece_id = %s FOR UPDATE) d ON true",
                [INDEX_LOCK, self._spans([document.piece_id]), document.piece_id],
            )
            old = cursor.fetchone()
            # The digest has the year only; the row also keeps the exact date for sorting.
            if old == (document.digest, row_date(document)):
                return  # unchanged: several signals fire for one save
            _, gone = self._remove(cursor, [document.piece_id])
            # One upsert of the net change: an edit rarely changes the short fields' words.
            self._insert(cursor, [document], _tally(gone, -1))

    def add_bulk(self, documents: Iterable[PieceDocument]) -> int:
        """Insert documents that are not in the index yet (rebuild's fast path)."""
        batch = list(documents)
        with _cursor() as cursor:
            _, gone = self._remove(cursor, [d.piece_id for d in batch])  # any half-present row
            self._insert(cursor, batch, _tally(gone, -1))  # one write number for the batch
        return len(batch)

    def delete(self, piece_id: int) -> None:
        with _cursor() as cursor:
            self._lock(cursor, [piece_id], shared=True)
            removed, gone = self._remove(cursor, [piece_id])
            if removed:
                counts = _tally(gone, -1)
                cursor.execute(COUNT_SQL, count_params(counts))
                self._note_write_number(cursor.fetchone()[0])
                self._drop_unused_words(cursor, counts)

    def lock_chunk(self, piece_ids: list[int]) -> None:
        """A save of one of the pieces under way (it holds its span shared from its
        ``add``) finishes first; one that comes later waits for the chunk's commit, then
        finds its rows and replaces them. Without it, a save in between was lost on the
        duplicate key of the chunk's uncommitted row, or the chunk wrote the copy it had
        read over the saved one."""
        with _cursor() as cursor:
            self._lock(cursor, piece_ids, shared=False)

    def retryable(self, error: DatabaseError) -> bool:
        # A transaction that writes the index twice (a queryset's delete: a signal a
        # piece) can hold word counts from its first write while its second waits for a
        # chunk's span, and the chunk for those counts; PostgreSQL cancels one of the two.
        return isinstance(error.__cause__, DeadlockDetected)

    def reserve(self, piece_ids: list[int]) -> None:
        with _cursor() as cursor:
            self._lock(cursor, piece_ids, shared=True)

    @classmethod
    def _lock(cls, cursor, piece_ids: list[int], *, shared: bool) -> None:
        """Lock the pieces' spans of ``rebuild_span`` ids until the transaction ends:
        shared by saves (which never wait for each other here), exclusive by a rebuild's
        chunk. In ascending order, so that two lockers never wait for each other in turn."""
        function = _SHARED if shared else "pg_advisory_xact_lock"
        cursor.execute(_LOCKING.format(function=function), [INDEX_LOCK, cls._spans(piece_ids)])

    @classmethod
    def _spans(cls, piece_ids: list[int]) -> list[int]:
        return sorted({piece_id // cls.rebuild_span for piece_id in piece_ids})

    def optimize(self) -> None:
        """Fresh planner statistics and visibility map after a rebuild.

        Without them the first searches over freshly written rows ran about twice as slow
        (every matched row's visibility checked). VACUUM cannot run inside a transaction,
        so there only ANALYZE runs; autovacuum does the rest later.
        """
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with _cursor() as cursor:
            cursor.execute(f"{command} {', '.join(TABLES)}")

    def clear(self) -> None:
        """Empty the index and choose the pair words for the catalogue as it is now.

        In one transaction with the TRUNCATE, so no row indexed with the old pair words
        survives: a phrase may then rely on every row's pairs (compiler.py).
        """
        with transaction.atomic(), _cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)}")
            words, shares = choose_pair_words(cursor)
            cursor.execute(
                f"INSERT INTO {PAIR_WORD_TABLE} (word, share, code) "
                "SELECT w, s, n FROM unnest(%s::text[], %s::real[]) WITH ORDINALITY AS p(w, s, n)",
                [words, shares],
            )
            cursor.execute(COUNT_SQL, count_params({}))  # numbers the write (upkeep)

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
                        f"USING gin ({column}) WITH ({GIN_STORAGE})"
                    )
            finally:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [memory])
        self.optimize()

    def problems(self) -> list[str]:
        """Index tables (or the write sequence) that do not exist, then text indexes that are
        missing or invalid."""
        with _cursor() as cursor:
            cursor.execute(
                "SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NULL", [list(RELATIONS)]
            )
            kind = {WRITE_SEQUENCE: "sequence"}
            missing = [
                f"the index {kind.get(name, 'table')} {name} does not exist"
                for (name,) in cursor.fetchall()
            ]
            if missing:
                return missing
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
    def _phrase_pairs(words) -> list[int | None]:
        """A phrase's adjacent pairs of stems, in order: each one's number if indexed."""
        with _cursor() as cursor:
            cursor.execute(
                PHRASE_PAIRS_SQL, [clean_for_index(" ".join(words)).translate(WORDS_ONLY)]
            )
            return [code for (code,) in cursor.fetchall()]

    def _insert(self, cursor, documents: list[PieceDocument], counts: dict[str, int]) -> None:
        """Write the documents' rows, add their short words to ``counts`` (the removed rows'
        changes) and write those, and number the write: one statement (INSERT_SQL)."""
        if not documents:
            return
        short = [short_words(d.title, d.authors, d.tags, d.synopsis) for d in documents]
        counts = _tally(short, 1, counts)
        cursor.execute(INSERT_SQL, insert_params(documents, counts))
        self._note_write_number(cursor.fetchone()[0])
        self._drop_unused_words(cursor, counts)

    @staticmethod
    def _remove(cursor, piece_ids: list[int]) -> tuple[bool, list[set[str]]]:
        """Delete the pieces' rows: whether there were any, and each one's short words."""
        if not piece_ids:
            return False, []
        cursor.execute(REMOVE_SQL, [piece_ids, piece_ids])
        rows = cursor.fetchall()
        return bool(rows), [short_words(*fields) for doc, *fields in rows if not doc]

    @staticmethod
    def _drop_unused_words(cursor, counts: dict[str, int]) -> None:
        """Delete the words whose count a write lowered and no piece uses now."""
        fewer = sorted(word for word, change in counts.items() if change < 0)
        if fewer:
            cursor.execute(f"DELETE FROM {WORD_TABLE} WHERE word = ANY(%s) AND docs <= 0", [fewer])

    def _note_write_number(self, number: int | None) -> None:
        """Remember whether this write's number was a SEARCH_UPKEEP_EVERY-th one.

        A save of a typical piece adds two 8 KB pages to the body (``vec``) and pairs
        indexes' pending lists, so ~250 saves fill 4 MB (GIN_STORAGE); merging 100 saves'
        worth took the worker ~300 ms at 100,000 pieces. A run of long bodies can still
        reach the limit first: that insert merges, as without a worker.
        """
        every = settings.SEARCH_UPKEEP_EVERY
        if number is not None and every > 0 and number % every == 0:
            self._due.pending = True

    # --- upkeep --------------------------------------------------------------------------

    def upkeep_due(self) -> bool:
        """Whether this thread's last writes included a SEARCH_UPKEEP_EVERY-th (asked once)."""
        due = getattr(self._due, "pending", False)
        self._due.pending = False
        return due

    def upkeep(self) -> dict[str, int]:
        """Merge the text indexes' pending lists into the indexes, off the saving request.

        ``gin_clean_pending_list`` on each valid GIN index (a rebuild may have dropped them,
        or be building them). Saves go on meanwhile: an insert that fills a pending list
        while a merge runs leaves the merging to it instead of waiting.
        """
        with _cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, gin_clean_pending_list(i.indexrelid) "
                "FROM unnest(%s::text[]) AS name "
                "JOIN pg_index i ON i.indexrelid = to_regclass(name) "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indisvalid AND i.indisready ORDER BY c.relname",
                [GIN_INDEX_NAMES],
            )
            merged = dict(cursor.fetchall())
        return {"pending_pages": sum(merged.values()), "gin_indexes": len(merged)}

    # --- searching -----------------------------------------------------------------------

    def search(
        self, query: ParsedQuery, *, sort: Sort = Sort.RELEVANCE, offset: int = 0, limit: int = 20
    ) -> SearchResults:
        """Ranked page, total and facets over the whole match, snippets for the page only."""
        vocabulary = Vocabulary.load()
        compiled = compile_query(query.root, vocabulary, self._phrase_pairs, _stems)
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
            # facets in SQL and leaves the catalogue's shared arrays alone (facets.py).
            cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
            shared = cursor.fetchone()[0]
            match = Match(compiled, base, params, sort, offset, limit, shared)
            with index_scans(cursor):
                ranked = rank(cursor, match)
            rows, total, counts = ranked.rows, ranked.total, ranked.counts
            if isinstance(counts, np.ndarray):  # ``shared``: the statement listed the ids
                counts = facet_counts(cursor, connection.alias, counts) if total else {}
            snippets = self._snippets(cursor, compiled.highlight, [pk for pk, _ in rows])
        hits = [Hit(pk, float(score or 0.0), snippets.get(pk, "")) for pk, score in rows]
        facets = build_facets(counts, vocabulary) if total else {}
        return SearchResults(hits=hits, total=total, facets=facets, hints=list(compiled.hints))

    @staticmethod
    def _snippets(cursor, highlight: str | None, ids: list[int]) -> dict[int, str]:
        """``ts_headline`` of the synopsis when it matches, else of the body, else the title.

        Field by field, so only pieces whose short synopsis does not match pay for a
        headline over their body, and that over a window around the query's first matches
        (``_body_windows``). The body is the catalogue's own, folded here as documents.py
        folds it for indexing: the index keeps no second copy of every body (a third of a
        GB at 100,000 pieces) for the 20 a page shows.
        """
        if not highlight or not ids:
            return {}
        snippets: dict[int, str] = {}
        folded: set[int] = set()

        def keep(headlines: list[tuple]) -> list[int]:
            for pk, was_folded, marked in headlines:
                if marked and MARK_START in marked:
                    snippets[pk] = marked.translate(_SHOWN)
                    if was_folded:
                        folded.add(pk)
            return [pk for pk in ids if pk not in snippets]

        remaining = keep(_field_headlines(cursor, "synopsis", highlight, ids))
        windows = _body_windows(cursor, highlight, _bodies(cursor, remaining))
        remaining = keep(_window_headlines(cursor, highlight, windows))
        keep(_field_headlines(cursor, "title", highlight, remaining))
        restored = restore_snippets({pk: snippets[pk] for pk in folded})
        return {**snippets, **restored}

    # --- vocabulary ----------------------------------------------------------------------

    def document_count(self, word: str) -> int:
        sql = f"SELECT count(*) FROM {DOC_TABLE} WHERE vec @@ {TSQUERY}"
        with transaction.atomic(), _cursor() as cursor, index_scans(cursor):
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

        The RELATED_WORDS rarest of the piece's words that other pieces also use
        (``shared.rarest``, as on SQLite): an OR of all of them ranked tens of thousands of
        pieces on every piece page (~165 ms at 100,000).
        """
        words = related_words(document)
        if not words:
            return []
        with transaction.atomic(), _cursor() as cursor, index_scans(cursor):
            cursor.execute(f"SELECT word, docs FROM {WORD_TABLE} WHERE word = ANY(%s)", [words])
            expr = " | ".join(quote(word) for word in rarest(words, dict(cursor.fetchall())))
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


def _stems(words: Sequence[str]) -> list[str]:
    """Each word's stem in the text configuration's dictionary ("" where it has none)."""
    with _cursor() as cursor:
        cursor.execute(
            f"SELECT (ts_lexize('{STEM_DICTIONARY}', w))[1] "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(w, n) ORDER BY n",
            [list(words)],
        )
        return [stem or "" for (stem,) in cursor.fetchall()]


def _bodies(cursor, ids: list[int]) -> list[tuple[int, bool, str]]:
    """(piece id, whether folding changed it, folded text) of the pieces' non-empty bodies:
    the text documents.py indexes, so the headline's words are the index's."""
    if not ids:
        return []
    cursor.execute(
        f"SELECT id, body FROM {Piece._meta.db_table} WHERE id = ANY(%s) AND body <> ''", [ids]
    )
    rows = []
    for pk, body in cursor.fetchall():
        cleaned = clean_for_index(body)
        rows.append((pk, cleaned != body, cleaned))
    return rows


def _field_headlines(cursor, column: str, highlight: str, ids: list[int]) -> list[tuple]:
    """(piece id, folded, marked text) of the headline of a short field the index keeps."""
    if not ids:
        return []
    cursor.execute(
        f"SELECT d.piece_id, d.folded, {_HEADLINE} FROM (SELECT piece_id, folded, "
        f"translate({column}, %s, %s) AS t FROM {TEXT_TABLE} "
        f"WHERE piece_id = ANY(%s) AND {column} <> '') d",
        [highlight, _HEADLINE_OPTIONS, PUNCTUATION, _HIDDEN, ids],
    )
    return cursor.fetchall()


def _body_windows(cursor, highlight: str, bodies: list[tuple]) -> list[tuple[tuple, str]]:
    """Each body with the part of it to headline (snippets.window): a window around the
    query's first matches, or all of a short body. A long body where no match is found
    keeps all of it only if the index says its body matches (what the guess cannot see),
    and is left out otherwise: such a piece matched in its title, people or tags, and a
    headline of its whole body found nothing (a third of the bodies the 100,000-piece
    query mix headlined)."""
    terms = query_terms(highlight)
    parts = [window(text, terms) for _, _, text in bodies]
    unseen = [body[0] for body, part in zip(bodies, parts, strict=True) if part is None]
    in_body = _matching_bodies(cursor, highlight, unseen)
    return [
        (body, body[2] if part is None else part)
        for body, part in zip(bodies, parts, strict=True)
        if part is not None or body[0] in in_body
    ]


def _matching_bodies(cursor, highlight: str, ids: list[int]) -> set[int]:
    """Which of the pieces' bodies hold a match for ``highlight``, from the index: the body's
    lexemes are ``vec``'s weight D (``ts_headline`` ignores weights, so the query's go)."""
    if not ids:
        return set()
    cursor.execute(
        f"SELECT piece_id FROM {DOC_TABLE} WHERE piece_id = ANY(%s) "
        f"AND ts_filter(vec, '{{d}}') @@ {TSQUERY}",
        [ids, without_weights(highlight)],
    )
    return {pk for (pk,) in cursor.fetchall()}


def _window_headlines(cursor, highlight: str, cut: list[tuple[tuple, str]]) -> list[tuple]:
    """(piece id, folded, marked text) of each (body, window)'s headline over the window;
    a window that shows no match (the guess was wrong) is headlined again whole."""
    headlines = _headlines_of(cursor, highlight, [(pk, f, part) for (pk, f, _), part in cut])
    marked = {pk for pk, _, text in headlines if text and MARK_START in text}
    missed = [body for body, part in cut if body[0] not in marked and len(part) < len(body[2])]
    return headlines + _headlines_of(cursor, highlight, missed)


def _headlines_of(cursor, highlight: str, texts: list[tuple[int, bool, str]]) -> list[tuple]:
    """``ts_headline`` of each (piece id, folded, text), in one statement."""
    if not texts:
        return []
    ids, folded, parts = zip(*texts, strict=True)
    hidden = [text.translate(_HIDE) for text in parts]
    cursor.execute(
        f"SELECT d.piece_id, d.folded, {_HEADLINE} FROM unnest(%s::bigint[], "
        "%s::boolean[], %s::text[]) AS d(piece_id, folded, t)",
        [highlight, _HEADLINE_OPTIONS, list(ids), list(folded), hidden],
    )
    return cursor.fetchall()


class _cursor:
    """A cursor whose "relation does not exist" becomes IndexUnavailable (run migrate) and
    whose rejected ``tsquery`` becomes QueryRejected."""

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
            if "does not exist" in message and any(name in message for name in RELATIONS):
                raise IndexUnavailable(str(exc)) from exc
            if "in tsquery" in message:  # "syntax error in tsquery", "no operand in tsquery"
                raise QueryRejected(message) from exc
            raise

    def executemany(self, sql: str, params) -> None:
        try:
            self._inner.executemany(sql, params)
        except DatabaseError as exc:
            if "does not exist" in str(exc):
                raise IndexUnavailable(str(exc)) from exc
            raise
