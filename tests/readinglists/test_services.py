"""The list services: ordering, sections, duplicates, versions and snapshots."""

from __future__ import annotations

import pytest

from library.readinglists import services
from library.readinglists.models import Entry, ReadingList, Visibility
from library.readinglists.presentation import layout, records_in_order


def v(rl: ReadingList) -> int:
    """The version a freshly loaded page would carry."""
    return ReadingList.objects.get(pk=rl.pk).version


def titles(rl: ReadingList) -> list[list[str]]:
    return [[item.entry.snapshot_title for item in s.entries] for s in layout(rl)]


def test_entries_are_appended_in_order_to_their_section(reading_list, pieces):
    week = services.add_section(reading_list, "Week 1", v(reading_list))
    services.add_entry(reading_list, pieces[0])
    services.add_entry(reading_list, pieces[1], week)
    services.add_entry(reading_list, pieces[2], week)
    assert titles(reading_list) == [
        ["Mosul Operation: The Endgame for IS?"],
        ["After the Caliphate", "Foreign Fighters Return"],
    ]


def test_a_piece_is_in_a_list_once_and_the_refusal_says_where(reading_list, pieces):
    week = services.add_section(reading_list, "Week 1", v(reading_list))
    services.add_entry(reading_list, pieces[0], week)
    with pytest.raises(services.ListEditError, match=r"already in .* \(in “Week 1”\)"):
        services.add_entry(reading_list, pieces[0])


def test_moving_up_and_down_swaps_neighbours_and_refuses_past_the_ends(reading_list, pieces):
    entries = [services.add_entry(reading_list, p) for p in pieces]
    services.move_entry(entries[2], "up", v(reading_list))
    assert titles(reading_list)[0] == [
        "Mosul Operation: The Endgame for IS?",
        "Foreign Fighters Return",
        "After the Caliphate",
    ]
    with pytest.raises(services.ListEditError, match="already first"):
        services.move_entry(entries[0], "up", v(reading_list))
    with pytest.raises(services.ListEditError, match="already last"):
        services.move_entry(Entry.objects.get(pk=entries[1].pk), "down", v(reading_list))


def test_moving_to_a_section_appends_there_and_closes_the_gap(reading_list, pieces):
    entries = [services.add_entry(reading_list, p) for p in pieces]
    week = services.add_section(reading_list, "Week 2", v(reading_list))
    services.move_entry_to_section(entries[0], week, v(reading_list))
    assert titles(reading_list) == [
        ["After the Caliphate", "Foreign Fighters Return"],
        ["Mosul Operation: The Endgame for IS?"],
    ]
    assert [e.position for e in Entry.objects.filter(section=None).order_by("position")] == [0, 1]


def test_a_section_of_another_list_is_refused(reading_list, pieces, owner):
    other = services.create_list(owner, "Other")
    foreign = services.add_section(other, "Elsewhere", v(other))
    entry = services.add_entry(reading_list, pieces[0])
    with pytest.raises(services.ListEditError, match="belongs to another list"):
        services.move_entry_to_section(entry, foreign, v(reading_list))


def test_sections_reorder_and_deleting_one_keeps_its_readings(reading_list, pieces):
    one = services.add_section(reading_list, "One", v(reading_list))
    two = services.add_section(reading_list, "Two", v(reading_list))
    services.add_entry(reading_list, pieces[0], one)
    services.move_section(two, "up", v(reading_list))
    assert [s.title for s in layout(reading_list)[1:]] == ["Two", "One"]
    services.delete_section(one, v(reading_list))
    assert titles(reading_list) == [["Mosul Operation: The Endgame for IS?"], []]


def test_a_change_built_on_an_older_version_is_refused_and_changes_nothing(reading_list, pieces):
    entries = [services.add_entry(reading_list, p) for p in pieces]
    seen = reading_list.version
    # Collaborator A reorders first; B's form still carries the version both pages showed.
    services.move_entry(entries[1], "up", seen)
    before = titles(reading_list)
    with pytest.raises(services.StaleList, match="Someone else changed this list"):
        services.move_entry(Entry.objects.get(pk=entries[2].pk), "up", seen)
    assert titles(reading_list) == before


