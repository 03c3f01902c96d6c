"""Formatting one entry with the cyclic garbage collector paused.

citeproc-py allocates tens of thousands of short-lived objects to format one entry (the
parsed style, its lxml proxies, the rendered strings), and all but ~40 of them are freed
by reference counting when the call returns. While it runs, though, the live ones push
the collector over its thresholds: a piece's first view ran ~50 young (generation 0)
collections inside citeproc, and one request in ten a generation-1 collection of
8–11 ms, sometimes a full one of 60–160 ms (PostgreSQL at 100,000 pieces; the collector
walks every object the process tracks). Pausing the collector for the call skips those
walks; the few cycles left behind are collected with the next request's young objects.

The collector is one per process, so the pause is counted across threads: the first
formatter to start disables it (if it was enabled) and the last to finish enables it
again. Anything else that turns it off meanwhile (``gc.disable()`` elsewhere) is left
as it found it only when it was off before the first formatter started.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector disabled, then restore it.

    Meant for short calls that allocate much and leave little cyclic garbage (one
    citeproc entry); a long one would hold back every cycle it makes until it ends.
    """
    global _active, _resume
    with _lock:
        if _active == 0:
            _resume = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _resume:
                gc.enable()
