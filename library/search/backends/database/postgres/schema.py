"""The PostgreSQL dialect's tables, text search configuration and the SQL that fills them.

Tables (created by this app's migrations 0002, 0004, 0005 and 0006, on PostgreSQL only, whose
frozen SQL is the tables' definition; a change to them is a new migration):

* ``search_pg_doc``: the narrow row every match reads: piece id, the digest for
  check_index, date and type (for sorting, filters and the type facet), ``title`` (the
  title's own ``tsvector``, GIN-indexed: the first ranking tier) and ``vec``, the
  ``tsvector`` weighted title ``A``, authors/topics/regions ``B``, synopsis ``C``, body
  ``D``, built with the ``dossier_english`` configuration (Snowball English stemming, no
  stop words, after ``unaccent``), GIN-indexed and stored uncompressed (a phrase's recheck
  reads it; decompressing doubled that).
* ``search_pg_text``: each piece's indexed short fields (for ``ts_headline``) and
  ``head``, the weighted vector of them that ranking and related pieces read. Body
  snippets read the catalogue's own body (migration 0006 dropped the copy here).
* ``search_pg_word``: the catalogue's own folded words (short fields) with document counts,
  the candidates for "did you mean".
* ``search_pg_write_number``: a sequence (migration 0010) that numbers every index write,
  so a save knows when to ask the worker to merge the text indexes' pending lists
  (backend.upkeep). It replaced ``search_pg_change``, a table that logged (transaction,
  piece) for every write and grew by a row a save until the next rebuild: the search's
  facets count over the catalogue's arrays, kept up to date from the catalogue's own log
  (facets.py), so only the log's number was still read.
* ``search_pg_pair_word``: the catalogue's common words with their shares of the pieces
  and a small number each (``code``), chosen when the index is cleared for a rebuild
  (``choose_pair_words``). Each doc row's ``pairs`` (GIN-indexed, migration 0006) is an
  ``integer[]`` of the adjacent pairs of them in ``vec``, each pair one number
  (``first * PAIR_CODE_BASE + second``), so a two-word phrase of common words ("security
  policy") is one exact index lookup instead of rechecking the word order in half the
  catalogue's vectors, and a longer one rechecks only the pieces holding all its pairs
  (see ``pairs_of`` and compiler.py). Numbers, not a ``tsvector`` of "first second"
  lexemes with positions: 2 KB a piece instead of 12 KB, and a third less to compute.
"""

from __future__ import annotations

import datetime
import math
import random
import string

from library.catalogue.models import Piece
from library.search.documents import PieceDocument, documents_for

CONFIG = "dossier_english"
# Its stemming dictionary (Snowball English without stop words; migration 0002).
STEM_DICTIONARY = "dossier_english_stem"
TSQUERY = f"to_tsquery('{CONFIG}', %s)"
#: ASCII punctuation from which PostgreSQL's parser builds tokens that are not words: paths
#: and fractions ("Israel/Palestine", "9/11"), hosts, URLs, e-mail addresses, version
#: numbers, hyphenated compounds, and tags ("<box>", which it drops). Each such token is one
#: lexeme, so ``Palestine`` did not find "Israel/Palestine". The text it parses gets spaces
#: for these, so a word is letters and digits, as on the other engines (text.WORD). ``%`` and
#: ``'`` form no such token (and would need escaping in the SQL).
PUNCTUATION = "".join(c for c in string.punctuation if c not in "%'")
#: PUNCTUATION as spaces: ``text.translate(WORDS_ONLY)`` is what the parser is given, for
#: documents (insert_params, choose_pair_words) and queries (compiler.quote, phrase pairs).
WORDS_ONLY = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))


