"""Highlight markup is built from escaped text; folding keeps offsets."""

from __future__ import annotations

import pytest

from library.search.text import (
    MARK_END,
    MARK_START,
    clean_for_index,
    fold,
    markup,
    plain,
    restore_original,
)


@pytest.mark.parametrize(
    ("marked", "html"),
    [
        (f"a {MARK_START}b{MARK_END} c", "a <mark>b</mark> c"),
        (
            f"<script>{MARK_START}x{MARK_END}</script>",
            "&lt;script&gt;<mark>x</mark>&lt;/script&gt;",
        ),
        (f"& % $ # _ {{ {MARK_START}&{MARK_END}", "&amp; % $ # _ { <mark>&amp;</mark>"),
        (f"{MARK_START}unclosed", "<mark>unclosed</mark>"),
        (f"{MARK_END}stray", "stray"),
        ("\"quotes\" and 'apostrophes'", "&quot;quotes&quot; and &#x27;apostrophes&#x27;"),
        ("", ""),
    ],
)
def test_markup_escapes_everything_but_its_own_marks(marked, html):
    assert str(markup(marked)) == html


def test_stored_text_cannot_forge_marks():
    assert MARK_START not in clean_for_index(f"evil{MARK_START}<b>{MARK_END}")


def test_folding_is_case_and_accent_blind_and_keeps_length():
    assert fold("Đà Nẵng") == "da nang"
    assert fold("Zoë WÆVER") == "zoe wæver"
    assert len(clean_for_index("Đà Nẵng Łódź")) == len("Đà Nẵng Łódź")


def test_restore_original_puts_stroke_letters_back():
    original = "Off Đà Nẵng, the coast guard"
    folded = clean_for_index(original)
    marked = f"…f {MARK_START}Dà{MARK_END} Nẵng, the…"
    assert plain(restore_original(marked, folded, original)) == "…f Đà Nẵng, the…"


def test_snippets_are_one_line():
    from library.search.text import tidy_snippet

    assert tidy_snippet(f"Iraq\n{MARK_START}Syria{MARK_END}\n\n  Levant") == (
        f"Iraq · {MARK_START}Syria{MARK_END} · Levant"
    )
