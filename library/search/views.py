"""The search page: a thin view over library.search.service."""

from __future__ import annotations

from typing import NotRequired, TypedDict
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from library.catalogue.exports import available_formats
from library.catalogue.models import Piece
from library.protocols.identifiers import ExactMatch, find_exact
from library.search import service
from library.search.results import FACET_NAMES, Sort
from library.search.text import markup

FACET_TITLES = {
    "topic": "Topics",
    "region": "Regions",
    "author": "Authors",
    "year": "Years",
    "type": "Types",
}


class Entry(TypedDict):
    """One result line as the template reads it."""

    piece: Piece
    score: float | None
    snippet: str
    exact: NotRequired[ExactMatch]


def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    result = service.search(text, sort=request.GET.get("sort", ""), page=request.GET.get("page", 1))
    sort = result.sort.value
    entries: list[Entry] = [
        {"piece": piece, "score": hit.score, "snippet": markup(hit.snippet) if hit.snippet else ""}
        for piece, hit in result.entries
    ]
    exact = find_exact(text) if result.page == 1 else None
    if exact is not None:
        # A DOI, URL or citation key names one piece: it comes first, whatever the ranking.
        service.set_byline(exact.piece, [a.display_name for a in exact.piece.authors])
        entries = [e for e in entries if e["piece"].pk != exact.piece.pk]
        entries.insert(0, {"piece": exact.piece, "score": None, "snippet": "", "exact": exact})
        result.hints = []  # "unknown field 'https:'" says nothing useful about an identifier
    context = {
        "q": text,
        "result": result,
        "export_formats": available_formats(),
        "entries": entries,
        "sorts": [(s.value, s.label) for s in Sort],
        "sort": sort,
        "facets": _facet_links(text, sort, result),
        "suggestion_url": _url(result.suggestion, sort) if result.suggestion else "",
        "prev_url": _url(text, sort, result.page - 1) if result.page > 1 else "",
        "next_url": _url(text, sort, result.page + 1) if result.page < result.pages else "",
    }
    return render(request, "search/results.html", context)


def _url(q: str, sort: str, page: int = 1) -> str:
    params = {"q": q}
    if sort != Sort.RELEVANCE.value:
        params["sort"] = sort
    if page > 1:
        params["page"] = str(page)
    return "?" + urlencode(params)


def _facet_links(text: str, sort: str, result: service.SearchPage) -> list[dict]:
    """Each facet value links to the same query narrowed by that value."""
    active = str(result.query.text)
    facets = []
    for name in FACET_NAMES:
        values = []
        for value in result.facets.get(name, []):
            term = f"{name}:{value.key}"
            selected = term in active
            values.append(
                {
                    "label": value.label,
                    "count": value.count,
                    "selected": selected,
                    "url": "" if selected else _url(f"{text.strip()} {term}", sort),
                }
            )
        if values:
            facets.append({"name": name, "title": FACET_TITLES[name], "values": values})
    return facets
