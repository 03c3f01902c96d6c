"""The commentary text parser: the seed field by field, layouts it meets, input it refuses."""

from __future__ import annotations

import datetime

import pytest

from library.ingest.text import content_hash, decode_text, parse_commentary, read_text_file
from library.ingest.types import NotACommentary

HEADINGS = [
    "Will Loss of Territory Defeat IS?",
    "What Constitutes IS?",
    "Will Iraqi Forces Use CT or COIN in Mosul?",
    "The Aftermath",
]


def commentary(*, banner: str = "", byline: str = "By Ana Santos", body: str = "") -> str:
    return (
        f"{banner}\n\nSea Lanes and Strait Politics\n\n{byline}\n\n"
        "Synopsis\n\nShipping through the strait is under strain.\n\n"
        "Commentary\n\n" + (body or "THE STRAIT carries a third of world trade.\n\nIt is busy.\n")
    )


def test_the_seed_title_authors_and_synopsis(seed_text):
    parsed = parse_commentary(seed_text, source="seed.txt")
    assert parsed.title == "Mosul Operation: The Endgame for IS?"
    assert parsed.author_names == ["Abdul Basit"]
    assert parsed.synopsis == (
        "The loss of Mosul will be a huge setback for the self-proclaimed Islamic State "
        "group, posing it an existential threat. However, confusing the loss of territory "
        "with the defeat of IS will be premature and over-simplistic."
    )
    assert parsed.source == "seed.txt"
    assert parsed.warnings == []
    assert parsed.date is None


def test_the_seed_body_has_its_headings_and_clean_paragraphs(seed_text):
    parsed = parse_commentary(seed_text)
    assert parsed.headings == HEADINGS
    assert parsed.sections[0].heading == ""
    assert parsed.sections[0].paragraphs[0].startswith("IN THE last few months")
    assert parsed.sections[1].paragraphs[0].startswith("The fall of Mosul")
    paragraphs = [p for s in parsed.sections for p in s.paragraphs]
    assert len(paragraphs) == 13
    for paragraph in paragraphs:
        assert "\n" not in paragraph
        assert "  " not in paragraph
        assert paragraph == paragraph.strip()
    body = parsed.body
    assert "so-called caliphate" in body  # a line-end hyphen is kept, the break removed
    assert "socio-economic rights" in body
    assert "detection quite difficult." in body  # joined across the page-break gap
    assert "naïve idea" in body
    assert not any(heading in body.split("\n\n") for heading in HEADINGS)
    assert body.endswith("from the ashes like a phoenix.")


def test_reflowed_crlf_copy_has_the_same_hash(seed_text):
    original = parse_commentary(seed_text)
    crlf = parse_commentary(seed_text.replace("\n", "\r\n"))
    rewrapped = parse_commentary(seed_text.replace(" \n", "  \n").replace("\t", " "))
    assert len(original.source_hash) == 64
    assert original.source_hash == crlf.source_hash == rewrapped.source_hash
    assert original.source_hash == content_hash(original.title, original.synopsis, original.body)
    other = parse_commentary(seed_text.replace("phoenix", "dragon"))
    assert other.source_hash != original.source_hash


def test_banner_gives_series_number_publisher_and_date():
    parsed = parse_commentary(commentary(banner="RSIS Commentary No. 263 – 28 October 2016"))
    assert parsed.series == "RSIS Commentaries"
    assert parsed.number == "263/2016"
    assert parsed.publisher == "S. Rajaratnam School of International Studies"
    assert parsed.date == datetime.date(2016, 10, 28)
    assert parsed.date_precision == "day"
    assert parsed.title == "Sea Lanes and Strait Politics"


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        (
            "By Ana Santos, Zoë Ahmed and Nguyễn Thị Minh",
            ["Ana Santos", "Zoë Ahmed", "Nguyễn Thị Minh"],
        ),
        ("By Ana Santos & Zoë Ahmed", ["Ana Santos", "Zoë Ahmed"]),
        ("By Ana Santos, Zoë Ahmed, and Li Wei", ["Ana Santos", "Zoë Ahmed", "Li Wei"]),
        ("By John Smith, Jr. and Ana Santos", ["John Smith, Jr.", "Ana Santos"]),
    ],
)
def test_bylines_with_several_authors(byline, names):
    assert parse_commentary(commentary(byline=byline)).author_names == names


