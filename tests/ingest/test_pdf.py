"""PDF reading: every field of a generated RSIS commentary, the cleaning, and every bad input."""

from __future__ import annotations

import datetime
import re

import pytest

from library.ingest.keywords import suggest_keywords
from library.ingest.pdf import (
    MB,
    PdfExtractor,
    PdfLimits,
    PdfProblem,
    check_pdf_bytes,
    clean_pages,
    describe_content,
    file_name_problem,
    parse_pdf,
    read_pdf_file,
)
from tests.ingest import pdfmaker
from tests.ingest.pdfmaker import Commentary, commentary_pdf


@pytest.fixture(scope="module")
def extractor():
    with PdfExtractor(PdfLimits(timeout=20)) as shared:
        yield shared


@pytest.fixture(scope="module")
def parsed(extractor):
    return parse_pdf(commentary_pdf(), source="sulu.pdf", extractor=extractor)


def test_the_banner_gives_series_number_date_and_publisher(parsed):
    assert parsed.series == "RSIS Commentaries"
    assert parsed.number == "263/2016"
    assert parsed.date == datetime.date(2016, 10, 28)
    assert parsed.publisher == "S. Rajaratnam School of International Studies"


def test_the_title_over_two_lines_is_joined_without_the_boilerplate(parsed):
    assert parsed.title == "Maritime Security in the Sulu Sea: A New Deal for Patrols?"


def test_every_author_is_read_with_accents_and_the_bio_becomes_the_affiliation(parsed):
    assert parsed.author_names == ["Ana Santos", "Zoë Müller", "José Ramírez"]
    santos = parsed.authors[0]
    assert santos.affiliation.startswith("Research Fellow at the S. Rajaratnam School")
    assert santos.affiliation.endswith("Nanyang Technological University, Singapore")
    assert santos.bio.startswith("Ana Santos is a Research Fellow")


def test_the_synopsis_is_one_line_with_the_line_end_hyphen_undone(parsed):
    assert parsed.synopsis.startswith("Piracy and kidnapping for ransom in the Sulu Sea")
    assert "a huge setback for the Abu Sayyaf Group" in parsed.synopsis
    assert parsed.synopsis.endswith("will not end maritime crime on their own.")
    assert "\n" not in parsed.synopsis


def test_headings_are_kept_apart_from_the_body(parsed):
    assert parsed.headings == ["Trilateral Patrols at Sea", "What Comes Next"]
    assert parsed.body.startswith("THE SULU Sea has long been a hub of kidnapping")
    assert "Trilateral Patrols at Sea" not in parsed.body


def test_the_paragraph_cut_by_the_page_break_is_joined_and_real_hyphens_stay(parsed):
    paragraphs = parsed.body.split("\n\n")
    joined = next(p for p in paragraphs if p.startswith("Coordinated naval patrols"))
    assert "the number of attacks fell sharply as shipping companies rerouted" in joined
    assert "The self-styled maritime wing" in joined
    assert len(paragraphs) == 5


def test_headers_footers_page_numbers_boilerplate_and_bio_are_not_in_the_body(parsed):
    text = parsed.synopsis + parsed.body
    for debris in (
        "Page 1 of 2",
        "Page 2",
        "Nanyang Avenue",
        "S. Rajaratnam School of International Studies  |",
        "RSIS Commentaries  |",
        "is a platform to provide",
        "Please share this publication",
        "Research Fellow",
    ):
        assert debris not in text
    assert all(p == p.strip() and "  " not in p for p in parsed.body.split("\n\n"))
    assert parsed.warnings == []


def test_clean_pages_drops_repeated_edges_and_numbers_but_not_body_lines():
    pages = [
        "Running head\nFirst para line one\nends here.\n\n3",
        "Running head\nSecond page text that ends\n- 4 -",
        "Running head\ncontinues the sentence.\nPage 5 of 9",
    ]
    text = clean_pages(pages)
    assert "Running head" not in text
    assert "3" not in text.split()
    assert "- 4 -" not in text
    assert "Page 5" not in text
    assert "ends here.\n\nSecond page text that ends\ncontinues the sentence." in text


def test_a_single_page_keeps_its_first_and_last_lines():
    assert clean_pages(["Title line\nbody text.\nSign-off line"]).splitlines()[0] == "Title line"


def test_line_end_hyphens_join_words_but_keep_real_compounds():
    text = clean_pages(
        ["a long nego-\ntiation with the counter-\ninsurgency and anti-\nIS forces."]
    )
    assert "a long negotiation\nwith the" in text
    assert "counter-insurgency" in text
    assert "anti-\nIS" in text


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ok name – Zoë (2016).pdf", None),
        ("../etc/passwd.pdf", "path separator ('/')"),
        ("dir\\file.pdf", "path separator ('\\\\')"),
        ("bell\x07.pdf", "control character (U+0007)"),
        ("new\nline.pdf", "control character (U+000A)"),
        ("rtl\u202eFDP.exe", "control character (U+202E)"),
        ("", "empty"),
        ("..", "directory reference"),
        ("x" * 300 + ".pdf", "longer than 255 bytes"),
    ],
)
def test_file_names_with_separators_or_control_characters_are_refused(name, problem):
    found = file_name_problem(name)
    if problem is None:
        assert found is None
    else:
        assert problem in found


