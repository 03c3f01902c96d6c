"""Every change to a reading list, each in one transaction that locks the list row.

Two collaborators editing at once lose nothing: additions are appended under the lock, so
both apply; changes made from a page (reorders, moves, removals, edits) carry the list
version the page showed, and a change built on an older version is refused with
:class:`StaleList` rather than applied to an order its author never saw. On SQLite the
lock is the database write lock (``transaction_mode=IMMEDIATE``); on PostgreSQL it is
``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from library.catalogue.citation_store import store_every_style
from library.catalogue.models import Piece
from library.readinglists.models import Entry, ReadingList, Section, Visibility, new_share_token
from library.readinglists.snapshots import record_from_json, take_snapshot

Direction = Literal["up", "down"]


class ListEditError(Exception):
    """A change that cannot be made; the message says why, for the person who asked."""


class StaleList(ListEditError):
    """The list changed since the page that sent this change was loaded."""


@contextmanager
def editing(
    reading_list: ReadingList, expected_version: int | None = None
) -> Iterator[ReadingList]:
    """Lock the list, check the version the form showed, and bump it when the block succeeds."""
    with transaction.atomic():
        locked = ReadingList.objects.select_for_update().get(pk=reading_list.pk)
        if expected_version is not None and locked.version != expected_version:
            raise StaleList(
                "Someone else changed this list while you were looking at it, so your change "
                "was not made. The page now shows the current list; please try again."
            )
        yield locked
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
    reading_list.version = locked.version


def _renumber(items: list) -> None:
    for index, item in enumerate(items):
        item.position = index
    if items:
        type(items[0]).objects.bulk_update(items, ["position"])


def _entries_in(reading_list: ReadingList, section: Section | None) -> list[Entry]:
    return list(
        Entry.objects.filter(reading_list=reading_list, section=section).order_by("position", "pk")
    )


def _check_section(reading_list: ReadingList, section: Section | None) -> None:
    if section is not None and section.reading_list_id != reading_list.pk:
        raise ListEditError(f"The section “{section.title}” belongs to another list.")


def create_list(owner: User, title: str, description: str = "") -> ReadingList:
    return ReadingList.objects.create(owner=owner, title=title, description=description)


def update_list(
    reading_list: ReadingList, expected_version: int | None, *, title: str, description: str
) -> None:
    with editing(reading_list, expected_version) as locked:
        locked.title = title
        locked.description = description
        locked.save(update_fields=["title", "description"])
    reading_list.title, reading_list.description = title, description


def add_entry(
    reading_list: ReadingList,
    piece: Piece,
    section: Section | None = None,
    *,
    added_by: User | None = None,
    annotation: str = "",
    pages: str = "",
    required: bool = True,
) -> Entry:
    """Append the piece to the end of the section; a piece is in a list at most once."""
    _check_section(reading_list, section)
    with editing(reading_list) as locked:
        existing = Entry.objects.filter(reading_list=locked, piece=piece).first()
        if existing is not None:
            where = f"in “{existing.section.title}”" if existing.section else "at the top"
            raise ListEditError(f"“{piece.title}” is already in “{locked.title}” ({where}).")
        last = Entry.objects.filter(reading_list=locked, section=section).aggregate(
            m=Max("position")
        )["m"]
        entry = Entry(
            reading_list=locked,
            section=section,
            piece=piece,
            position=0 if last is None else last + 1,
            annotation=annotation,
            pages=pages,
            required=required,
            added_by=added_by,
        )
        take_snapshot(entry, piece)
        entry.save()
    record = record_from_json(entry.snapshot_record)
    if record is not None:
        # Every style now, outside the list's lock (~100 ms of citeproc): the list's first
        # view in any style then reads stored texts (library.catalogue.citation_store).
        store_every_style(record, piece.pk)
    return entry


def update_entry(
    entry: Entry, expected_version: int | None, *, annotation: str, pages: str, required: bool
) -> None:
    with editing(entry.reading_list, expected_version):
        entry.annotation, entry.pages, entry.required = annotation, pages, required
        entry.save(update_fields=["annotation", "pages", "required"])


def move_entry(entry: Entry, direction: Direction, expected_version: int | None) -> None:
    """Swap the entry with its neighbour in the same section."""
    with editing(entry.reading_list, expected_version):
        items = _entries_in(entry.reading_list, entry.section)
        _swap(items, next(i for i, e in enumerate(items) if e.pk == entry.pk), direction)
        _renumber(items)


def reorder_section(
    reading_list: ReadingList,
    section: Section | None,
    entry_ids: list[int],
    expected_version: int | None,
) -> None:
    """Put a section's entries in the given order (drag and drop sends the whole order)."""
    _check_section(reading_list, section)
    with editing(reading_list, expected_version):
        items = {e.pk: e for e in _entries_in(reading_list, section)}
        if sorted(entry_ids) != sorted(items):
            raise ListEditError(
                "The new order does not match the section’s readings; reload the page and retry."
            )
        _renumber([items[pk] for pk in entry_ids])