# The narrow rows every match reads, and each piece's text (snippets, related pieces).
DOC_TABLE = "search_pg_doc"
TEXT_TABLE = "search_pg_text"
WORD_TABLE = "search_pg_word"
PAIR_WORD_TABLE = "search_pg_pair_word"
TABLES = (DOC_TABLE, TEXT_TABLE, WORD_TABLE, PAIR_WORD_TABLE)
# Numbers the index writes (when upkeep is due); not transactional, which upkeep does not need.
WRITE_SEQUENCE = "search_pg_write_number"
# Everything migrate creates for the index (check_index reports a missing one).
RELATIONS = (*TABLES, WRITE_SEQUENCE)
# A tsvector holds at most 1 MB; a body longer than this is indexed up to here.
MAX_INDEXED_CHARS = 400_000
# Pair words: below PAIR_MIN_PIECES pieces a phrase's recheck is cheap and none are chosen;
# above it, the words in at least PAIR_SHARE_PRODUCT of a sample of PAIR_SAMPLE pieces, with
# that share. A pair is indexed when its words' shares multiply to PAIR_SHARE_PRODUCT, so
# a phrase whose pair is not indexed has few candidates to recheck (~5 % of the pieces).
PAIR_MIN_PIECES = 5_000
PAIR_SAMPLE = 1_000
PAIR_SHARE_PRODUCT = 0.05
# A pair's number is first * PAIR_CODE_BASE + second, so every number fits an ``integer``;
# at most MAX_PAIR_WORDS pair words (the most common are kept).
PAIR_CODE_BASE = 32_768
MAX_PAIR_WORDS = PAIR_CODE_BASE - 1

# The text indexes: dropped while rebuild_index writes every row, created again after.
GIN_INDEXES = (
    (f"{DOC_TABLE}_vec", DOC_TABLE, "vec"),
    (f"{DOC_TABLE}_title", DOC_TABLE, "title"),
    (f"{DOC_TABLE}_pairs", DOC_TABLE, "pairs"),
    (f"{TEXT_TABLE}_head", TEXT_TABLE, "head"),
)
GIN_INDEX_NAMES = [name for name, _table, _column in GIN_INDEXES]
# Their storage parameters (migration 0009, and rebuild_index when it creates them again):
# the pending list each insert appends to is merged into the index by the worker's upkeep
# (backend.upkeep) every SEARCH_UPKEEP_EVERY index writes, long before this limit, at which the
# insert that reaches it merges it inside its save (300-600 ms at 100,000 pieces). Set on
# the index (4 MB, the server's default) so the worker's head start does not depend on the
# server's setting.
GIN_STORAGE = "gin_pending_list_limit = 4096"


def indexed_pair(first: str, second: str) -> str:
    """SQL: whether the pair of words with these pair-word rows is indexed (one definition
    for the rows' pairs and the phrase compiler, which must agree exactly)."""
    return f"{first}.share * {second}.share >= {PAIR_SHARE_PRODUCT}"


def pair_code(first: str, second: str) -> str:
    """SQL: the number of the pair of words with these pair-word rows."""
    return f"{first}.code * {PAIR_CODE_BASE} + {second}.code"


def pairs_of(vector: str) -> str:
    """A scalar subquery: the numbers of the indexed adjacent pairs in ``vector``.

    Computed from the finished vector, so a pair is in it exactly when a recheck of the
    two-word phrase on that vector would succeed (the same positions, the same limits).
    """
    positions = (
        f"SELECT s.code, s.share, p FROM unnest({vector}) u "
        f"JOIN {PAIR_WORD_TABLE} s ON s.word = u.lexeme CROSS JOIN LATERAL unnest(u.positions) p"
    )
    return (
        f"(WITH positions AS ({positions}) "
        f"SELECT coalesce(array_agg(DISTINCT {pair_code('a', 'b')}), '{{}}')::integer[] "
        "FROM positions a JOIN positions b ON b.p = a.p + 1 "
        f"WHERE {indexed_pair('a', 'b')})"
    )