def test_a_closing_bio_becomes_the_authors_bio_and_leaves_the_body():
    body = (
        "THE STRAIT is busy.\n\n"
        "Ana Santos is a Research Fellow at the S. Rajaratnam School of International Studies "
        "(RSIS), Nanyang Technological University, Singapore. Zoë Ahmed is an Associate "
        "Professor at the University of Dhaka.\n"
    )
    parsed = parse_commentary(commentary(byline="By Ana Santos and Zoë Ahmed", body=body))
    santos, ahmed = parsed.authors
    assert santos.affiliation == (
        "Research Fellow at the S. Rajaratnam School of International Studies (RSIS), "
        "Nanyang Technological University, Singapore"
    )
    assert santos.bio.startswith("Ana Santos is a Research Fellow")
    assert ahmed.affiliation == "Associate Professor at the University of Dhaka"
    assert parsed.body == "THE STRAIT is busy."


def test_publisher_boilerplate_is_dropped():
    body = (
        "THE STRAIT is busy.\n\n"
        "RSIS Commentary is a platform to provide timely and, where appropriate, "
        "policy-relevant commentary. The authors' views are their own and do not represent "
        "the official position of the S. Rajaratnam School.\n\n"
        "Please share this publication with your friends. They can subscribe to RSIS "
        "publications by scanning the QR Code below.\n\n"
        "Nanyang Technological University\nBlock S4, Level B3, 50 Nanyang Avenue, "
        "Singapore 639798\nTel: +65 6790 6982 | Email: rsispublications@ntu.edu.sg\n\n2\n"
    )
    parsed = parse_commentary(commentary(body=body))
    assert parsed.body == "THE STRAIT is busy."


def test_odd_whitespace_is_normalised():
    body = "THE\u00a0STRAIT\tis\u200b busy\fand\u00a0crowded.\n\nIt is.\n"
    parsed = parse_commentary(commentary(body=body))
    assert parsed.body == "THE STRAIT is busy and crowded.\n\nIt is."


def test_missing_synopsis_still_parses_with_a_warning():
    text = "A Title Here\n\nBy Ana Santos\n\nCommentary\n\nTHE BODY text.\n"
    parsed = parse_commentary(text)
    assert parsed.synopsis == ""
    assert parsed.body == "THE BODY text."
    assert any("Synopsis" in warning for warning in parsed.warnings)


def test_missing_commentary_marker_takes_the_first_paragraph_as_synopsis():
    text = "A Title Here\n\nBy Ana Santos\n\nSynopsis\n\nShort synopsis.\n\nTHE BODY text.\n"
    parsed = parse_commentary(text)
    assert parsed.synopsis == "Short synopsis."
    assert parsed.body == "THE BODY text."
    assert parsed.warnings


def test_nasty_characters_survive_untouched():
    text = commentary(body="<script>alert(1)</script> & % $ # _ { costs 5%.\n")
    assert parse_commentary(text).body == "<script>alert(1)</script> & % $ # _ { costs 5%."


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("  \n\t\n\u200b\n", "empty"),
        ("\x00\x01\x02binary" * 50, "binary"),
        ("@article{hoffman2006,\n  title = {Inside Terrorism},\n}\n", "BibTeX"),
        ("TY  - JOUR\nTI  - Inside Terrorism\nER  - \n", "RIS"),
        ("just some notes\nwithout any structure at all\n", "no byline"),
        ("By Ana Santos\n\nSynopsis\n\nText.\n", "no title"),
    ],
)
def test_what_is_not_a_commentary_is_refused_with_the_reason(text, reason):
    with pytest.raises(NotACommentary) as caught:
        parse_commentary(text, source="notes.txt")
    assert reason.lower() in caught.value.reason.lower()
    assert str(caught.value).startswith("notes.txt: ")


