"""Admin for reading lists: enough to inspect and fix, not the main way to edit."""

from django.contrib import admin

from library.readinglists.models import Entry, ReadingList, Section


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    raw_id_fields = ["piece", "added_by"]
    fields = ["section", "position", "piece", "snapshot_title", "required", "pages"]
    readonly_fields = ["snapshot_title"]


@admin.register(ReadingList)
class ReadingListAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "visibility", "updated_at"]
    list_filter = ["visibility"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["collaborators"]
    readonly_fields = ["share_token", "version"]
    inlines = [SectionInline, EntryInline]
