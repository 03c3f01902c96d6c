"""Reading, sharing, printing, exporting and managing lists. Entry edits are in ``editing``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from library.catalogue.style_choice import choose_style, requested_style
from library.citations.formats import WRITERS
from library.readinglists import services
from library.readinglists.access import list_editor, readable_list, shared_list
from library.readinglists.forms import (
    CollaboratorForm,
    ListEditForm,
    ListForm,
    ListSearchForm,
    VisibilityForm,
)
from library.readinglists.models import ReadingList, Visibility
from library.readinglists.presentation import (
    add_citations,
    export_response,
    layout,
)

_FORMAT_NAMES = {"bibtex": "BibTeX", "biblatex": "BibLaTeX", "ris": "RIS", "csljson": "CSL-JSON"}
#: Every catalogue format (the same writers), plus a formatted bibliography in the chosen style.
EXPORT_LABELS = {name: _FORMAT_NAMES.get(name, name) for name in WRITERS} | {
    "bibliography": "Bibliography (text)"
}


def _with_counts(queryset):
    return queryset.select_related("owner").annotate(n_entries=Count("entries", distinct=True))


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Public lists, searchable by title; your own and shared lists when signed in."""
    form = ListSearchForm(request.GET or None)
    public = ReadingList.objects.filter(visibility=Visibility.PUBLIC)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if query:
        for word in query.split():
            public = public.filter(title__icontains=word)
    context = {"form": form, "query": query, "public": _with_counts(public)[:100]}
    if request.user.is_authenticated:
        mine = ReadingList.objects.filter(
            Q(owner=request.user) | Q(collaborators=request.user)
        ).distinct()
        context["mine"] = _with_counts(mine)
    return render(request, "readinglists/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    form = ListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert request.user.is_authenticated  # login_required
        reading_list = services.create_list(
            request.user, form.cleaned_data["title"], form.cleaned_data["description"]
        )
        messages.success(request, f"Created “{reading_list.title}”. Add sections and pieces.")
        return redirect(reading_list)
    return render(request, "readinglists/list_form.html", {"form": form})


def _page(request: HttpRequest, reading_list: ReadingList, template: str, **extra) -> HttpResponse:
    choice = choose_style(request)
    style = choice.style
    sections = layout(reading_list)
    add_citations(sections, style)
    can_edit = reading_list.is_editor(request.user)
    context = {
        "reading_list": reading_list,
        "sections": sections,
        "entry_count": sum(len(s.entries) for s in sections),
        "style": style,
        "style_choice": choice,
        "style_label": choice.label,
        "style_message": choice.message,
        "can_edit": can_edit,
        "is_owner": reading_list.owner_id == request.user.pk,
        "exports": EXPORT_LABELS,
        **extra,
    }
    if can_edit:
        context["all_sections"] = [s.section for s in sections if s.section]
    return render(request, template, context)


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    reading_list = readable_list(request, pk)
    return _page(request, reading_list, "readinglists/detail.html", base_url=request.path)


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    reading_list = shared_list(token)
    return _page(
        request, reading_list, "readinglists/detail.html", base_url=request.path, via_link=True
    )


@require_GET
def print_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, readable_list(request, pk), "readinglists/print.html")


@require_GET
def shared_print(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, shared_list(token), "readinglists/print.html")


def _export(request: HttpRequest, reading_list: ReadingList, fmt: str) -> HttpResponseBase:
    if fmt not in EXPORT_LABELS:
        raise Http404(f"Unknown export format {fmt!r}; choose one of {', '.join(EXPORT_LABELS)}.")
    return export_response(reading_list, fmt, requested_style(request))


@require_GET
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    return _export(request, readable_list(request, pk), fmt)


@require_GET
def shared_export(request: HttpRequest, token: str, fmt: str) -> HttpResponseBase:
    return _export(request, shared_list(token), fmt)


@list_editor(methods=("GET",))
def manage(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    """Title, description and, for the owner, sharing, collaborators and deletion."""
    return render(
        request,
        "readinglists/manage.html",
        {
            "reading_list": reading_list,
            "form": ListEditForm(instance=reading_list, initial={"version": reading_list.version}),
            "visibility_form": VisibilityForm(initial={"visibility": reading_list.visibility}),
            "collaborator_form": CollaboratorForm(),
            "collaborators": reading_list.collaborators.order_by("username"),
            "is_owner": reading_list.owner_id == request.user.pk,
        },
    )


@list_editor()
def edit(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    form = ListEditForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "readinglists/manage.html",
            {
                "reading_list": reading_list,
                "form": form,
                "visibility_form": VisibilityForm(initial={"visibility": reading_list.visibility}),
                "collaborator_form": CollaboratorForm(),
                "collaborators": reading_list.collaborators.order_by("username"),
                "is_owner": reading_list.owner_id == request.user.pk,
            },
            status=400,
        )
    try:
        services.update_list(
            reading_list,
            form.cleaned_data["version"],
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
        )
    except services.ListEditError as exc:
        messages.error(request, str(exc))
        return redirect("readinglists:manage", reading_list.pk)
    messages.success(request, "Saved the title and description.")
    return redirect(reading_list)


@list_editor(methods=("GET", "POST"), owner_only=True)
def delete(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    if request.method == "POST":
        title = reading_list.title
        reading_list.delete()
        messages.success(request, f"Deleted the list “{title}”.")
        return redirect("readinglists:index")
    return render(request, "readinglists/confirm_delete.html", {"reading_list": reading_list})


@login_required
@require_POST
def duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    """Anyone signed in who can read a list may copy it into a private list of their own."""
    assert request.user.is_authenticated  # login_required
    copy = services.duplicate_list(readable_list(request, pk), request.user)
    messages.success(request, f"Made “{copy.title}”, a private copy you own.")
    return redirect(copy)


@list_editor(owner_only=True)
def visibility(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    form = VisibilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose private, unlisted or public.")
        return redirect("readinglists:manage", reading_list.pk)
    services.set_visibility(reading_list, form.cleaned_data["visibility"])
    messages.success(request, f"The list is now {reading_list.get_visibility_display().lower()}.")
    return redirect("readinglists:manage", reading_list.pk)


@list_editor(owner_only=True)
def reissue_link(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    try:
        services.reissue_link(reading_list)
    except services.ListEditError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The old link no longer works; share the new one below.")
    return redirect("readinglists:manage", reading_list.pk)


@list_editor(owner_only=True)
def add_collaborator(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    form = CollaboratorForm(request.POST)
    if not form.is_valid():
        # An ErrorList yields its messages as text (ValidationErrors are unwrapped).
        messages.error(request, " ".join(str(message) for message in form.errors["username"]))
        return redirect("readinglists:manage", reading_list.pk)
    user = form.cleaned_data["username"]
    try:
        services.add_collaborator(reading_list, user)
    except services.ListEditError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{user.get_username()} can now edit this list.")
    return redirect("readinglists:manage", reading_list.pk)


@list_editor(owner_only=True)
def remove_collaborator(
    request: HttpRequest, reading_list: ReadingList, user_id: int
) -> HttpResponse:
    user = reading_list.collaborators.filter(pk=user_id).first()
    if user is None:
        messages.error(request, "That person is not a collaborator on this list.")
    else:
        services.remove_collaborator(reading_list, user)
        messages.success(request, f"{user.get_username()} can no longer edit this list.")
    return redirect("readinglists:manage", reading_list.pk)
