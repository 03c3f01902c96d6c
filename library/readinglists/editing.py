"""Changing a list's contents: sections and entries, all plain forms that work without JS.

Each view validates its form, calls one function in ``services`` and redirects back to the
list with a message; a refused change (stale page, already first, duplicate piece) is an
error message, never a silent no-op.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from library.catalogue.models import Piece
from library.readinglists import services
from library.readinglists.access import editable_list, list_editor
from library.readinglists.forms import (
    AddToListForm,
    EntryForm,
    MoveForm,
    MoveToSectionForm,
    ReorderForm,
    SectionForm,
    section_from_value,
)
from library.readinglists.models import Entry, ReadingList, Section

FIND_LIMIT = 30


def _back(request: HttpRequest, reading_list: ReadingList, anchor: str = "") -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reading_list.get_absolute_url() + anchor)


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{field}: "
        # An ErrorList yields its messages as text (ValidationErrors are unwrapped).
        messages.error(request, f"{label}{' '.join(str(message) for message in errors)}")


def _apply(request: HttpRequest, change, *args, done: str = "") -> bool:
    try:
        change(*args)
    except services.ListEditError as exc:
        messages.error(request, str(exc))
        return False
    if done:
        messages.success(request, done)
    return True


@list_editor()
def section_add(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    form = SectionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, reading_list)
    title = form.cleaned_data["title"]
    _apply(
        request,
        services.add_section,
        reading_list,
        title,
        form.cleaned_data["version"],
        done=f"Added the section “{title}”.",
    )
    return _back(request, reading_list)


def _section(reading_list: ReadingList, section_id: int) -> Section:
    return get_object_or_404(Section, pk=section_id, reading_list=reading_list)


@list_editor()
def section_move(request: HttpRequest, reading_list: ReadingList, section_id: int) -> HttpResponse:
    section = _section(reading_list, section_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        _apply(request, services.move_section, section, data["direction"], data["version"])
    return _back(request, reading_list, f"#section-{section.pk}")


@list_editor()
def section_rename(
    request: HttpRequest, reading_list: ReadingList, section_id: int
) -> HttpResponse:
    section = _section(reading_list, section_id)
    form = SectionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        _apply(request, services.rename_section, section, data["title"], data["version"])
    return _back(request, reading_list, f"#section-{section.pk}")


@list_editor()
def section_delete(
    request: HttpRequest, reading_list: ReadingList, section_id: int
) -> HttpResponse:
    section = _section(reading_list, section_id)
    version = _version(request)
    if version is not None:
        _apply(
            request,
            services.delete_section,
            section,
            version,
            done=f"Deleted “{section.title}”; its readings moved to the top of the list.",
        )
    return _back(request, reading_list)


def _version(request: HttpRequest) -> int | None:
    """The list version a plain button posted; an error message when it is missing."""
    value = request.POST.get("version", "")
    if value.isdecimal():
        return int(value)
    messages.error(request, "The form was missing the list version; reload the page and retry.")
    return None


def _entry(reading_list: ReadingList, entry_id: int) -> Entry:
    return get_object_or_404(
        Entry.objects.select_related("section", "piece"), pk=entry_id, reading_list=reading_list
    )


@list_editor()
def entry_move(request: HttpRequest, reading_list: ReadingList, entry_id: int) -> HttpResponse:
    """Up/down within the section (``direction``) or to another section (``section``)."""
    entry = _entry(reading_list, entry_id)
    if "direction" in request.POST:
        move_form = MoveForm(request.POST)
        if move_form.is_valid():
            data = move_form.cleaned_data
            _apply(request, services.move_entry, entry, data["direction"], data["version"])
        else:
            _form_errors(request, move_form)
    else:
        section_form = MoveToSectionForm(request.POST, reading_list=reading_list)
        if section_form.is_valid():
            target = section_form.cleaned_data["section"]
            where = f"“{target.title}”" if target else "the top of the list"
            _apply(
                request,
                services.move_entry_to_section,
                entry,
                target,
                section_form.cleaned_data["version"],
                done=f"Moved “{entry}” to {where}.",
            )
        else:
            _form_errors(request, section_form)
    return _back(request, reading_list, f"#entry-{entry.pk}")


@list_editor()
def section_reorder(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    """The whole order of one section at once: what the drag-and-drop script posts."""
    form = ReorderForm(request.POST, reading_list=reading_list)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        data = form.cleaned_data
        _apply(
            request,
            services.reorder_section,
            reading_list,
            data["section"],
            data["order"],
            data["version"],
            done="Saved the new order.",
        )
    return _back(request, reading_list)


@list_editor(methods=("GET", "POST"))
def entry_edit(request: HttpRequest, reading_list: ReadingList, entry_id: int) -> HttpResponse:
    """Annotation, pages and required/optional. A refused save keeps what was typed."""
    entry = _entry(reading_list, entry_id)
    if request.method == "POST":
        form = EntryForm(request.POST, instance=Entry(reading_list=reading_list))
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_entry(
                    entry,
                    data["version"],
                    annotation=data["annotation"],
                    pages=data["pages"],
                    required=data["required"],
                )
            except services.ListEditError as exc:
                form.add_error(None, str(exc))
                # Let the next save go through on purpose, with the text kept in the form.
                posted = request.POST.copy()  # form.data is request.POST, which is immutable
                posted["version"] = str(ReadingList.objects.get(pk=reading_list.pk).version)
                form.data = posted
            else:
                messages.success(request, f"Saved the note on “{entry}”.")
                return redirect(reading_list.get_absolute_url() + f"#entry-{entry.pk}")
    else:
        form = EntryForm(instance=entry, initial={"version": reading_list.version})
    return render(
        request,
        "readinglists/entry_form.html",
        {"reading_list": reading_list, "entry": entry, "form": form},
        status=400 if form.errors else 200,
    )


@list_editor()
def entry_remove(request: HttpRequest, reading_list: ReadingList, entry_id: int) -> HttpResponse:
    entry = _entry(reading_list, entry_id)
    version = _version(request)
    if version is not None:
        _apply(
            request,
            services.remove_entry,
            entry,
            version,
            done=f"Removed “{entry}” from the list.",
        )
    return _back(request, reading_list)


@login_required
@require_POST
def add_piece(request: HttpRequest) -> HttpResponse:
    """The add-to-list form on piece pages and search results posts here."""
    form = AddToListForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _safe_referrer(request)
    list_id, section_id = form.cleaned_data["target"]
    reading_list = editable_list(request, list_id)
    piece = get_object_or_404(Piece, citation_key=form.cleaned_data["piece"])
    try:
        section = section_from_value(reading_list, str(section_id or ""))
    except forms.ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request, reading_list)
    where = f"“{reading_list.title}” › “{section.title}”" if section else f"“{reading_list.title}”"
    # services.add_entry formats the new entry in the default styles, so the list page need not.
    _apply(
        request,
        services.add_entry,
        reading_list,
        piece,
        section,
        done=f"Added “{piece.title}” to {where}.",
    )
    return _back(request, reading_list)


def _safe_referrer(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("readinglists:index")


def find_pieces(query: str, limit: int = FIND_LIMIT):
    """Pieces whose title, subtitle, author or key contain every word of ``query``.

    A deliberately small matcher so lists work on their own; the full-text search pages
    offer the same add-to-list form through ``readinglists/_add_to_list.html``.
    """
    pieces = Piece.objects.all()
    for word in query.split()[:10]:
        pieces = pieces.filter(
            Q(title__icontains=word)
            | Q(subtitle__icontains=word)
            | Q(citation_key__icontains=word)
            | Q(authorships__author__family__icontains=word)
            | Q(authorships__author__given__icontains=word)
        )
    return pieces.distinct().with_related().order_by("-date", "title")[:limit]


@list_editor(methods=("GET",))
def find(request: HttpRequest, reading_list: ReadingList) -> HttpResponse:
    """Search the catalogue and add results to this list, one button per result."""
    query = request.GET.get("q", "").strip()[:200]
    results = list(find_pieces(query)) if query else []
    in_list = set(
        Entry.objects.filter(reading_list=reading_list, piece__in=results).values_list(
            "piece_id", flat=True
        )
    )
    return render(
        request,
        "readinglists/find.html",
        {
            "reading_list": reading_list,
            "query": query,
            "results": results,
            "in_list": in_list,
            "sections": reading_list.sections.order_by("position", "pk"),
            "target_section": request.GET.get("section", ""),
        },
    )
