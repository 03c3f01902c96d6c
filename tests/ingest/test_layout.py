"""Layout-aware PDF reading on real producers' output: fpdf2, LibreOffice and pdflatex.

None of the producers puts a blank line between blocks (checked below), the texts are the
demo catalogue's, not the unit tests', and every expectation comes from what was typeset.
"""

from __future__ import annotations

import itertools

import pytest

from library.ingest.layout import _join_lines, build_blocks, page_lines, read_layout
from library.ingest.pdf import parse_pdf
from library.ingest.pdf_worker import BOLD, ITALIC
from library.ingest.text import parse_commentary
from tests.ingest import producers
from tests.ingest.conftest import SPECIMENS


def parsed_all(produced, extractor):
    producer, pdfs = produced
    return [
        (spec, parse_pdf(pdfs[spec.key], source=f"{producer}-{spec.key}.pdf", extractor=extractor))
        for spec in SPECIMENS
    ]


def test_every_field_of_every_commentary_is_read_from_each_producer(produced, layout_extractor):
    wrong = [
        (spec.key, spec.layout, field)
        for spec, parsed in parsed_all(produced, layout_extractor)
        for field, right in producers.score(spec, parsed).items()
        if not right
    ]
    assert wrong == []


def test_bold_headings_bios_and_the_series_label_are_read_apart(produced, layout_extractor):
    for spec, parsed in parsed_all(produced, layout_extractor):
        assert [producers.fold(h) for h in parsed.headings] == [
            producers.fold(h) for h in spec.headings
        ]
        assert parsed.label == spec.label, spec.key
        if spec.label:
            assert spec.label.casefold() not in parsed.title.casefold()
        first = parsed.authors[0]
        assert first.bio.startswith(f"{spec.authors[0]} is ")
        assert producers.RUNNING_HEADER not in parsed.body
        assert "ntu.edu.sg" not in parsed.body + parsed.synopsis


def test_the_producers_set_blocks_tight_with_titles_over_one_to_three_lines(
    produced, layout_extractor
):
    """The fixtures themselves: no blank line anywhere, both layouts, 2-3 pages, long titles."""
    producer, pdfs = produced
    title_lines, page_counts = set(), set()
    for spec in SPECIMENS:
        _, pages = layout_extractor.layout(pdfs[spec.key], source=spec.key)
        page_counts.add(len(pages))
        lines = page_lines(pages[0], 0)
        body_lines = [line for line in lines if 100 < line.y < pages[0]["height"] - 100]
        for above, below in itertools.pairwise(body_lines):
            # A blank line would put two baselines 2.4 sizes apart; tight setting, ~1.2.
            gap = (above.y - below.y) / max(above.size, below.size)
            assert gap < 1.6, f"{producer} {spec.key}: blank line before {below.text!r}"
        title = max(build_blocks([lines]), key=lambda block: block.size)
        title_lines.add(len(title.lines))
    assert title_lines == {1, 2, 3}
    assert page_counts <= {2, 3}
    assert {spec.layout for spec in SPECIMENS} == set(producers.LAYOUTS)


def test_a_plainer_house_style_with_a_logo_and_a_run_on_bio_reads_as_well(layout_extractor):
    """Title larger but not bold, regular byline, notice at body size, bio glued to the end."""
    for spec in SPECIMENS:
        data = producers.fpdf2_plain_pdf(spec)
        parsed = parse_pdf(data, source=f"plain-{spec.key}.pdf", extractor=layout_extractor)
        assert producers.score(spec, parsed) == dict.fromkeys(producers.FIELDS, True), spec.key
        assert parsed.warnings == []
        assert parsed.authors[0].bio.startswith(spec.authors[0])


# --- the layout reader on hand-made pages -------------------------------------------------------


def page(*lines: tuple[float, float, int, str], height: float = 842.0) -> dict:
    """A page from (y, size, style, text) lines, all starting at x = 72."""
    return {
        "width": 595.0,
        "height": height,
        "chunks": [[72.0, y, size, style, text] for y, size, style, text in lines],
    }


BODY = (
    "Shipping through the strait has doubled in a decade, and the littoral states now share "
    "the burden of keeping it open to every flag."
)


