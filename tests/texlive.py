"""The installed TeX Live tree's ``.bib`` files: citations nobody here wrote."""

from __future__ import annotations

import gzip
from pathlib import Path

ROOTS = (
    Path("/usr/share/texlive"),
    Path("/usr/share/texmf"),
    *Path("/usr/share/doc").glob("texlive*"),
)


def corpus() -> list[Path]:
    """Every .bib (and Debian's .bib.gz) under the TeX Live and documentation trees."""
    found: set[Path] = set()
    for root in ROOTS:
        if root.is_dir():
            found.update(root.rglob("*.bib"))
            found.update(root.rglob("*.bib.gz"))
    return sorted(p for p in found if p.is_file())


def read_bytes(path: Path) -> bytes:
    """A corpus file's bytes (Debian gzips the documentation tree's)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data
