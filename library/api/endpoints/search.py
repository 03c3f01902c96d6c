"""Search: the query language of the search page, through the same service."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router
from ninja.errors import HttpError

from library.api.auth import OPTIONAL, OPTIONAL_SECURITY
from library.api.responses import errors
from library.api.schemas import FacetCount, SearchHit, SearchOut, SearchPiece
from library.catalogue.services import format_partial_date
from library.search import service
from library.search.results import Sort
from library.search.text import MARK_END, MARK_START, markup

router = Router(tags=["search"])


@router.get(
    "/",
    response={200: SearchOut, **errors(503)},
    auth=OPTIONAL,
    openapi_extra=OPTIONAL_SECURITY,
)
def search(
    request: HttpRequest,
    q: str = Query(
        "",
        max_length=1000,
        description='Words, "phrases", OR, -not, prefix*, topic:…, region:…, author:…, '
        "year:2014..2016, type:… — as on the search page.",
    ),
    sort: Sort = Sort.RELEVANCE,
    page: int = Query(1, ge=1, le=service.MAX_PAGE),
    page_size: int = Query(20, ge=1, le=100),
) -> SearchOut:
    """Ranked pieces with snippets, facet counts over the whole match, hints and a suggestion."""
    result = service.search(q.replace("\x00", " "), sort=sort, page=page, page_size=page_size)
    if result.index_error:
        raise HttpError(503, result.index_error)
    hits = []
    for piece, hit in result.entries:
        summary = SearchPiece(
            key=piece.citation_key,
            type=piece.type,
            title=piece.title,
            subtitle=piece.subtitle,
            date=format_partial_date(piece.date, piece.date_precision) or None,
            authors=list(piece.byline),
            synopsis=piece.synopsis,
            html_url=piece.get_absolute_url(),
            api_url=reverse("api:piece_detail", args=[piece.citation_key]),
        )
        plain = hit.snippet.replace(MARK_START, "").replace(MARK_END, "")
        hits.append(
            SearchHit(
                piece=summary,
                score=hit.score,
                snippet=plain,
                snippet_html=str(markup(hit.snippet)) if hit.snippet else "",
            )
        )
    return SearchOut(
        query=result.query.text,
        total=result.total,
        page=result.page,
        pages=result.pages,
        page_size=result.page_size,
        results=hits,
        facets={
            name: [FacetCount(key=v.key, label=v.label, count=v.count) for v in values]
            for name, values in result.facets.items()
        },
        hints=list(result.hints),
        suggestion=result.suggestion,
    )