def test_read_text_file_decodes_and_refuses(tmp_path):
    utf8_bom = tmp_path / "bom.txt"
    utf8_bom.write_bytes("\ufeffZoë\r\nline".encode())
    assert read_text_file(utf8_bom, max_bytes=1000) == "Zoë\nline"
    windows = tmp_path / "cp1252.txt"
    windows.write_bytes("Zoë’s".encode("cp1252"))
    assert read_text_file(windows, max_bytes=1000) == "Zoë’s"
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2048)
    with pytest.raises(NotACommentary, match="over the 1 KB limit"):
        read_text_file(big, max_bytes=1024)
    pdf = tmp_path / "piece.pdf"
    pdf.write_bytes(b"%PDF-1.7\n...")
    with pytest.raises(NotACommentary, match="PDF"):
        read_text_file(pdf, max_bytes=1000)
    with pytest.raises(NotACommentary, match="binary"):
        decode_text(bytes(range(256)))
    with pytest.raises(FileNotFoundError):
        read_text_file(tmp_path / "missing.txt", max_bytes=1000)


def test_a_two_megabyte_commentary_parses_whole():
    paragraph = "The strait carries trade and it is busy every single day of the year.\n" * 4
    parsed = parse_commentary(commentary(body=(paragraph + "\n") * 7200))
    assert len(parsed.sections[0].paragraphs) == 7200
    assert len(parsed.body) > 2_000_000


@pytest.mark.parametrize(
    ("banner", "number", "date", "series"),
    [
        ("No. 119 – 12 June 2020", "119/2020", datetime.date(2020, 6, 12), ""),
        ("No. 119 — 12 June 2020", "119/2020", datetime.date(2020, 6, 12), ""),
        ("No. 119 - 12 June 2020", "119/2020", datetime.date(2020, 6, 12), ""),
        ("No. 119\n12 June 2020", "119/2020", datetime.date(2020, 6, 12), ""),
        (
            "RSIS Commentary No. 263 – 28 October 2016",
            "263/2016",
            datetime.date(2016, 10, 28),
            "RSIS Commentaries",
        ),
    ],
)
def test_the_banner_forms_as_printed_give_number_year_and_date(banner, number, date, series):
    parsed = parse_commentary(commentary(banner=banner))
    assert (parsed.number, parsed.date, parsed.series) == (number, date, series)
    assert parsed.title == "Sea Lanes and Strait Politics"


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Ana Santos & Li Wei", ["Ana Santos", "Li Wei"]),
        ("By Ana Santos and Li Wei", ["Ana Santos", "Li Wei"]),
        ("By Ana Santos, Li Wei, and Kofi Mensah", ["Ana Santos", "Li Wei", "Kofi Mensah"]),
        (
            "By Ana Santos, Li Wei, Kofi Mensah & Zoë Müller",
            ["Ana Santos", "Li Wei", "Kofi Mensah", "Zoë Müller"],
        ),
        (
            "By Ana Santos, Li Wei, Kofi Mensah,\nRavi Nair and Zoë Müller",
            ["Ana Santos", "Li Wei", "Kofi Mensah", "Ravi Nair", "Zoë Müller"],
        ),
        ("By Ana Santos, Li Wei\nand Kofi Mensah", ["Ana Santos", "Li Wei", "Kofi Mensah"]),
    ],
)
def test_bylines_with_ampersands_commas_many_names_and_a_wrapped_line(byline, names):
    assert parse_commentary(commentary(byline=byline)).author_names == names


def test_a_topic_label_before_the_title_is_kept_out_of_it():
    text = commentary(banner="No. 5 – 1 March 2021\nTopic: Global Health Security")
    parsed = parse_commentary(text)
    assert parsed.title == "Sea Lanes and Strait Politics"
    assert parsed.label == "Global Health Security"
    assert parsed.warnings == []  # a label is read, not guessed: no reason to hold the file


def test_boilerplate_is_dropped_by_the_sentence_not_the_paragraph():
    body = (
        "Shipping rates rose. These commentaries may be reproduced with prior permission from "
        "RSIS and due recognition to the author(s) and RSIS. Insurers followed.\n"
    )
    parsed = parse_commentary(commentary(body=body))
    assert parsed.body == "Shipping rates rose. Insurers followed."


def test_a_heading_marked_with_hashes_is_a_heading_whatever_its_case():
    body = "First point made.\n\n## why the strait matters\n\nSecond point made.\n"
    parsed = parse_commentary(commentary(body=body))
    assert parsed.headings == ["why the strait matters"]
    assert parsed.body == "First point made.\n\nSecond point made."
