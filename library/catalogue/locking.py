"""Serialise piece saves on PostgreSQL, as SQLite's IMMEDIATE transactions already do.

Saving a piece reads, then writes: it picks a free citation key and finds or creates its
authors by name. Under SQLite the saving transaction holds the database's one write lock
from its first statement, so two saves never interleave. PostgreSQL (READ COMMITTED) lets
them interleave: two editors adding pieces by the same author in the same year compute
the same key and one fails on the unique index; a new author typed by both is created
twice; two edits of one byline collide on its unique constraint. A transaction-scoped
advisory lock restores one-save-at-a-time for piece saves only: readers never wait, other
writes are untouched, and PostgreSQL releases it at commit or rollback.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections

# An arbitrary 64-bit key, the same in every app instance: ASCII "dossier" + "p"(iece).
PIECE_SAVE_LOCK = int.from_bytes(b"dossierp", "big") & 0x7FFF_FFFF_FFFF_FFFF


def lock_piece_saves(using: str = DEFAULT_DB_ALIAS) -> None:
    """Wait until no other transaction is saving a piece; held until this one ends."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return  # SQLite: the IMMEDIATE transaction already holds the write lock
    if not connection.in_atomic_block:
        raise RuntimeError("lock_piece_saves() must run inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PIECE_SAVE_LOCK])
