"""RIS export, read back with rispy."""

from __future__ import annotations

import pytest
import rispy

from library.citations.records import CitationRecord
from library.citations.ris import RISWriter, ris_date, ris_name
from tests.citations.corpus import CNTS, CREVELD, KING, NASTY, RAHMAN


def export(records=NASTY) -> str:
    return "".join(RISWriter().write(records))


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict]:
    return {entry["id"]: entry for entry in rispy.loads(export())}


def test_ris_lines_end_in_crlf_and_each_record_ends_with_er():
    text = export(NASTY[:1])
    assert text.endswith("ER  - \r\n\r\n")
    assert "\n" not in text.replace("\r\n", "")


@pytest.mark.parametrize(
    ("key", "ty"),
    [
        ("basit2016mosul", "RPRT"),
        ("waever2011specials", "JOUR"),
        ("hasan2020yemen", "RPRT"),
        ("creveld1991transformation", "BOOK"),
        ("rahman2018jihadism", "CHAP"),
        ("anon2021diplomat", "ELEC"),
        ("nguyen2015maritime", "THES"),
        ("anonndleaflet", "GEN"),
    ],
)
def test_ris_type_per_piece_type(parsed, key, ty):
    assert parsed[key]["type_of_reference"] == ty


def test_ris_names_are_family_comma_given():
    assert ris_name(CREVELD) == "van Creveld, Martin"
    assert ris_name(RAHMAN) == "al-Raḥmān, Ḥasan"
    assert ris_name(KING) == "King, Martin Luther, Jr."
    assert ris_name(CNTS) == CNTS.family


@pytest.mark.parametrize(
    ("month", "day", "expected"),
    [(10, 28, "2016/10/28/"), (10, None, "2016/10//"), (None, None, "2016///")],
)
def test_ris_date_leaves_unknown_parts_empty(month, day, expected):
    record = CitationRecord(key="k", type="book", title="T", year=2016, month=month, day=day)
    assert ris_date(record) == expected


def test_ris_round_trips_every_record_through_rispy(parsed):
    assert list(parsed) == [r.key for r in NASTY]
    for record in NASTY:
        entry = parsed[record.key]
        assert entry["title"] == record.full_title
        assert entry.get("authors", []) == [ris_name(n) for n in record.authors]
        assert entry.get("secondary_authors", []) == [ris_name(n) for n in record.editors]
        assert entry.get("year") == (str(record.year) if record.year else None)
        assert entry.get("number") == (record.issue or record.number or None)
        assert entry.get("urls", []) == ([record.url] if record.url else [])
        assert entry.get("language") == record.language


def test_ris_keeps_series_pages_keywords_and_doi(parsed):
    commentary = parsed["basit2016mosul"]
    assert commentary["tertiary_title"] == "RSIS Commentaries"
    assert commentary["keywords"] == ["Islamic State", "Iraq", "counter-terrorism"]
    assert commentary["type_of_work"] == "Commentary"
    article = parsed["waever2011specials"]
    assert (article["start_page"], article["end_page"]) == ("465", "480")
    assert article["doi"] == "10.1177/0967010611418718"
    assert article["secondary_title"] == "Security Dialogue"


def test_ris_writes_the_access_date_as_y2(parsed):
    assert parsed["anon2021diplomat"]["access_date"] == "2021/02/04"
    assert "access_date" not in parsed["cntsnguyen2019haze"]


def test_ris_keeps_special_characters_and_markup_as_plain_text(parsed):
    assert parsed["waever2011specials"]["title"].endswith("<script>alert(1)</script>")


def test_ris_value_never_spans_lines():
    record = CitationRecord(key="k", type="book", title="Line one\nER  - \nline two")
    assert "TI  - Line one ER - line two\r\n" in export([record])
