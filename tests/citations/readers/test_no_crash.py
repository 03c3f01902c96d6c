"""No input crashes a reader: each returns a result or raises its own ``UnreadableFile``.

Hypothesis feeds random bytes, and random text built from the pieces of each format
(BibTeX's ``@``, braces, quotes, ``#``, macros and LaTeX; RIS tag lines; CSL-JSON items
with odd values), to every reader. Any other exception escaping is a bug: on the command
line it is a traceback, on the import page a 500.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.citations.readers import UnreadableFile, read_citations
from library.citations.readers.bibtex import read_bibtex
from library.citations.readers.csljson import read_csljson
from library.citations.readers.ris import read_ris

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BIBTEX_TOKENS = [
    "@",
    "@article",
    "@misc",
    "@string",
    "@preamble",
    "@comment",
    "@book(",
    "@fake-entry",
    "{",
    "}",
    "(",
    ")",
    '"',
    "#",
    "%",
    "=",
    ",",
    "\\",
    "\n",
    " ",
    "\t",
    "title",
    "author",
    "editor",
    "year",
    "month",
    "date",
    "url",
    "doi",
    "crossref",
    "pages",
    "jan",
    "and",
    "and others",
    "{\\'e}",
    "\\href{http://x.org}{x}",
    "\\href",
    "\\url{",
    "$x^2$",
    "{\\TeX}",
    "2020",
    "2020-13-45",
    "//host/p",
    "Last, First",
    "von Last, Jr, F",
    "ü",
    "\u202e",
    "\x00",
    "\ufeff",
]
RIS_LINES = [
    "TY  - JOUR",
    "TY  - ",
    "TY  - XYZ",
    "ER  - ",
    "AU  - Last, First",
    "AU  - ",
    "TI  - T",
    "T1  - ",
    "PY  - 2020///",
    "PY  - 99999",
    "DA  - 2020/13/40",
    "UR  - x",
    "SP  - 1",
    "EP  - ",
    "Y2  - 2020-02-30",
    "KW  - k",
    "A2  - ",
    "ED  - E",
    "XX  - ?",
    "",
    "junk",
]
CSL_KEYS = [
    "id",
    "type",
    "title",
    "author",
    "editor",
    "issued",
    "accessed",
    "URL",
    "DOI",
    "page",
    "volume",
    "issue",
    "language",
    "keyword",
    "note",
    "container-title",
    "genre",
    "number",
    "date-parts",
    "family",
    "given",
    "literal",
    "raw",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(CSL_KEYS) | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=30,
)


def reads_or_refuses(data: bytes, filename: str) -> None:
    with contextlib.suppress(UnreadableFile):
        read_citations(data, filename=filename)


@FAST
@given(st.binary(max_size=3000), st.sampled_from(["x.bib", "x.ris", "x.json", "x.txt"]))
def test_random_bytes_are_read_or_refused_by_every_reader(data, filename):
    reads_or_refuses(data, filename)


@FAST
@given(st.lists(st.sampled_from(BIBTEX_TOKENS) | st.text(max_size=4), max_size=80))
def test_random_bibtex_ish_text_is_read_or_refused(parts):
    text = "".join(parts)
    with contextlib.suppress(UnreadableFile):
        read_bibtex(text)


@FAST
@given(st.lists(st.sampled_from(RIS_LINES) | st.text(max_size=12), max_size=40))
def test_random_ris_ish_text_is_read_or_refused(lines):
    with contextlib.suppress(UnreadableFile):
        read_ris("\n".join(lines))


@FAST
@given(st.lists(json_values, max_size=4) | json_values)
def test_random_csl_json_is_read_or_refused(value):
    with contextlib.suppress(UnreadableFile):
        read_csljson(json.dumps(value))


LATEX_TOKENS = [
    "\\",
    "{",
    "}",
    "$",
    "\\[",
    "\\]",
    "\\verb|",
    "|",
    "\\begin{",
    "\\end{",
    "tabular",
    "\\\\",
    "\\frac",
    '\\"',
    "\\c",
    "\\em",
    "\\url",
    "\\href",
    "%",
    "&",
    "#",
    "^",
    "_",
    "~",
    "\\'",
    "\\input",
    "\\include",
    "\\def",
    "\\newcommand",
    "\\csname",
    "\\char",
    "\\item",
    "\\sqrt",
    "\\footnote",
    "a",
    " ",
    "\n",
]


@FAST
@given(st.lists(st.sampled_from(LATEX_TOKENS), max_size=30))
def test_random_latex_in_any_field_never_escapes_the_reader(parts):
    value = "".join(parts)
    text = "@misc{k, title={T " + value + "}, note={" + value + "}, author={" + value + "}}\n"
    with contextlib.suppress(UnreadableFile):
        read_bibtex(text)


def test_deeply_nested_input_is_read_or_refused():
    for text in (
        "[" * 100_000 + "]" * 100_000,
        '[{"title": ' + "[" * 50_000 + "]" * 50_000 + "}]",
    ):
        with pytest.raises(UnreadableFile, match="nested too deeply"):
            read_csljson(text)
    deep = "{" * 5000 + "x" + "}" * 5000
    result = read_bibtex(f"@misc{{a, title={deep}, author={deep}, note={deep}}}\n")
    assert result.found == 1
