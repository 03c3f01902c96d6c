"""One read statement run on a second connection, beside the request's own (SQLite).

SQLite runs a statement on one core. A search's ids pass (every matching id, for the total
and the facets: 10-22 ms for a common word or a broad prefix at 100,000 pieces) needs
nothing the ranking tiers and snippets compute, and they need nothing from it, so it can
run on its own connection in a helper thread while the request's thread ranks and cuts
snippets; so can the body tier's BM25 pass while the head tiers run, when they cannot fill
the page. Python's ``sqlite3`` lets go of the GIL while a statement steps, so the two use
two cores (library/search/README.md, "Issue 18, twenty-first round").

Used only where the helper sees what the request's connection sees: a database file (not
an in-memory one) and no transaction open on the request's connection, whose uncommitted
writes (a test's transaction, an editor's save in progress) the helper could not read.
Outside a transaction each of the request's statements reads its own snapshot already, so
the helper's snapshot is no less consistent than the next statement's would be.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

# Two: the machines this runs on have two cores, and a search asks for one at a time. A
# read started while every helper is busy is not queued: the caller runs the statement
# itself (``begin`` gives None), since waiting could take longer than running it.
HELPERS = 2
# False turns side reads off (the benchmarks' and tests' comparison with one connection).
enabled = True

# A cancelled read's backstop: SQLite drops an interrupt that arrives while no statement
# runs on the connection, as one does between the helper taking the read and SQLite
# starting it. Every this many virtual-machine steps the helper's progress handler stops
# a cancelled statement. Rarely called for the engine's own statements, whose work is
# inside FTS5 (an ids pass over 100,000 pieces is a few hundred thousand steps): each call
# takes the GIL.
CANCEL_CHECK_STEPS = 1_000_000
_DJANGO_PLACEHOLDER = re.compile(r"(?<!%)%s")
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_free_helpers = threading.BoundedSemaphore(HELPERS)
_local = threading.local()


class SideRead:
    """A statement running on a helper's connection: ``rows()`` waits for its rows."""

    def __init__(self, path: str, sql: str, params: list) -> None:
        """Use ``begin``, which keeps a helper free for it."""
        self._path, self._sql, self._params = path, sql, params
        self._lock = threading.Lock()
        self._running: sqlite3.Connection | None = None
        self._cancelled = False
        self._future: Future = _helpers().submit(self._run)

    @classmethod
    def begin(cls, path: str, sql: str, params: list) -> SideRead | None:
        """``sql`` started on a free helper's connection to ``path``; None if none is free."""
        if not _free_helpers.acquire(blocking=False):
            return None
        try:
            return cls(path, sql, params)
        except RuntimeError:  # the executor is shutting down with the interpreter
            _free_helpers.release()
            return None

    def rows(self) -> list[tuple] | None:
        """The statement's rows; None if it failed (the caller runs it on its own
        connection, where a failure is reported as the engine reports it)."""
        return self._future.result()

    def cancel(self) -> None:
        """Stop the statement (its rows are not wanted): a helper must not spend a core on
        them while the request goes on."""
        with self._lock:
            self._cancelled = True
            if self._running is not None:
                # Only while this read is the helper's: the lock keeps the helper from
                # moving on to another statement in between. SQLite drops an interrupt
                # that arrives before the statement starts; the progress handler
                # (CANCEL_CHECK_STEPS) stops it then.
                self._running.interrupt()

    def _was_cancelled(self) -> bool:
        """The progress handler: true stops the statement (an interrupt SQLite dropped)."""
        return self._cancelled

    def _run(self) -> list[tuple] | None:
        try:
            db = _connection(self._path)
            with self._lock:
                if self._cancelled:
                    return None
                self._running = db
            db.set_progress_handler(self._was_cancelled, CANCEL_CHECK_STEPS)
            sql = _DJANGO_PLACEHOLDER.sub("?", self._sql).replace("%%", "%")
            return db.execute(sql, self._params).fetchall()
        except (sqlite3.Error, OSError):
            # Interrupted, the index or the file missing, a lock: the caller runs the
            # statement on its own connection, which raises what the engine raises for it.
            return None
        finally:
            with self._lock:
                self._running = None
            _free_helpers.release()


def available() -> bool:
    """Whether a helper would see what the request's connection sees (a database file, no
    transaction open), so that a side read may be started."""
    # The wrapper the ``connection`` proxy stands for: ``isinstance`` cannot see through it.
    db = connections[DEFAULT_DB_ALIAS]
    if not enabled or not isinstance(db, SQLiteDatabaseWrapper) or db.is_in_memory_db():
        return False
    return not db.in_atomic_block and db.get_autocommit()


def start(sql: str, params: list) -> SideRead | None:
    """``sql`` (Django's ``%s`` placeholders) started beside the request; None where a
    helper would not see what the request's connection sees, or none is free."""
    if not available():
        return None
    return SideRead.begin(str(connection.settings_dict["NAME"]), sql, params)


def _forget_helpers() -> None:
    """In a forked child: the parent's helper threads do not exist there, and an executor
    that believes they do would never run what it is given."""
    global _executor, _free_helpers, _local
    _executor = None
    _free_helpers = threading.BoundedSemaphore(HELPERS)
    _local = threading.local()


os.register_at_fork(after_in_child=_forget_helpers)


def _helpers() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(HELPERS, thread_name_prefix="search-side-read")
        return _executor


def _connection(path: str) -> sqlite3.Connection:
    """This helper thread's read-only connection to the file now at ``path``.

    Opened once per thread and kept, unlike the request's (one a request), so it is
    opened again when the file at ``path`` is another one (a database copied into place
    while the app runs): a kept connection would go on reading the replaced file. A path
    with no file raises FileNotFoundError, where ``sqlite3.connect`` would create one.
    """
    connections: dict[str, tuple[sqlite3.Connection, int]] = getattr(_local, "connections", {})
    _local.connections = connections
    inode = os.stat(path).st_ino
    known = connections.get(path)
    if known is not None and known[1] == inode:
        return known[0]
    if known is not None:
        known[0].close()
    db = sqlite3.connect(path, timeout=20)
    db.execute("PRAGMA query_only = ON")
    connections[path] = (db, inode)
    return db
