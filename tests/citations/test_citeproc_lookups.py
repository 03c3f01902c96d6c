"""Remembered style look-ups format exactly what citeproc-py's own look-ups format.

The reference is citeproc-py's ``xpath_search`` and ``CitationItem.reference`` with
nothing pinned, on a style parsed for each call or kept per thread (``citeproc_own``): the
code before :mod:`library.citations.citeproc_lookups`. Our other fixes to citeproc-py stay
on in both. The records are our corpus, Hypothesis's, and two TeX Live example files.
"""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections import OrderedDict
from collections.abc import Iterator

import pytest
from citeproc import CitationItem
from citeproc import model as citeproc_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.citations import citeproc_lookups, styles
from library.citations.readers.bibtex import read_bibtex
from library.citations.styles import STYLES, format_bibliography
from tests.citations.corpus import NASTY
from tests.citations.test_writers_any_text import records
from tests.imports.test_texlive_corpus import FILES

#: The four defaults, a numeric style, a science style and a dependent style.
SAMPLE = [*sorted(STYLES), "ieee", "nature", "american-medical-association"]


@contextlib.contextmanager
def citeproc_own(*, kept: bool = False) -> Iterator[None]:
    """citeproc-py's own look-ups, on a style parsed for each call; with ``kept``, on
    styles kept per thread but not pinned (the code before, and a parse less per entry)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            citeproc_model.CitationStylesElement,
            "xpath_search",
            citeproc_lookups.citeproc_xpath_search,
        )
        patch.setattr(CitationItem, "reference", citeproc_lookups.citeproc_reference)
        if kept:
            patch.setattr(citeproc_lookups, "pin_elements", lambda style: None)
            patch.setattr(styles._parsed, "styles", OrderedDict(), raising=False)
        else:
            patch.setattr(styles, "thread_style", styles.load_style)  # parsed, never pinned
        yield


def formatted(records_, style_id: str, output: str) -> list[str]:
    return format_bibliography(list(records_), style_id, output, numbered=False)


@pytest.mark.parametrize("style_id", SAMPLE)
def test_every_entry_and_bibliography_reads_as_with_citeproc_own_lookups(style_id):
    with citeproc_own():
        expected = {
            (output, record.key): formatted([record], style_id, output)
            for output in ("html", "text")
            for record in NASTY
        }
        whole = format_bibliography(list(NASTY), style_id, "html")
    # Every entry after every other on the kept style, forwards and back: nothing one
    # entry's look-ups leave behind may change the next.
    for order in (NASTY, tuple(reversed(NASTY))):
        for record in order:
            for output in ("html", "text"):
                assert formatted([record], style_id, output) == expected[(output, record.key)]
    assert format_bibliography(list(NASTY), style_id, "html") == whole


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=3, unique=True).flatmap(
        lambda ids: st.tuples(*(records(f"k{i}") for i in ids))
    ),
    st.sampled_from(SAMPLE),
)
def test_any_records_format_as_with_citeproc_own_lookups(catalogue, style_id):
    with citeproc_own():
        expected = [formatted([record], style_id, "html") for record in catalogue]
        whole = format_bibliography(list(catalogue), style_id, "text")
    assert [formatted([record], style_id, "html") for record in catalogue] == expected
    assert format_bibliography(list(catalogue), style_id, "text") == whole


@pytest.mark.parametrize("name", ["biblatex-examples.bib", "xampl.bib"])
def test_tex_live_entries_format_as_with_citeproc_own_lookups(name):
    # Real entries nobody here wrote (biblatex's and BibTeX's own examples: every entry
    # type, editors, series, crossrefs), each alone as the Cite box formats it.
    (source,) = [path for path in FILES if path.name == name]
    records = [entry.record for entry in read_bibtex(source.read_text("utf-8")).entries]
    assert len(records) >= 30
    with citeproc_own(kept=True):
        expected = {
            style_id: [formatted([record], style_id, "html") for record in records]
            for style_id in SAMPLE
        }
    for style_id in SAMPLE:
        assert [formatted([record], style_id, "html") for record in records] == expected[
            style_id
        ], style_id


def test_a_kept_style_keeps_one_object_per_element(monkeypatch):
    monkeypatch.setattr(styles._parsed, "styles", OrderedDict(), raising=False)  # parse anew
    style = styles.thread_style("apa")
    layout = style.root.find(".//cs:bibliography/cs:layout", styles._NS)
    term = style.root.locales[-1].find(".//cs:term", styles._NS)  # en-US, its own file
    kept = [weakref.ref(layout), weakref.ref(term)]
    del layout, term
    gc.collect()
    # Without the pin lxml drops an element's object with its last reference, and with it
    # whatever was remembered for it.
    assert all(ref() is not None for ref in kept)


def test_an_entry_formatted_again_searches_the_style_no_more(monkeypatch):
    searches: list[tuple[object, str]] = []
    own = citeproc_lookups.citeproc_xpath_search

    def counted(element, expression):
        searches.append((element, expression))
        return own(element, expression)

    monkeypatch.setattr(citeproc_lookups, "citeproc_xpath_search", counted)
    monkeypatch.setattr(styles._parsed, "styles", OrderedDict(), raising=False)  # parse anew
    for style_id in SAMPLE:
        searches.clear()
        first = formatted(NASTY, style_id, "html")
        assert searches, style_id  # the first entries did search
        searches.clear()
        assert formatted(NASTY, style_id, "html") == first
        # Only an element citeproc-py adds while formatting (a default cs:name under a
        # cs:names without one, in the AMA style) is new to the memo each time.
        pinned = {id(element) for element in styles._parsed.styles[style_id].pinned_elements}
        assert not [expression for element, expression in searches if id(element) in pinned]
        if style_id in STYLES:
            assert searches == [], style_id
