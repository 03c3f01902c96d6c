"""A running job's progress, kept in a small file beside the media rather than in the database.

The work runs in one transaction (all or nothing), so a progress row written by it would stay
invisible until the end, and on SQLite a second connection writing meanwhile would wait for
the same write lock. A file written atomically is visible at once to every web process
sharing ``MEDIA_ROOT``; its modification time is the job's heartbeat.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings

from library.storage import write_atomically

FOLDER = "jobs"


def _path(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / FOLDER / f"{job_id}.json"


def report(job_id: int, **counts: int | str) -> None:
    """Record the job's counts so far (and that it is alive)."""
    path = _path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(counts).encode())


def read(job_id: int) -> dict:
    """The last counts reported, or ``{}``."""
    try:
        return json.loads(_path(job_id).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def seconds_since_heartbeat(job_id: int) -> float | None:
    try:
        return time.time() - _path(job_id).stat().st_mtime
    except FileNotFoundError:
        return None


def forget(job_id: int) -> None:
    _path(job_id).unlink(missing_ok=True)


def is_stalled(job, *, quiet_seconds: float) -> bool:
    """A job marked running whose worker has said nothing for ``quiet_seconds`` (killed?)."""
    if job.status != "running":
        return False
    quiet = seconds_since_heartbeat(job.pk)
    if quiet is None and job.started_at is not None:
        quiet = time.time() - job.started_at.timestamp()
    return quiet is not None and quiet > quiet_seconds
