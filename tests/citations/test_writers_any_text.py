"""Every writer writes any text the catalogue can hold, and the BibTeX it writes reads back.

Hypothesis builds records from arbitrary Unicode (control characters, lone combining marks,
other scripts, LaTeX specials, unbalanced braces) in every field. No writer may raise: an
exception mid-export leaves the streamed response half-written. Control characters are
dropped (``latex.clean``), so the BibTeX reads back, by our reader and by bibtexparser,
with one entry per record and the same keys.
"""

from __future__ import annotations

import json

import bibtexparser
import rispy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.citations.formats import WRITERS, get_writer
from library.citations.readers.bibtex import read_bibtex
from library.citations.records import PIECE_TYPES, CitationRecord, Name

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point but surrogates (which no database column holds), weighted towards the
# characters that break exports: ASCII controls, LaTeX specials, T1-only letters.
ANY_TEXT = st.text(
    st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(list("\x00\x06\x1b\x7f\x85{}\\%#&_^~$<>-`'Đđąę«ŋ")),
    ),
    max_size=40,
)
NAMES = st.builds(
    Name,
    family=ANY_TEXT.filter(str.strip),
    given=ANY_TEXT,
    particle=st.sampled_from(["", "van", "al-", "de la", "Von"]),
    suffix=st.sampled_from(["", "Jr."]),
    is_organisation=st.booleans(),
)


@st.composite
def records(draw: st.DrawFn, key: str) -> CitationRecord:
    text = {
        name: draw(ANY_TEXT)
        for name in (
            "subtitle publisher place series number container_title volume issue pages "
            "edition url doi abstract note"
        ).split()
    }
    return CitationRecord(
        key=key,
        type=draw(st.sampled_from(PIECE_TYPES)),
        title=draw(ANY_TEXT.filter(str.strip)),
        authors=tuple(draw(st.lists(NAMES, max_size=3))),
        editors=tuple(draw(st.lists(NAMES, max_size=2))),
        year=draw(st.one_of(st.none(), st.integers(1, 9999))),
        keywords=tuple(draw(st.lists(ANY_TEXT, max_size=3))),
        **text,
    )


CATALOGUE = st.lists(st.integers(0, 10**6), min_size=1, max_size=4, unique=True).flatmap(
    lambda ids: st.tuples(*(records(f"k{i}") for i in ids))
)


@SETTINGS
@given(CATALOGUE)
def test_no_writer_raises_on_any_text(catalogue):
    for name in WRITERS:
        text = "".join(get_writer(name, proper_nouns=["Đà Nẵng", "{x"]).write(catalogue))
        text.encode("utf-8")  # what the streaming response does with each chunk
    parsed_json = json.loads("".join(get_writer("csljson").write(catalogue)))
    assert [item["id"] for item in parsed_json] == [r.key for r in catalogue]
    ris = rispy.loads("".join(get_writer("ris").write(catalogue)))
    assert len(ris) == len(catalogue)


@SETTINGS
@given(CATALOGUE)
def test_bibtex_and_biblatex_output_reads_back_with_every_entry(catalogue):
    for name in ("bibtex", "biblatex"):
        text = "".join(get_writer(name).write(catalogue))
        assert "\x06" not in text
        assert "\x00" not in text
        result = read_bibtex(text)
        assert result.found == len(catalogue)
        keys = [e.source_key for e in result.entries] + [r.key for r in result.rejections]
        assert sorted(keys) == sorted(r.key for r in catalogue)
        library = bibtexparser.parse_string(text)
        assert [e.key for e in library.entries] == [r.key for r in catalogue]
        assert not library.failed_blocks