def words_cte(*after: str) -> str:
    """The net change in the words' document counts, upserted after the parts ``after``.

    Upserted in sorted order, so concurrent writes lock the word rows in one order and
    never deadlock. Those locks last until the transaction ends, and a common word is in
    nearly every write, so a write that took them first made every other write wait for
    all of its statement. ``after`` names the statement's other data-modifying parts
    (each with a RETURNING): the upsert counts their rows first, so PostgreSQL must finish
    them before the first word. Without that PostgreSQL ran this part first (a WITH's
    data-modifying parts run in no promised order), and rebuild_index's two connections
    took turns: 332 pieces/s, one's rate.
    """
    finished = " + ".join(f"(SELECT count(*) FROM {part})" for part in after)
    return (
        f"w AS (INSERT INTO {WORD_TABLE} AS w (word, docs) "
        "SELECT * FROM unnest(%s::text[], %s::int[]) "
        + (f"WHERE {finished} >= 0 " if after else "")
        + "ON CONFLICT (word) DO UPDATE SET docs = w.docs + excluded.docs)"
    )


# The write's number, which says when upkeep is due. The parts of a write's one statement
# (INSERT_SQL, COUNT_SQL) were each their own round trip.
LOG_CTE = f"l AS (SELECT nextval('{WRITE_SEQUENCE}') AS n)"
# A removal's counts and number (nothing inserted).
COUNT_SQL = f"WITH {words_cte()}, {LOG_CTE} SELECT max(n) FROM l"
# Both rows of the pieces deleted at once: each text row's short fields (their words leave
# the counts), and a row per deleted doc row (``doc`` true, no text).
REMOVE_SQL = (
    f"WITH d AS (DELETE FROM {DOC_TABLE} WHERE piece_id = ANY(%s) RETURNING piece_id), "
    f"t AS (DELETE FROM {TEXT_TABLE} WHERE piece_id = ANY(%s) "
    "RETURNING title, authors, tags, synopsis) "
    "SELECT false, title, authors, tags, synopsis FROM t "
    "UNION ALL SELECT true, NULL, NULL, NULL, NULL FROM d"
)

# One statement per batch of pieces (rebuild_index writes 1,000 at a time; a save, one):
# the documents arrive as parallel arrays, the short fields' vectors are computed once for
# both rows, and the pairs come from the finished vector, so they hold exactly the
# positions a phrase's recheck reads. One statement per piece cost a round trip and a
# plan per piece.
_COLUMNS = (
    ("piece_id", "bigint"), ("title", "text"), ("authors", "text"), ("tags", "text"),
    ("synopsis", "text"), ("folded", "boolean"), ("digest", "text"), ("date", "date"),
    ("type", "text"),
    # The text the vectors are made of: the fields with PUNCTUATION as spaces, spaced in
    # Python (insert_params). translate() in SQL compares each character with each of
    # PUNCTUATION's: over a body it cost more than to_tsvector itself (0.9 against 0.6 ms)
    # and took a fifth off the rebuild's rate; str.translate takes 9 µs.
    ("title_words", "text"), ("people_words", "text"), ("synopsis_words", "text"),
    ("body_words", "text"),
)  # fmt: skip
_UNNEST = ", ".join(f"%s::{kind}[]" for _name, kind in _COLUMNS)
INSERT_SQL = (
    f"WITH s AS (SELECT * FROM unnest({_UNNEST}) AS s({', '.join(n for n, _ in _COLUMNS)})), "
    f"v AS MATERIALIZED (SELECT s.*, setweight(to_tsvector('{CONFIG}', s.title_words), 'A') AS a, "
    f"setweight(to_tsvector('{CONFIG}', s.people_words), 'B') || "
    f"setweight(to_tsvector('{CONFIG}', s.synopsis_words), 'C') AS bc FROM s), "
    f"t AS (INSERT INTO {TEXT_TABLE} (piece_id, title, authors, tags, synopsis, folded, head) "
    "SELECT piece_id, title, authors, tags, synopsis, folded, a || bc FROM v RETURNING 1), "
    f"f AS MATERIALIZED (SELECT v.piece_id, v.digest, v.date, v.type, v.a, v.a || v.bc || "
    f"setweight(to_tsvector('{CONFIG}', v.body_words), 'D') AS vec "
    "FROM v), "
    f"d AS (INSERT INTO {DOC_TABLE} (piece_id, digest, date, type, title, vec, pairs) "
    f"SELECT piece_id, digest, date, type, a, vec, {pairs_of('f.vec')} FROM f RETURNING 1), "
    f"{words_cte('t', 'd')}, {LOG_CTE} "
    "SELECT max(n) FROM l"
)


