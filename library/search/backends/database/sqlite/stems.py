"""Words stemmed exactly as the index's FTS5 tokenizer stems them.

SQLite has no SQL function that runs a tokenizer, so the words are indexed in a private
in-memory FTS5 table with the same tokenizer and read back through ``fts5vocab``: one
connection per thread (sqlite3 connections stay in their thread), never the catalogue's.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

# The index tables' tokenizer (backend.CREATE_SQL): Porter stems of unicode61's words,
# diacritics removed.
TOKENIZER = "tokenize='porter unicode61 remove_diacritics 2'"

_local = threading.local()


def fts5_stems(words: Sequence[str], tokenizer: str = TOKENIZER) -> list[str]:
    """The stem FTS5 indexes for each word, in order ("" for a word it indexes nothing of).

    A word the tokenizer splits gets its first token's stem.
    """
    db = _connection(tokenizer)
    with db:
        db.executemany("INSERT INTO words(rowid, w) VALUES (?, ?)", enumerate(words, 1))
        first: dict[int, str] = {}
        for row, term in db.execute("SELECT doc, term FROM terms ORDER BY doc, offset"):
            first.setdefault(row, term)
        db.execute("DELETE FROM words")
    return [first.get(row, "") for row in range(1, len(words) + 1)]


def _connection(tokenizer: str) -> sqlite3.Connection:
    connections: dict[str, sqlite3.Connection] = getattr(_local, "connections", {})
    _local.connections = connections
    if tokenizer not in connections:
        db = sqlite3.connect(":memory:")
        db.execute(f"CREATE VIRTUAL TABLE words USING fts5(w, {tokenizer})")
        db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(words, 'instance')")
        connections[tokenizer] = db
    return connections[tokenizer]
