"""Catalogue pages. Views stay thin: filtering lives in ``browse``, writing in ``services``."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from library.catalogue import alphabet, browse, facet_arrays
from library.catalogue.browse import Filters, facets, year_of_date
from library.catalogue.charts import region_tiles
from library.catalogue.concurrency import StalePiece
from library.catalogue.drafts import draft_initial, prepare_draft
from library.catalogue.export_views import cite_box
from library.catalogue.exports import available_formats
from library.catalogue.forms import PasteForm, PieceForm
from library.catalogue.generation import PageCache
from library.catalogue.models import (
    Author,
    Authorship,
    Piece,
    PieceType,
    Provenance,
    Region,
    RegionKind,
    Role,
    Topic,
)
from library.catalogue.ordering import BROWSE_SORTS, sorted_pieces
from library.ingest.types import NotACommentary


def editor_required(permission: str):
    """Anonymous visitors go to the sign-in page; signed-in users without the permission get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                raise PermissionDenied(f"You need the {permission} permission.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _export_links(query: str) -> dict:
    """Context for ``catalogue/_export_links.html``: the same filters, as a download."""
    return {"export_formats": available_formats(), "export_query": query}


class _CountedPaginator(Paginator):
    """A paginator told its total, so a cached count spares the ``COUNT(*)``."""

    def __init__(self, object_list, per_page: int, total: int) -> None:
        super().__init__(object_list, per_page)
        self._total = total

    @property
    def count(self) -> int:
        return self._total


def _paginate(
    request: HttpRequest, queryset, per_page: int | None = None, count: int | None = None
):
    size = per_page or settings.DOSSIER_PAGE_SIZE
    if count is None:
        paginator = Paginator(queryset, size)
    else:
        paginator = _CountedPaginator(queryset, size, count)
    return paginator.get_page(request.GET.get("page"))


def _year_counts(pieces) -> list[dict]:
    """``{"y": year, "n": count}`` rows for the pieces-per-year chart.

    The year is computed by the database itself (``browse.year_of_date``): on SQLite,
    ``ExtractYear`` called back into Python for every piece (~80 ms at 10,000 pieces).
    """
    return list(
        pieces.filter(date__isnull=False)
        .annotate(y=year_of_date())
        .values("y")
        .annotate(n=Count("pk"))
        .order_by("-y")
    )


def home(request: HttpRequest) -> HttpResponse:
    """The newest pieces beside the catalogue's tallies, which are cached until the next write."""
    context = {
        "newest": Piece.objects.defer("body").order_by("-created_at", "-pk")[:8],
        **PageCache.now().get("home", (), _home_tallies),
    }
    return render(request, "catalogue/home.html", context)


def _top(model, tags: QuerySet, column: str, order: tuple[str, ...], limit: int = 15) -> list:
    """The ``limit`` terms tagging most pieces, each with ``n``, most first.

    Counted on the tag table alone, then the few terms that can make the cut read by
    primary key: joining the vocabulary or author table into the count grouped every tag
    row through the join (browse's facets count the same way, for the same reason).
    """
    counts = dict(tags.values_list(column).annotate(n=Count("piece_id")).order_by())
    return _top_counted(model, counts, order, limit)


def _top_counted(model, counts: dict, order: tuple[str, ...], limit: int = 15) -> list:
    """``_top`` from counts already made (by tag id)."""
    if len(counts) > limit:
        cut = sorted(counts.values(), reverse=True)[limit - 1]
        counts = {pk: n for pk, n in counts.items() if n >= cut}  # ties at the cut stay
    terms = list(model.objects.filter(pk__in=list(counts)).order_by(*order))
    for term in terms:
        term.n = counts[term.pk]
    return sorted(terms, key=lambda term: -term.n)[:limit]  # stable: ties keep ``order``


_TAGS = ("topic", "region", "author")


def _home_tallies() -> dict:
    """Everything on the home page but the newest pieces: counts that only writes change.

    Counted from the per-process facet arrays (a few ms, kept exact across writes:
    facet_arrays.py); in SQL inside a transaction, where they may not be used.
    """
    with facet_arrays.counting() as data:
        if data is not None:
            every = data.alive
            tallies = {name: data.tally(name, every, keep=15) for name in _TAGS}
            years, types = data.tally("year", every), data.tally("type", every)
            total = int(every.sum())
    if data is None:
        return _home_tallies_sql()
    return {
        "total": total,
        "topics": _top_counted(Topic, tallies["topic"], ("name",)),
        "regions": _top_counted(Region, tallies["region"], ("name",)),
        "authors": _top_counted(Author, tallies["author"], ("family", "given")),
        "years": [{"y": y, "n": years[y]} for y in sorted(years, reverse=True)],
        "types": [
            (value, label, types[value]) for value, label in PieceType.choices if types.get(value)
        ],
    }


def _home_tallies_sql() -> dict:
    """The home page's tallies counted in SQL (the reference the arrays are tested against)."""
    pieces = Piece.objects.all()
    types = dict(pieces.values_list("type").annotate(n=Count("pk")).order_by())
    return {
        "total": pieces.count(),
        "topics": _top(Topic, Piece.topics.through.objects.all(), "topic_id", ("name",)),
        "regions": _top(Region, Piece.regions.through.objects.all(), "region_id", ("name",)),
        "authors": _top(
            Author, Authorship.objects.filter(role=Role.AUTHOR), "author_id", ("family", "given")
        ),
        "years": _year_counts(pieces),
        "types": [
            (value, label, types[value]) for value, label in PieceType.choices if types.get(value)
        ],
    }


def piece_list(request: HttpRequest) -> HttpResponse:
    filters = Filters.from_query(request.GET)
    sort = request.GET.get("sort", "")
    sort = sort if sort in BROWSE_SORTS else "newest"
    # Without the body, which no list shows: a page no longer reads and holds twenty
    # bodies of several kilobytes each (on PostgreSQL, detoasted). Nor their bylines and
    # tags: the list items are keyed on those rows, read as values, and load them as model
    # instances only for items not cached yet (library/catalogue/listing.py).
    pieces = sorted_pieces(filters.apply(Piece.objects.defer("body")), sort)
    cached = PageCache.now()
    total = cached.get("browse-count", (filters,), lambda: browse.count(filters))
    page = _paginate(request, pieces, count=total)
    query = filters.query_string()
    if sort != "newest":
        query = "&".join(filter(None, (query, urlencode({"sort": sort}))))
    return render(
        request,
        "catalogue/piece_list.html",
        {
            "page": page,
            "filters": filters,
            "facets": cached.get("facets", (filters,), lambda: facets(filters)),
            "filter_query": query,
            "sort": sort,
            "sorts": list(BROWSE_SORTS.items()),
            **_export_links(filters.query_string()),
        },
    )


def piece_detail(request: HttpRequest, key: str) -> HttpResponse:
    piece = get_object_or_404(Piece.objects.with_related(), citation_key=key)
    return render(
        request, "catalogue/piece_detail.html", {"piece": piece, "cite": cite_box(request, piece)}
    )


@editor_required("catalogue.add_piece")
@require_http_methods(["GET", "POST"])
def piece_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PieceForm(request.POST)
        if form.is_valid():
            piece = form.save()
            _record_origin(piece, request)
            messages.success(request, f"Added “{piece.title}” as {piece.citation_key}.")
            return redirect(piece)
    else:
        form = PieceForm()
    return render(request, "catalogue/piece_form.html", {"form": form, "creating": True})


def _record_origin(piece: Piece, request: HttpRequest) -> None:
    """Who added the piece and, for pasted text, the hash that recognises a re-paste."""
    user = request.user
    assert user.is_authenticated  # editor_required let only a signed-in user in
    piece.created_by = user
    update = ["created_by"]
    source_hash = request.POST.get("source_hash", "")
    if len(source_hash) == 64 and all(c in "0123456789abcdef" for c in source_hash):
        piece.provenance = Provenance.PASTE
        piece.source_hash = source_hash
        update += ["provenance", "source_hash"]
    piece.save(update_fields=update)


@editor_required("catalogue.add_piece")
@require_http_methods(["GET", "POST"])
def piece_paste(request: HttpRequest) -> HttpResponse:
    """Paste commentary text; the parsed result comes back as a form to correct and save."""
    paste_form = PasteForm(request.POST or None)
    if request.method == "POST" and paste_form.is_valid():
        try:
            draft = prepare_draft(paste_form.cleaned_data["text"], source="pasted text")
        except NotACommentary as exc:
            paste_form.add_error("text", f"This does not read as a commentary: {exc.reason}.")
        else:
            if draft.duplicate is not None:
                return render(
                    request,
                    "catalogue/piece_paste.html",
                    {"form": paste_form, "existing": draft.duplicate.piece},
                )
            return render(
                request,
                "catalogue/piece_form.html",
                {
                    "form": PieceForm(initial=draft_initial(draft)),
                    "creating": True,
                    "draft": draft,
                    "source_hash": draft.parsed.source_hash,
                },
            )
    return render(request, "catalogue/piece_paste.html", {"form": paste_form})


@editor_required("catalogue.change_piece")
@require_http_methods(["GET", "POST"])
def piece_edit(request: HttpRequest, key: str) -> HttpResponse:
    piece = get_object_or_404(Piece, citation_key=key)
    form = PieceForm(request.POST or None, instance=piece)
    if request.method == "POST" and form.is_valid():
        try:
            piece = form.save()
        except StalePiece as stale:  # saved by someone else since this form was built
            form = form.rebased(stale)
            context = {"form": form, "piece": Piece.objects.get(pk=piece.pk)}
            return render(request, "catalogue/piece_form.html", context, status=409)
        messages.success(request, f"Saved “{piece.title}”.")
        return redirect(piece)
    return render(request, "catalogue/piece_form.html", {"form": form, "piece": piece})


@editor_required("catalogue.delete_piece")
@require_http_methods(["GET", "POST"])
def piece_delete(request: HttpRequest, key: str) -> HttpResponse:
    piece = get_object_or_404(Piece, citation_key=key)
    if request.method == "POST":
        title = piece.title
        piece.delete()
        messages.success(request, f"Deleted “{title}”.")
        return redirect("catalogue:piece_list")
    return render(request, "catalogue/piece_confirm_delete.html", {"piece": piece})


def author_index(request: HttpRequest) -> HttpResponse:
    authors = (
        Author.objects.annotate(n=Count("authorships__piece", distinct=True))
        .filter(n__gt=0)
        .order_by("family", "given")
    )
    groups = alphabet.initials_by_letter(Author.objects.filter(authorships__isnull=False))
    letter = request.GET.get("letter", "").strip().upper()[:1]
    if letter in alphabet.LETTERS:
        authors = alphabet.filter_letter(authors, letter, groups)
    else:
        letter = ""
    return render(
        request,
        "catalogue/author_index.html",
        {
            "page": _paginate(request, authors, 100),
            "letters": [(x, x in groups) for x in alphabet.LETTERS],
            "letter": letter,
            "filter_query": urlencode({"letter": letter}) if letter else "",
        },
    )


def author_detail(request: HttpRequest, slug: str) -> HttpResponse:
    author = get_object_or_404(Author, slug=slug)
    pieces = (
        Piece.objects.with_related()
        .defer("body")
        .filter(pk__in=author.authorships.values("piece_id"))
        .order_by("-date", "title")
    )
    return render(
        request,
        "catalogue/author_detail.html",
        {
            "author": author,
            "page": _paginate(request, pieces),
            "years": _year_counts(pieces),
            **_export_links(f"author={author.slug}"),
        },
    )


def topic_index(request: HttpRequest) -> HttpResponse:
    topics = Topic.objects.annotate(n=Count("pieces")).order_by("name")
    return render(request, "catalogue/topic_index.html", {"topics": topics})


def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic.objects.select_related("parent"), slug=slug)
    pieces = Piece.objects.with_related().filter(topics=topic).order_by("-date", "title")
    return render(
        request,
        "catalogue/term_detail.html",
        {
            "term": topic,
            "filter_name": "topic",
            "children": topic.children.order_by("name"),
            "page": _paginate(request, pieces),
            "years": _year_counts(pieces),
            **_export_links(f"topic={topic.slug}"),
        },
    )


def region_index(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    regions = Region.objects.annotate(n=Count("pieces")).order_by("name")
    if not show_all:
        regions = regions.filter(Q(n__gt=0) | Q(kind=RegionKind.REGION))
    groups = [(label, [r for r in regions if r.kind == kind]) for kind, label in RegionKind.choices]
    countries = [r for r in regions if r.kind == RegionKind.COUNTRY]
    return render(
        request,
        "catalogue/region_index.html",
        {"groups": groups, "show_all": show_all, "tiles": region_tiles(countries)},
    )


def region_detail(request: HttpRequest, slug: str) -> HttpResponse:
    region = get_object_or_404(Region.objects.select_related("parent"), slug=slug)
    pieces = Piece.objects.with_related().filter(regions=region).order_by("-date", "title")
    return render(
        request,
        "catalogue/term_detail.html",
        {
            "term": region,
            "filter_name": "region",
            "children": region.children.annotate(n=Count("pieces")).order_by("name"),
            "page": _paginate(request, pieces),
            "years": _year_counts(pieces),
            **_export_links(f"region={region.slug}"),
        },
    )