def row_date(d: PieceDocument) -> datetime.date | None:
    """The date the doc row keeps for sorting (the digest holds the year only)."""
    return datetime.date.fromordinal(d.date_ordinal) if d.date_ordinal else None


def insert_params(documents: list[PieceDocument], counts: dict[str, int]) -> list[list]:
    """INSERT_SQL's parameters: one array per column of ``_COLUMNS``, a row per document,
    then the word count changes (count_params).

    A body is cut to MAX_INDEXED_CHARS here, before it is sent: a rebuild's chunk of long
    pieces (reports, books) was sent whole, to be cut in SQL.
    """
    rows = [
        (
            d.piece_id, d.title, d.authors, d.tags, d.synopsis, d.folded, d.digest,
            row_date(d), d.type, d.title.translate(WORDS_ONLY),
            f"{d.authors}\n{d.tags}".translate(WORDS_ONLY), d.synopsis.translate(WORDS_ONLY),
            d.body[:MAX_INDEXED_CHARS].translate(WORDS_ONLY),
        )
        for d in documents
    ]  # fmt: skip
    return [*(list(column) for column in zip(*rows, strict=True)), *count_params(counts)]


def count_params(counts: dict[str, int]) -> list[list]:
    """words_cte's parameters: the non-zero changes, in word order."""
    words = sorted(word for word, change in counts.items() if change)
    return [words, [counts[word] for word in words]]


# A phrase's adjacent pairs in order, from the same parser: each one's number if indexed.
PHRASE_PAIRS_SQL = (
    f"WITH q AS (SELECT u.lexeme AS w, p FROM unnest(to_tsvector('{CONFIG}', %s)) u, "
    "unnest(u.positions) p) "
    f"SELECT CASE WHEN {indexed_pair('sa', 'sb')} THEN {pair_code('sa', 'sb')} END "
    "FROM q a JOIN q b ON b.p = a.p + 1 "
    f"LEFT JOIN {PAIR_WORD_TABLE} sa ON sa.word = a.w "
    f"LEFT JOIN {PAIR_WORD_TABLE} sb ON sb.word = b.w ORDER BY a.p"
)


def choose_pair_words(cursor) -> tuple[list[str], list[float]]:
    """The lexemes in at least PAIR_SHARE_PRODUCT of a random sample of the pieces (the
    MAX_PAIR_WORDS most common of them), in lexeme order: their codes are 1, 2, …"""
    ids = list(Piece.objects.values_list("pk", flat=True))
    if len(ids) < PAIR_MIN_PIECES:
        return [], []
    sample = documents_for(random.sample(ids, min(PAIR_SAMPLE, len(ids))))
    texts = ["\n".join(d.fields())[:MAX_INDEXED_CHARS].translate(WORDS_ONLY) for d in sample]
    cursor.execute(
        "SELECT u.lexeme, count(*)::real / %s FROM unnest(%s::text[]) t, "
        f"unnest(to_tsvector('{CONFIG}', t)) u "
        "GROUP BY u.lexeme HAVING count(*) >= %s ORDER BY count(*) DESC, u.lexeme LIMIT %s",
        [len(texts), texts, math.ceil(PAIR_SHARE_PRODUCT * len(texts)), MAX_PAIR_WORDS],
    )
    rows = sorted(cursor.fetchall())
    return [word for word, _ in rows], [share for _, share in rows]
