"""Which citation style a page formats in, and the chooser that changes it (no JavaScript).

A page asks :func:`choose_style`: a valid ``?style=`` wins and becomes the reader's
choice for the rest of the session; without one the session's choice is used, else
Chicago. Any of the bundled CSL styles can be chosen; ``?style_q=`` searches them by
name and the matches come back as links, so the chooser is two plain GET forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import HttpRequest

from library.citations.style_index import (
    DEFAULT_STYLE,
    DEFAULT_STYLES,
    can_format,
    is_style,
    label,
    search_styles,
    style_info,
)

__all__ = ["DEFAULT_STYLE", "StyleChoice", "choose_style", "requested_style"]

SESSION_KEY = "citation_style"
#: Matches listed for a search; the count says how many more there are.
SEARCH_LIMIT = 40
MAX_QUERY = 100


@dataclass(frozen=True)
class StyleLink:
    """One search result: the style, what it is formatted as, and the page in that style."""

    id: str
    title: str
    query: str
    parent_title: str = ""


@dataclass(frozen=True)
class StyleChoice:
    """The style in use, why (if a request was refused), and a search of the others."""

    style: str
    label: str
    message: str = ""
    query: str = ""
    total: int = 0
    results: tuple[StyleLink, ...] = ()
    #: Query parameters the chooser's forms and links carry over (filters, search).
    keep: tuple[tuple[str, str], ...] = field(default=())

    @property
    def options(self) -> list[tuple[str, str]]:
        """The select's options: the four defaults, then the chosen style if not one."""
        options = list(DEFAULT_STYLES.items())
        if self.style not in DEFAULT_STYLES:
            options.append((self.style, self.label))
        return options

    @property
    def more(self) -> int:
        return self.total - len(self.results)


def remembered_style(request: HttpRequest) -> str:
    """The session's style if it is still a usable one, else the default."""
    session = getattr(request, "session", None)
    stored = session.get(SESSION_KEY, "") if session is not None else ""
    return stored if isinstance(stored, str) and can_format(stored) else DEFAULT_STYLE


def requested_style(request: HttpRequest) -> str:
    """``?style=`` if it names a usable style, else the remembered one (for downloads)."""
    requested = request.GET.get("style", "")
    return requested if can_format(requested) else remembered_style(request)


def choose_style(request: HttpRequest, *, keep: tuple[tuple[str, str], ...] = ()) -> StyleChoice:
    """The style for this page, remembered in the session when the reader picks one."""
    requested = request.GET.get("style", "").strip()
    message = ""
    if requested and can_format(requested):
        style = requested
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) != style:
            session[SESSION_KEY] = style
    else:
        style = remembered_style(request)
        if requested and is_style(requested):  # bundled, but citations only
            message = (
                f"“{style_info(requested).title}” formats citations only, not a "
                f"bibliography; showing {label(style)}."
            )
        elif requested:
            message = (
                f"There is no citation style called “{requested[:80]}”; showing {label(style)}."
            )
    query = " ".join(request.GET.get("style_q", "")[:MAX_QUERY].split())
    found, total = search_styles(query, SEARCH_LIMIT) if query else ([], 0)
    results = tuple(
        StyleLink(
            id=info.id,
            title=label(info.id),
            query="?" + urlencode([*keep, ("style", info.id)]),
            parent_title=style_info(info.parent).title if info.parent else "",
        )
        for info in found
    )
    return StyleChoice(style, label(style), message, query, total, results, keep)
