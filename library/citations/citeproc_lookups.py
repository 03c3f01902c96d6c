"""Questions citeproc-py asks a parsed CSL style for every entry, answered once.

Formatting one entry asks the style the same structural questions again and again: the
XPath searches behind a locale term, the entry's layout, a ``cs:substitute`` or the
enclosing ``cs:bibliography`` (~65 an entry in Chicago), and ``CitationItem.reference``,
which walks item → citation → bibliography → source (~500 an entry). A parsed style's
tree does not change between entries (:func:`~library.citations.styles.thread_style`
keeps one per thread), so the answers are kept, by element and question.

Keeping anything by element needs the element to stay the same Python object. lxml makes
an element's Python object when code first touches the element and drops it with its last
reference, so a memo keyed by element (this module's, and the ``calls_variable`` one in
:mod:`~library.citations.styles`) lost most of its entries between two look-ups: 83 % of
``calls_variable`` answers were worked out again. :func:`pin_elements` keeps one object
for every element of a parsed style and its locales for as long as the style is kept.

An entry formats 2.3–2.6 times faster, to the same text: ``benchmarks/citeproc_lookups.py``
compares the two on a real ``.bib`` file (``library/search/README.md``, "Issue 18,
twelfth round").
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

from citeproc import CitationItem, CitationStylesStyle
from citeproc import model as citeproc_model

#: citeproc-py's own, kept for the tests that compare against it.
citeproc_xpath_search = citeproc_model.CitationStylesElement.xpath_search
citeproc_reference = CitationItem.reference

#: Each element's XPath answers by expression. citeproc-py's expressions ask for ancestors,
#: siblings and children by name or by ``name``, ``form`` and ``xml:lang`` attributes.
#: Formatting moves no element and changes none of those attributes (it copies a style's
#: ``cs:date-part`` attributes onto the locale's part of the same name); the one element it
#: adds, a default ``cs:name`` under a ``cs:names`` without one, is new to the memo.
_answers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def xpath_search(self: citeproc_model.CitationStylesElement, expression: str) -> list[Any]:
    """citeproc-py's ``xpath_search``, searched once per element and expression."""
    try:
        known = _answers[self]
    except KeyError:
        known = _answers[self] = {}
    try:
        found = known[expression]
    except KeyError:
        found = known[expression] = tuple(citeproc_xpath_search(self, expression))
    return list(found)  # a new list each time, as before: a caller may change it


def pin_elements(style: CitationStylesStyle) -> None:
    """Keep a Python object for every element of ``style`` and of its locales.

    Without it lxml makes a new object for an element each time code reaches it after the
    last one was dropped, and the answers kept for the old object are lost with it.
    """
    trees = {locale.getroottree().getroot() for locale in style.root.locales}
    trees.add(style.root)
    style.pinned_elements = [element for tree in trees for element in tree.iter()]


def install() -> None:
    """Replace citeproc-py's look-ups with the remembering ones (styles.py, at import)."""
    citeproc_model.CitationStylesElement.xpath_search = xpath_search
    # Per item, and an item lives for one bibliography, whose source does not change.
    reference = functools.cached_property(citeproc_reference.fget)
    reference.__set_name__(CitationItem, "reference")
    CitationItem.reference = reference
