"""Django admin for the catalogue: searchable, filterable, with an ordered author inline."""

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.db import connection, transaction

from library.catalogue import concurrency
from library.catalogue.locking import lock_piece_saves
from library.catalogue.models import Author, Authorship, Piece, Region, Topic


class PieceAdminForm(forms.ModelForm):
    """The admin's piece form refuses a stale save as the editor's form does.

    ``change_form.html`` (templates/admin/catalogue/piece/) renders the hidden version and
    fingerprint; a refused save shows the other editor's changes and, saved again, applies.
    """

    class Meta:
        model = Piece
        fields = "__all__"  # noqa: DJ007 - the admin narrows it to its fieldsets
        field_classes = {"url": partial(forms.URLField, assume_scheme="https")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            concurrency.add_version_fields(self, self.instance)

    def clean(self) -> dict[str, Any]:
        super().clean()  # a ModelForm's clean() returns its cleaned_data
        data = self.cleaned_data
        expected = data.get(concurrency.VERSION_FIELD)
        if not self.instance.pk or not expected:
            return data
        if connection.in_atomic_block:  # the admin's change view is: hold it until saved
            lock_piece_saves()
        current = Piece.objects.select_for_update().filter(pk=self.instance.pk).first()
        if current is not None and current.version != expected:
            stale = concurrency.StalePiece(current.pk, expected, current.version)
            self.data, changes = concurrency.merged_data(self, type(self)(instance=current), stale)
            concurrency.apply_change_errors(self, changes, stale)
        return data


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 1
    autocomplete_fields = ["author"]
    fields = ["position", "author", "role"]
    ordering = ["role", "position"]


@admin.register(Piece)
class PieceAdmin(admin.ModelAdmin):
    list_display = ["title", "citation_key", "type", "date", "series", "number", "provenance"]
    list_filter = ["type", "provenance", "date_precision", "topics", "regions"]
    search_fields = [
        "title",
        "subtitle",
        "citation_key",
        "synopsis",
        "authorships__author__family",
        "series",
        "number",
        "doi",
    ]
    date_hierarchy = "date"
    autocomplete_fields = ["topics", "regions"]
    inlines = [AuthorshipInline]
    form = PieceAdminForm
    readonly_fields = [
        "version",
        "provenance",
        "source_file",
        "source_hash",
        "created_at",
        "updated_at",
        "created_by",
    ]
    fieldsets = [
        (None, {"fields": ["type", "title", "subtitle", "citation_key"]}),
        ("Date", {"fields": ["date", "date_precision"]}),
        (
            "Publication",
            {
                "fields": [
                    "publisher",
                    "place",
                    "series",
                    "number",
                    "container_title",
                    "volume",
                    "issue",
                    "pages",
                    "edition",
                    "url",
                    "accessed",
                    "doi",
                    "language",
                    "note",
                ]
            },
        ),
        ("Content", {"fields": ["synopsis", "body"]}),
        ("Tags", {"fields": ["topics", "regions", "keywords"]}),
        (
            "Provenance",
            {
                "classes": ["collapse"],
                "fields": [
                    "provenance",
                    "source_file",
                    "source_hash",
                    "created_at",
                    "updated_at",
                    "created_by",
                    "version",
                ],
            },
        ),
    ]

    def save_model(self, request, obj: Piece, form, change: bool) -> None:
        """Bump the version under the lock ``PieceAdminForm.clean`` checked it with."""
        with transaction.atomic():
            lock_piece_saves()
            concurrency.claim_version(obj, None)
            super().save_model(request, obj, form, change)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["sort_name", "kind", "affiliation"]
    list_filter = ["kind"]
    search_fields = ["family", "given", "affiliation"]
    prepopulated_fields = {"slug": ["given", "family"]}


class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    search_fields = ["name", "slug", "aliases"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Topic)
class TopicAdmin(TermAdmin):
    pass


@admin.register(Region)
class RegionAdmin(TermAdmin):
    list_display = ["name", "slug", "kind", "iso_code", "parent"]
    list_filter = ["kind"]
