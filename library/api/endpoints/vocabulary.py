"""Authors, topics and regions, each with how many pieces carry it."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router

from library.api.auth import OPTIONAL, OPTIONAL_SECURITY
from library.api.conditional import json_with_etag
from library.api.responses import errors
from library.api.schemas import (
    AuthorDetail,
    AuthorPage,
    RegionDetail,
    RegionOut,
    Slug,
    TermDetail,
    TermOut,
    author_out,
    term_out,
)
from library.catalogue.models import Author, Region, Topic

router = Router()
READ = {"auth": OPTIONAL, "openapi_extra": OPTIONAL_SECURITY}


def _authors():
    return Author.objects.annotate(n=Count("authorships__piece", distinct=True))


@router.get("/authors/", response={200: AuthorPage, **errors()}, tags=["authors"], **READ)
def author_list(
    request: HttpRequest,
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(100, ge=1, le=500),
) -> dict[str, Any]:
    """Authors with at least one piece, by family name, as on /authors/."""
    authors = _authors().filter(n__gt=0).order_by("family", "given", "pk")
    paginator = Paginator(authors, page_size)
    current = paginator.get_page(page)
    return {
        "count": paginator.count,
        "page": current.number,
        "pages": paginator.num_pages,
        "results": [author_out(a, a.n) for a in current],
    }


@router.get(
    "/authors/{slug}/",
    response={200: AuthorDetail, 304: None, **errors(404)},
    tags=["authors"],
    url_name="author_detail",
    **READ,
)
def author_detail(request: HttpRequest, slug: Slug) -> HttpResponse:
    author = get_object_or_404(_authors(), slug=slug)
    return json_with_etag(request, author_out(author, author.n, detail=True))


def _terms(model):
    return model.objects.select_related("parent").annotate(n=Count("pieces"))


@router.get("/topics/", response={200: list[TermOut], **errors()}, tags=["topics"], **READ)
def topic_list(request: HttpRequest) -> list[TermOut]:
    """Every topic of the vocabulary, by name, with its number of pieces."""
    return [term_out(t, t.n) for t in _terms(Topic).order_by("name")]


@router.get(
    "/topics/{slug}/",
    response={200: TermDetail, 304: None, **errors(404)},
    tags=["topics"],
    url_name="topic_detail",
    **READ,
)
def topic_detail(request: HttpRequest, slug: Slug) -> HttpResponse:
    topic = get_object_or_404(_terms(Topic), slug=slug)
    return json_with_etag(request, term_out(topic, topic.n, detail=True))


@router.get("/regions/", response={200: list[RegionOut], **errors()}, tags=["regions"], **READ)
def region_list(request: HttpRequest) -> list[RegionOut]:
    """Every region, country and place, by name, with ISO codes for countries."""
    return [term_out(r, r.n) for r in _terms(Region).order_by("name")]


@router.get(
    "/regions/{slug}/",
    response={200: RegionDetail, 304: None, **errors(404)},
    tags=["regions"],
    url_name="region_detail",
    **READ,
)
def region_detail(request: HttpRequest, slug: Slug) -> HttpResponse:
    region = get_object_or_404(_terms(Region), slug=slug)
    return json_with_etag(request, term_out(region, region.n, detail=True))
