"""Files written whole or not at all, a clear answer when the disk is full, stale files removed.

A write that fails half-way (disk full, quota, I/O error) used to leave a 0-byte or partial
attachment or staged upload under its final name. Everything Dossier writes now goes to a
hidden temporary name in the same folder, is flushed to disk, and only then renamed to its
final name (``os.replace`` is atomic on one file system); on failure the temporary file is
removed and the error raised. :class:`AtomicFileSystemStorage` does the same for Django's
file fields (attachments). :class:`StorageErrorMiddleware` turns a full disk or an I/O
error that reaches a view into a page that says so (507/503) instead of a bare 500, and
:func:`remove_stale` is what ``manage.py cleanup`` runs from cron.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.core.files.storage import FileSystemStorage
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".partial-"
FULL = {errno.ENOSPC, errno.EDQUOT}
IO_FAILURES = FULL | {errno.EIO, errno.EROFS}


def _open_for_writing(path: Path) -> BinaryIO:
    """Opened exclusively, so two writers never share a temporary name (tests patch this)."""
    return open(path, "xb")


def write_atomically(path: Path, data: bytes | Iterable[bytes], *, exclusive: bool = False) -> int:
    """Write ``data`` to ``path`` whole, or leave nothing; returns the bytes written.

    ``exclusive`` refuses to replace an existing file (``FileExistsError``).
    """
    path = Path(path)
    if exclusive and path.exists():
        raise FileExistsError(errno.EEXIST, "file exists", str(path))
    chunks = [data] if isinstance(data, bytes | bytearray) else data
    temporary = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}-{path.name}")
    written = 0
    try:
        with _open_for_writing(temporary) as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


class AtomicFileSystemStorage(FileSystemStorage):
    """``FileSystemStorage`` whose saved files are complete or absent, never partial."""

    def _save(self, name: str, content) -> str:
        while True:
            full_path = Path(self.path(name))
            full_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                write_atomically(full_path, content.chunks(), exclusive=True)
                break
            except FileExistsError:
                name = self.get_available_name(name)
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        return str(name).replace("\\", "/")


def is_storage_failure(exc: BaseException) -> bool:
    """A full disk or an I/O error (SQLite says "database or disk is full")."""
    if isinstance(exc, OSError):
        return exc.errno in IO_FAILURES
    return isinstance(exc, OperationalError) and "disk is full" in str(exc)


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in FULL
    return is_storage_failure(exc)


def failure_reason(exc: BaseException) -> str:
    """A short phrase for a user or a command's report."""
    if is_disk_full(exc):
        return "the server's disk is full"
    if isinstance(exc, OSError):
        return f"the server could not write the file ({exc.strerror or exc})"
    return f"the server could not write ({exc})"


class StorageErrorMiddleware:
    """A full disk or I/O error in a view becomes a page saying so; nothing was saved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_storage_failure(exc):
            return None
        logger.error("storage failure on %s: %s", request.path, exc, exc_info=exc)
        status = 507 if is_disk_full(exc) else 503
        page = render_to_string("storage_error.html", {"reason": failure_reason(exc)})
        return HttpResponse(page, status=status)


# --- cleanup ---------------------------------------------------------------------------------


@dataclass
class Removed:
    folder: str
    files: int = 0
    bytes: int = 0


def remove_stale(folder: Path, patterns: Iterable[str], *, older_than: float) -> Removed:
    """Delete files in ``folder`` matching ``patterns`` not modified for ``older_than`` s."""
    removed = Removed(str(folder))
    if not folder.is_dir():
        return removed
    cutoff = time.time() - older_than
    for pattern in patterns:
        for path in folder.glob(pattern):
            try:
                stat = path.stat()
                if not path.is_file() or stat.st_mtime >= cutoff:
                    continue
                path.unlink()
            except FileNotFoundError:  # removed meanwhile by the request that owned it
                continue
            removed.files += 1
            removed.bytes += stat.st_size
    return removed