def test_a_notice_set_tight_against_the_banner_and_title_cannot_take_them_with_it():
    first = page(
        (790, 8, 0, "RSIS Commentary is a platform to provide timely commentary. The authors'"),
        (781, 8, 0, "views are their own. A note the editors left here."),
        (772, 8, BOLD, "No. 119 – 12 June 2020"),
        (752, 16, BOLD, "Sea Lanes and"),
        (733, 16, BOLD, "Strait Politics"),
        (718, 11, BOLD, "By Ana Santos & Li Wei"),
        (705, 11, BOLD, "SYNOPSIS"),
        (692, 10, ITALIC, "Shipping through the strait is under strain."),
        (679, 11, BOLD, "COMMENTARY"),
        (666, 10, 0, BODY),
    )
    read = read_layout([first])
    parsed = parse_commentary(read.text)
    assert parsed.title == "Sea Lanes and Strait Politics"
    assert (parsed.number, str(parsed.date)) == ("119/2020", "2020-06-12")
    assert parsed.author_names == ["Ana Santos", "Li Wei"]
    assert parsed.body == BODY
    assert read.warnings == [
        "Left out text printed before the synopsis that is not title, byline or banner: "
        "A note the editors left here."
    ]


def test_the_running_header_is_found_by_position_even_in_the_largest_type():
    header = (820, 20, BOLD, "RSIS Commentary")
    pages = [
        page(
            header,
            (760, 16, BOLD, "Sea Lanes and Strait Politics"),
            (740, 11, BOLD, "By Ana Santos"),
            (720, 11, BOLD, "COMMENTARY"),
            (700, 10, 0, BODY),
            (30, 9, 0, "1"),
        ),
        page(header, (760, 10, 0, BODY), (30, 9, 0, "2")),
    ]
    parsed = parse_commentary(read_layout(pages).text)
    assert parsed.title == "Sea Lanes and Strait Politics"
    assert parsed.body == f"{BODY}\n\n{BODY}"


def test_without_larger_type_for_the_title_the_reader_says_so():
    read = read_layout([page((760, 10, 0, "Sea Lanes"), (740, 10, 0, "By Ana Santos"))])
    assert read.warnings == ["The title was not set in larger type; check it."]


@pytest.mark.parametrize(
    ("lines", "words", "hyphenation", "joined"),
    [
        (["the al-", "Qaeda core"], set(), "join", "the al-Qaeda core"),
        (["a war-", "fare of ideas"], set(), "join", "a warfare of ideas"),
        (["civil-", "military ties"], set(), "keep", "civil-military ties"),
        (["civil-", "military ties"], {"civilmilitary"}, "keep", "civilmilitary ties"),
        (["nego-", "tiation"], {"nego-tiation"}, "join", "nego-tiation"),
        (["self-", "styled"], set(), "guess", "self-styled"),
        (["nego-", "tiation"], set(), "guess", "negotiation"),
    ],
)
def test_a_line_end_hyphen_is_decided_by_the_text_then_the_producer(
    lines, words, hyphenation, joined
):
    assert _join_lines(lines, words, hyphenation) == joined


def test_a_byline_wrapped_after_an_initial_or_a_hyphen_stays_one_byline():
    first = page(
        (760, 16, BOLD, "Sea Lanes and Strait Politics"),
        (740, 11, BOLD, "By Ana Santos, Li Wei, Kofi Mensah, Stathis N."),
        (727, 11, BOLD, "Kalyvas and Jas-"),
        (714, 11, BOLD, "minder Singh"),
        (700, 11, BOLD, "COMMENTARY"),
        (686, 10, 0, BODY),
    )
    parsed = parse_commentary(read_layout([first], producer="pdfTeX-1.40.24").text)
    assert parsed.author_names == [
        "Ana Santos",
        "Li Wei",
        "Kofi Mensah",
        "Stathis N. Kalyvas",
        "Jasminder Singh",
    ]


def test_without_byline_or_markers_the_body_after_the_title_is_not_reported_as_left_out():
    read = read_layout([page((760, 16, BOLD, "Sea Lanes and Strait Politics"), (730, 10, 0, BODY))])
    assert read.warnings == []
    assert read.text.endswith(BODY)
