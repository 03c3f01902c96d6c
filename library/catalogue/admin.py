"""Django admin for the catalogue: searchable, filterable, with an ordered author inline."""

from django.contrib import admin

from library.catalogue.models import Author, Authorship, Piece, Region, Topic


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
    readonly_fields = [
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
                ],
            },
        ),
    ]


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
