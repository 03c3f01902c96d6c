"""A small disk to fill: a real tmpfs when this machine lets us mount one, else a patched one.

As root (CI and the development machines) ``mount -t tmpfs`` gives a real file system of a
few hundred kilobytes, so "disk full" is the kernel's ENOSPC. Where mounting is not allowed,
every write Dossier makes through ``library.storage`` is patched to fail the same way once
the pretend disk is full.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from library import storage

SIZE = 512 * 1024
FILLER = "filler.bin"


class SmallDisk:
    """A folder on a small disk; :meth:`fill` leaves no free space on it."""

    def __init__(self, path: Path, *, real: bool, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path, self.real, self._monkeypatch = path, real, monkeypatch

    def fill(self) -> None:
        if self.real:
            fd = os.open(self.path / FILLER, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
            finally:
                os.close(fd)
            return
        real_open = storage._open_for_writing

        def full(path: Path):
            handle = real_open(path)  # the file is created, as on a real full disk ...
            handle.close()
            return _FullFile(path)  # ... but nothing can be written to it

        self._monkeypatch.setattr(storage, "_open_for_writing", full)

    def files(self) -> list[Path]:
        """Every file on the disk but the filler, hidden ones included."""
        return sorted(p for p in self.path.rglob("*") if p.is_file() and p.name not in (FILLER,))


class _FullFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> _FullFile:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def write(self, chunk: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))

    def flush(self) -> None:
        return None

    def fileno(self) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))


def _mount(path: Path) -> bool:
    if os.geteuid() != 0:
        return False
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0777", "tmpfs", str(path)],
            capture_output=True,
            timeout=20,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(params=["tmpfs", "patched"])
def small_disk(request, tmp_path, monkeypatch):
    path = tmp_path / "small-disk"
    path.mkdir()
    real = request.param == "tmpfs" and _mount(path)
    if request.param == "tmpfs" and not real:
        pytest.skip("cannot mount a tmpfs here (needs root); the patched disk covers it")
    try:
        yield SmallDisk(path, real=real, monkeypatch=monkeypatch)
    finally:
        if real:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=20)