def move_entry_to_section(
    entry: Entry, section: Section | None, expected_version: int | None
) -> None:
    """Put the entry at the end of another section (``None``: the top part of the list)."""
    _check_section(entry.reading_list, section)
    with editing(entry.reading_list, expected_version):
        if entry.section_id == (section.pk if section else None):
            return
        old = entry.section
        target = _entries_in(entry.reading_list, section)
        entry.section = section
        entry.position = len(target)
        entry.save(update_fields=["section", "position"])
        _renumber(_entries_in(entry.reading_list, old))


def remove_entry(entry: Entry, expected_version: int | None) -> None:
    with editing(entry.reading_list, expected_version):
        section = entry.section
        entry.delete()
        _renumber(_entries_in(entry.reading_list, section))


def add_section(reading_list: ReadingList, title: str, expected_version: int | None) -> Section:
    with editing(reading_list, expected_version) as locked:
        count = Section.objects.filter(reading_list=locked).count()
        return Section.objects.create(reading_list=locked, title=title, position=count)


def rename_section(section: Section, title: str, expected_version: int | None) -> None:
    with editing(section.reading_list, expected_version):
        section.title = title
        section.save(update_fields=["title"])


def move_section(section: Section, direction: Direction, expected_version: int | None) -> None:
    with editing(section.reading_list, expected_version):
        items = list(section.reading_list.sections.order_by("position", "pk"))
        _swap(items, next(i for i, s in enumerate(items) if s.pk == section.pk), direction)
        _renumber(items)


def delete_section(section: Section, expected_version: int | None) -> None:
    """Delete a section; its entries move to the end of the top part, nothing is lost."""
    reading_list = section.reading_list
    with editing(reading_list, expected_version):
        top = _entries_in(reading_list, None)
        moved = _entries_in(reading_list, section)
        for entry in moved:
            entry.section = None
        Entry.objects.bulk_update(moved, ["section"])
        section.delete()
        _renumber(top + moved)
        _renumber(list(reading_list.sections.order_by("position", "pk")))


def _swap(items: list, index: int, direction: Direction) -> None:
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(items):
        where = "first" if direction == "up" else "last"
        raise ListEditError(f"“{items[index]}” is already {where}; nothing was moved.")
    items[index], items[other] = items[other], items[index]


def set_visibility(reading_list: ReadingList, visibility: str) -> None:
    """Change who can read the list. Making it private withdraws any unlisted link."""
    if visibility not in Visibility.values:
        raise ListEditError(
            f"Unknown visibility {visibility!r}; choose private, unlisted or public."
        )
    with editing(reading_list) as locked:
        locked.visibility = visibility
        if visibility == Visibility.PRIVATE:
            locked.share_token = None
        elif not locked.share_token:
            locked.share_token = new_share_token()
        locked.save(update_fields=["visibility", "share_token"])
    reading_list.visibility, reading_list.share_token = locked.visibility, locked.share_token


def reissue_link(reading_list: ReadingList) -> None:
    """Revoke the current link; a new one works from now on (old copies answer 404)."""
    if reading_list.visibility == Visibility.PRIVATE:
        raise ListEditError("A private list has no link; make it unlisted or public first.")
    with editing(reading_list) as locked:
        locked.share_token = new_share_token()
        locked.save(update_fields=["share_token"])
    reading_list.share_token = locked.share_token


def add_collaborator(reading_list: ReadingList, user: User) -> None:
    if user.pk == reading_list.owner_id:
        raise ListEditError(f"{user.get_username()} owns this list already.")
    with editing(reading_list) as locked:
        locked.collaborators.add(user)


def remove_collaborator(reading_list: ReadingList, user: User) -> None:
    with editing(reading_list) as locked:
        locked.collaborators.remove(user)


def duplicate_list(reading_list: ReadingList, owner: User) -> ReadingList:
    """A private copy with the same sections, entries and notes, owned by ``owner``."""
    with transaction.atomic():
        copy = ReadingList.objects.create(
            owner=owner,
            title=f"Copy of {reading_list.title}"[:200],
            description=reading_list.description,
        )
        sections: dict[int | None, Section] = {}  # by pk; an entry without one gets None
        for section in reading_list.sections.order_by("position", "pk"):
            sections[section.pk] = Section.objects.create(
                reading_list=copy, title=section.title, position=section.position
            )
        Entry.objects.bulk_create(
            Entry(
                reading_list=copy,
                section=sections.get(entry.section_id),
                piece_id=entry.piece_id,
                position=entry.position,
                annotation=entry.annotation,
                pages=entry.pages,
                required=entry.required,
                snapshot_title=entry.snapshot_title,
                snapshot_key=entry.snapshot_key,
                snapshot_record=entry.snapshot_record,
                added_by=owner,
            )
            for entry in reading_list.entries.order_by("position", "pk")
        )
    return copy
