"""Known items on text nobody here wrote: titles from TeX Live's ``.bib`` files, on every engine.

Our own fixtures hold the words we thought of. These titles hold what real bibliographies
do: hyphens, apostrophes, accents, digits, dots, ``C++``, ``verbatim*``. Each title, as the
importer reads it, is a piece; the title quoted as a phrase, and each of its words that is
not plain letters typed as a reader would, and each word inside one, must find that
piece. Two engines failed it: Whoosh read ``verbatim*`` and dotted hosts as words of their
own until its word pattern was set (``WORD_PATTERN`` in ``backends/whoosh.py``), and PostgreSQL
read "PDF/A-compliant" as one path-like token and dropped ``<box>`` as a tag, until the
text it parses had spaces for punctuation (``PUNCTUATION`` in its ``schema.py``).
"""

from __future__ import annotations

import os
import re
from functools import cache
from io import StringIO

import pytest
from django.core.management import call_command

from library.citations.readers import read_citations
from library.citations.readers.common import UnreadableFile
from library.search.query import parse_query
from library.search.text import WORD
from tests.citations.toolchain import INSTALL_HINT
from tests.texlive import ROOTS, corpus, read_bytes

pytestmark = pytest.mark.django_db

#: One title in this many of those with a marked word (all with an asterisk) is tried.
SAMPLE_EVERY = 8
#: What a reader would not type around a word: sentence punctuation, brackets, quotes.
AROUND = " \t,;:.!?()[]{}\"“”‘’'"
PLAIN = re.compile(r"[A-Za-z]+")


def _marked_words(title: str) -> list[str]:
    """The title's words that are not plain ASCII letters, as a reader would type them."""
    words = []
    for raw in title.split():
        word = raw.strip(AROUND).lstrip("-+")
        if len(word) < 2 or PLAIN.fullmatch(word) or re.search(r"[():\"]", word):
            continue
        words.append(word)
    return words


@cache
def real_titles() -> tuple[str, ...]:
    """A fixed sample of the corpus's distinct titles that hold a marked word."""
    titles: set[str] = set()
    for path in corpus():
        try:
            result = read_citations(read_bytes(path), filename=path.name.removesuffix(".gz"))
        except UnreadableFile:
            continue
        titles.update(e.record.title for e in result.entries if _marked_words(e.record.title))
    ordered = sorted(titles)
    return tuple(t for i, t in enumerate(ordered) if i % SAMPLE_EVERY == 0 or "*" in t)


def _finds(text: str, piece_id: int, backend) -> bool:
    """Whether the piece is among all the query's matches (the first page, else all)."""
    parsed = parse_query(text)
    results = backend.search(parsed, limit=20)
    found = any(hit.piece_id == piece_id for hit in results.hits)
    if not found and results.total > 20:
        results = backend.search(parsed, limit=results.total)
        found = any(hit.piece_id == piece_id for hit in results.hits)
    return found


def test_every_title_and_marked_word_finds_its_piece(engine, make_piece):
    titles = real_titles()
    if not titles:
        message = f"no .bib files under {', '.join(map(str, ROOTS))}: {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert any("*" in t for t in titles), "the sample lost its asterisks"
    pieces = {make_piece(title[:500], body="").pk: title for title in titles}
    call_command("rebuild_index", stdout=StringIO(), stderr=StringIO())

    missed = []
    for piece_id, title in pieces.items():
        queries = [f'"{title.replace(chr(34), " ")}"'] if len(title.split()) > 1 else []
        marked = _marked_words(title)
        # And each word inside one ("Palestine" in "Israel/Palestine"), as a reader types it.
        queries += marked + sorted({w for m in marked for w in WORD.findall(m)} - set(marked))
        missed += [(q, title) for q in queries if not _finds(q, piece_id, engine)]
    assert not missed, f"{len(missed)} of the queries missed their piece: {missed[:10]}"
    assert len(pieces) > 150
