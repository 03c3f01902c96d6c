"""The export formats by name, for views and commands that take ``?format=bibtex``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from library.citations.biblatex import BibLaTeXWriter
from library.citations.bibtex import BibTeXWriter
from library.citations.csljson import CSLJSONWriter
from library.citations.records import CitationRecord
from library.citations.ris import RISWriter


class Writer(Protocol):
    """What every format offers, like Django's feedgenerator classes."""

    name: str
    content_type: str
    file_extension: str

    def write(self, records: Iterable[CitationRecord]) -> Iterator[str]: ...


WRITERS: dict[str, type[Writer]] = {
    "bibtex": BibTeXWriter,
    "biblatex": BibLaTeXWriter,
    "ris": RISWriter,
    "csljson": CSLJSONWriter,
}


#: Writers whose titles are case-protected, and so take the proper nouns to protect.
PROTECTING = frozenset({"bibtex", "biblatex"})


def get_writer(name: str, proper_nouns: Iterable[str] = ()) -> Writer:
    """A writer for ``name``; a ValueError naming the valid choices otherwise.

    ``proper_nouns`` (the catalogue's topic and region names) keep their capitals in
    BibTeX and BibLaTeX titles; the other formats carry titles as they are.
    """
    if name not in WRITERS:
        raise ValueError(f"unknown citation format {name!r}; choose one of {', '.join(WRITERS)}")
    if name in PROTECTING:
        return WRITERS[name](proper_nouns)  # type: ignore[call-arg]
    return WRITERS[name]()
