"""Uploaded files kept between a preview and its confirmation: the PDF upload and ``/import/``.

A staged file lives under ``MEDIA_ROOT/<folder>/`` named by a random token, and what the
page needs to know about it is kept in the editor's session under that token. Only tokens
from the editor's own session are honoured, so nobody can confirm someone else's upload or
name a file on the server.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from library.storage import write_atomically

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Staging:
    """One kind of staged upload: its session key, its folder and its file suffix."""

    session_key: str
    folder: str
    suffix: str = ""

    @property
    def directory(self) -> Path:
        return Path(settings.MEDIA_ROOT) / self.folder

    def path(self, token: str) -> Path:
        if not _TOKEN.fullmatch(token):
            raise ValueError("not a staging token")
        return self.directory / f"{token}{self.suffix}"

    def entries(self, request: HttpRequest) -> dict[str, dict[str, Any]]:
        """Every file this session has staged, by token."""
        return dict(request.session.get(self.session_key, {}))

    def get(self, request: HttpRequest, token: str) -> dict[str, Any] | None:
        """What was remembered about ``token``, or ``None`` if this session did not stage it."""
        if not _TOKEN.fullmatch(token):
            return None
        return self.entries(request).get(token)

    def stage(self, request: HttpRequest, data: bytes, info: dict[str, Any]) -> str:
        """Keep ``data`` and remember ``info`` in the session; returns the new token.

        The file is written whole or not at all (``storage.write_atomically``): a full disk
        raises ``OSError`` and leaves neither a partial file nor a session entry.
        """
        token = secrets.token_hex(16)
        path = self.path(token)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        self.remember(request, token, info)
        return token

    def keep(self, data: bytes) -> str:
        """Keep ``data`` for a background job (no session entry); returns its token.

        The job's rows hold the token instead of a session; ``manage.py cleanup`` removes
        the file if the job never runs.
        """
        token = secrets.token_hex(16)
        path = self.path(token)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        return token

    def remember(self, request: HttpRequest, token: str, info: dict[str, Any]) -> None:
        request.session[self.session_key] = {**self.entries(request), token: info}

    def read(self, token: str) -> bytes | None:
        """The staged bytes, or ``None`` if the file is gone."""
        try:
            return self.path(token).read_bytes()
        except OSError:
            return None

    def forget(self, request: HttpRequest, token: str) -> None:
        """Drop one staged file and its session entry."""
        entries = self.entries(request)
        entries.pop(token, None)
        request.session[self.session_key] = entries
        self.path(token).unlink(missing_ok=True)

    def forget_all(self, request: HttpRequest, *, older_than: float | None = None) -> None:
        """Drop this session's staged files and, with ``older_than`` seconds, anyone's stale ones.

        Stale files are those whose editor never came back to confirm or cancel.
        """
        for token in request.session.pop(self.session_key, {}):
            self.path(token).unlink(missing_ok=True)
        if older_than is None or not self.directory.is_dir():
            return
        cutoff = time.time() - older_than
        for path in self.directory.glob(f"*{self.suffix}"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