def test_concurrent_additions_both_apply(reading_list, pieces):
    # Additions carry no version: each is appended under the lock, whatever the page showed.
    stale_a = ReadingList.objects.get(pk=reading_list.pk)
    stale_b = ReadingList.objects.get(pk=reading_list.pk)
    services.add_entry(stale_a, pieces[0])
    services.add_entry(stale_b, pieces[1])
    assert titles(reading_list)[0] == [
        "Mosul Operation: The Endgame for IS?",
        "After the Caliphate",
    ]


def test_every_change_bumps_the_version(reading_list, pieces):
    start = ReadingList.objects.get(pk=reading_list.pk).version
    services.add_entry(reading_list, pieces[0])
    services.set_visibility(reading_list, Visibility.UNLISTED)
    assert ReadingList.objects.get(pk=reading_list.pk).version == start + 2


def test_unlisted_gets_a_long_token_that_can_be_reissued_and_private_withdraws_it(reading_list):
    services.set_visibility(reading_list, Visibility.UNLISTED)
    first = reading_list.share_token
    assert len(first) >= 32
    services.reissue_link(reading_list)
    assert reading_list.share_token not in (None, first)
    services.set_visibility(reading_list, Visibility.PUBLIC)
    assert reading_list.share_token  # public keeps the link working
    services.set_visibility(reading_list, Visibility.PRIVATE)
    assert ReadingList.objects.get(pk=reading_list.pk).share_token is None
    with pytest.raises(services.ListEditError, match="private list has no link"):
        services.reissue_link(reading_list)


def test_an_unknown_visibility_is_refused_by_name(reading_list):
    with pytest.raises(services.ListEditError, match="'secret'"):
        services.set_visibility(reading_list, "secret")


def test_duplicating_copies_sections_entries_and_notes_as_a_private_list(
    reading_list, pieces, stranger
):
    week = services.add_section(reading_list, "Week 1", v(reading_list))
    entry = services.add_entry(reading_list, pieces[0], week, annotation="Read the conclusion.")
    services.set_visibility(reading_list, Visibility.PUBLIC)
    copy = services.duplicate_list(reading_list, stranger)
    assert copy.owner == stranger
    assert copy.visibility == Visibility.PRIVATE
    assert copy.title == "Copy of Week 3: Islamic State after Mosul"
    assert titles(copy) == titles(reading_list)
    copied = copy.entries.get()
    assert copied.annotation == entry.annotation
    assert copied.section.title == "Week 1"
    assert copied.section.reading_list == copy
    assert not copy.collaborators.exists()


def test_a_deleted_piece_keeps_its_last_known_citation(reading_list, pieces):
    entry = services.add_entry(reading_list, pieces[0])
    piece = pieces[0]
    piece.title = "Mosul Operation: The Endgame for IS? (revised)"
    piece.save()
    piece.delete()
    entry.refresh_from_db()
    assert entry.piece is None
    assert entry.is_removed
    assert entry.snapshot_title == "Mosul Operation: The Endgame for IS? (revised)"
    (record,) = records_in_order(layout(reading_list))
    assert record.authors[0].family == "Basit"
    assert record.title == "Mosul Operation: The Endgame for IS? (revised)"


def test_a_section_takes_a_whole_new_order_only_if_it_names_every_entry(reading_list, pieces):
    week = services.add_section(reading_list, "Week 1", v(reading_list))
    entries = [services.add_entry(reading_list, p, week) for p in pieces]
    ids = [e.pk for e in entries]
    services.reorder_section(reading_list, week, ids[::-1], v(reading_list))
    assert titles(reading_list)[1] == [
        "Foreign Fighters Return",
        "After the Caliphate",
        "Mosul Operation: The Endgame for IS?",
    ]
    for wrong in (ids[:2], [*ids, ids[0]], [*ids[:2], 999999]):
        with pytest.raises(services.ListEditError, match="does not match"):
            services.reorder_section(reading_list, week, wrong, v(reading_list))
    with pytest.raises(services.StaleList):
        services.reorder_section(reading_list, week, ids, v(reading_list) - 1)