def test_a_scanned_pdf_needs_ocr(extractor):
    with pytest.raises(PdfProblem, match="no text layer; needs OCR") as caught:
        parse_pdf(pdfmaker.scanned_pdf(), source="scan.pdf", extractor=extractor)
    assert caught.value.attention is True
    assert caught.value.source == "scan.pdf"


def test_an_encrypted_pdf_is_refused_as_needing_attention(extractor):
    with pytest.raises(PdfProblem, match="encrypted") as caught:
        parse_pdf(pdfmaker.encrypted_pdf(), source="locked.pdf", extractor=extractor)
    assert caught.value.attention is True


def test_a_truncated_pdf_is_refused(extractor):
    data = commentary_pdf()
    with pytest.raises(PdfProblem, match=r"truncated or corrupt.*end-of-file") as caught:
        parse_pdf(data[: len(data) // 2], source="cut.pdf", extractor=extractor)
    assert caught.value.attention is False


def test_a_corrupt_pdf_with_an_end_marker_is_refused(extractor):
    data = b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"
    with pytest.raises(PdfProblem, match="corrupt or truncated"):
        parse_pdf(data, source="junk.pdf", extractor=extractor)


@pytest.mark.parametrize(
    ("data", "described"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "is a PNG image"),
        (b"PK\x03\x04rest", "is a ZIP archive (a Word or other Office file?)"),
        (b"<!DOCTYPE html><html>", "is an HTML page"),
        (b"By Ana Santos\nSynopsis\n", "is plain text"),
        (b"", "is empty"),
    ],
)
def test_a_non_pdf_with_a_pdf_name_is_refused_by_its_magic_bytes(extractor, data, described):
    assert describe_content(data) == described
    with pytest.raises(PdfProblem, match=re.escape(f"is not a PDF: its content {described}")):
        parse_pdf(data, source="fake.pdf", extractor=extractor)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(26 * MB)  # sparse: costs no disk
    with pytest.raises(PdfProblem, match=r"26.0 MB, over the 25 MB limit"):
        read_pdf_file(path, limits=PdfLimits())
    with pytest.raises(PdfProblem, match="over the 1 MB limit"):
        check_pdf_bytes(b"%PDF-" + b"0" * MB, source="big.pdf", limits=PdfLimits(max_bytes=MB))


def test_a_pdf_with_thousands_of_pages_is_refused_by_the_page_limit(extractor):
    with pytest.raises(PdfProblem, match="has 3,000 pages; the limit is 500"):
        parse_pdf(pdfmaker.many_pages_pdf(3000), source="tome.pdf", extractor=extractor)


def test_a_pdf_that_keeps_the_reader_busy_is_stopped_by_the_time_limit():
    with PdfExtractor(PdfLimits(timeout=1)) as slow:
        with pytest.raises(PdfProblem, match="longer than the 1 s limit; it was stopped"):
            parse_pdf(pdfmaker.slow_pdf(), source="loop.pdf", extractor=slow)
        # The killed reader is replaced: the next file reads normally.
        parsed = parse_pdf(commentary_pdf(), source="next.pdf", extractor=slow)
    assert parsed.number == "263/2016"


def test_a_pdf_that_balloons_in_memory_is_stopped_by_the_memory_limit():
    with PdfExtractor(PdfLimits(memory_bytes=100 * MB, timeout=20)) as capped:
        with pytest.raises(PdfProblem, match="more memory than the limit"):
            parse_pdf(pdfmaker.bloated_pdf(60), source="bomb.pdf", extractor=capped)
        parsed = parse_pdf(commentary_pdf(), source="next.pdf", extractor=capped)
    assert parsed.title.startswith("Maritime Security")


def test_one_extractor_reads_many_files_in_one_worker(extractor):
    for index in range(3):
        c = pdfmaker.sample_commentary(index)
        parsed = parse_pdf(commentary_pdf(c), source=f"{index}.pdf", extractor=extractor)
        assert parsed.title.startswith(f"Maritime Security in the Sulu Sea, Part {index + 1}:")


def test_a_worker_that_died_while_idle_is_replaced_and_its_pipes_closed(produced):
    """The reader killed between two files (by the OOM killer, say): the next file, from
    fpdf2, LibreOffice or pdflatex, is read by a new one, and the dead one's pipes are shut."""
    import signal

    from tests.ingest import producers
    from tests.ingest.conftest import SPECIMENS

    producer, pdfs = produced
    spec = SPECIMENS[0]
    with PdfExtractor(PdfLimits(timeout=30)) as reader:
        parse_pdf(commentary_pdf(), source="first.pdf", extractor=reader)
        dead = reader._worker
        assert dead is not None
        dead.process.send_signal(signal.SIGKILL)
        dead.process.wait(timeout=10)
        parsed = parse_pdf(pdfs[spec.key], source=f"{producer}.pdf", extractor=reader)
        assert reader._worker is not dead
    assert producers.score(spec, parsed) == dict.fromkeys(producers.FIELDS, True)
    assert dead.stdin.closed
    assert dead.stdout.closed


def test_a_commentary_with_markup_characters_survives_as_text(extractor):
    c = Commentary(
        title=("<script>alert(1)</script> & % $ # _ {", "Braces and Symbols"),
        byline="By Ana Santos",
    )
    parsed = parse_pdf(commentary_pdf(c), source="odd.pdf", extractor=extractor)
    assert parsed.title == "<script>alert(1)</script> & % $ # _ { Braces and Symbols"


def test_keywords_come_from_the_text_and_skip_names_and_vocabulary_terms(parsed):
    keywords = suggest_keywords(
        parsed.title, parsed.synopsis, parsed.body, exclude=["Ana Santos", "Sulu Sea"]
    )
    assert 1 <= len(keywords) <= 8
    folded = [k.casefold() for k in keywords]
    assert not any("sulu sea" in k or "ana santos" in k for k in folded)
    assert any("abu sayyaf" in k or "patrol" in k or "kidnapping" in k for k in folded)
    assert len(set(folded)) == len(folded)


def test_keywords_for_empty_or_tiny_text_are_none():
    assert suggest_keywords("", "", "") == []
    assert suggest_keywords("Title", "", "") == []


def test_keywords_do_not_repeat_a_phrase_in_the_plural(seed_text):
    from library.ingest.text import parse_commentary

    seed = parse_commentary(seed_text)
    keywords = [k.casefold() for k in suggest_keywords(seed.title, seed.synopsis, seed.body)]
    assert keywords
    singular = [" ".join(w.removesuffix("s") for w in k.split()) for k in keywords]
    assert len(set(singular)) == len(singular)


def test_a_stream_that_inflates_past_the_readers_own_limit_is_refused(extractor):
    with pytest.raises(PdfProblem, match="inflates beyond the reader's limit"):
        parse_pdf(pdfmaker.bloated_pdf(600), source="bomb.pdf", extractor=extractor)


def test_a_reader_that_dies_mid_file_is_reported_not_hung():
    # Under a 32 MB cap the worker cannot even import pypdf: it dies before it answers.
    data = commentary_pdf()
    starved = PdfExtractor(PdfLimits(memory_bytes=32 * MB, timeout=20))
    with starved, pytest.raises(PdfProblem, match="the PDF reader stopped unexpectedly"):
        starved.pages(data, source="crash.pdf")


def test_a_banner_repeated_as_the_running_header_still_gives_number_and_date(extractor):
    data = commentary_pdf(Commentary(banner_on_every_page=True))
    parsed = parse_pdf(data, source="banner.pdf", extractor=extractor)
    assert (parsed.number, parsed.date) == ("263/2016", datetime.date(2016, 10, 28))
    assert parsed.title == "Maritime Security in the Sulu Sea: A New Deal for Patrols?"
    assert "No. 263" not in parsed.body


def test_keywords_are_noun_phrases_not_clause_fragments(seed_text):
    """The fragments issue 14 found in exports: "Iraqi Sunnis political", "Raqqa depends"."""
    from library.ingest.text import parse_commentary

    seed = parse_commentary(seed_text)
    keywords = suggest_keywords(seed.title, seed.synopsis, seed.body, names=seed.author_names)
    assert "Islamic State" in keywords
    assert not any(k.casefold().endswith(("political", "sunnis political")) for k in keywords)
    raqqa = suggest_keywords(
        "After the Fall of Raqqa",
        "Raqqa depends on the Kurdish forces and the tribes around the Euphrates dam.",
        "Raqqa depends on water from the Euphrates dam. The Kurdish forces hold the dam.",
    )
    assert raqqa
    assert not any("depends" in k for k in raqqa)


def test_keywords_leave_out_author_surnames_and_the_title_itself():
    keywords = suggest_keywords(
        "Inside Terrorism",
        "Hoffman traces how terrorism evolved from anti-colonial struggles to religiously "
        "motivated violence with a global reach. Hoffman argues that terrorism is political "
        "violence aimed at audiences beyond its immediate victims.",
        "",
        names=["Bruce Hoffman"],
    )
    assert keywords
    assert not any("hoffman" in k.casefold() for k in keywords)
    assert "Inside Terrorism" not in keywords
