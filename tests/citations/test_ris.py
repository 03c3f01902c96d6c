"""RIS export, read back with rispy."""

from __future__ import annotations

import pytest
import rispy

from library.citations.records import CitationRecord
from library.citations.ris import RISWriter, ris_date, ris_name
from tests.citations.corpus import CNTS, CREVELD, KING, NASTY, RAHMAN

REPORTS = ("commentary", "report", "policy_brief")


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
        # Zotero reads GEN as a journal article; PAMP as a manuscript.
        ("anonndleaflet", "PAMP"),
    ],
)
def test_ris_type_per_piece_type(parsed, key, ty):
    assert parsed[key]["type_of_reference"] == ty


def test_a_commentary_in_a_venue_with_no_publisher_is_a_magazine_article():
    record = CitationRecord(
        key="k", type="commentary", title="T", container_title="Foreign Policy", number="12"
    )
    [entry] = rispy.loads(export([record]))
    assert entry["type_of_reference"] == "MGZN"
    assert entry["secondary_title"] == "Foreign Policy"  # Zotero: publicationTitle
    assert entry["type_of_work"] == "Commentary"


def test_ris_tags_follow_zoteros_map_for_each_type(parsed):
    # Zotero's RIS translator: a report's T2 is its series and SN its number; a book's
    # editors are A3 (its A2 are series editors); a chapter's editors are A2.
    report = parsed["basit2016mosul"]
    assert (report["secondary_title"], report["issn"]) == ("RSIS Commentaries", "263/2016")
    assert "number" not in report  # IS is "issue", which a Zotero report does not have
    book = CitationRecord(
        key="b", type="book", title="T", editors=(KING,), series="S", number="4", volume="2"
    )
    [entry] = rispy.loads(export([book]))
    assert entry["tertiary_authors"] == [ris_name(KING)]
    assert "secondary_authors" not in entry
    assert (entry["secondary_title"], entry["note"], entry["volume"]) == ("S", "4", "2")
    chapter = parsed["rahman2018jihadism"]
    assert chapter["secondary_authors"] == [ris_name(n) for n in NASTY[6].editors]
    assert chapter["secondary_title"] == "The Oxford Handbook of Terrorism"


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
        editors = entry.get("secondary_authors", []) + entry.get("tertiary_authors", [])
        assert editors == [ris_name(n) for n in record.editors]
        assert entry.get("year") == (str(record.year) if record.year else None)
        assert entry.get("number") == (record.issue or None)
        number = entry.get("issn") if record.type in REPORTS else entry.get("note")
        assert (number or "") == record.number
        assert entry.get("urls", []) == ([record.url] if record.url else [])
        assert entry.get("language") == record.language


def test_ris_keeps_series_pages_keywords_and_doi(parsed):
    commentary = parsed["basit2016mosul"]
    assert commentary["secondary_title"] == "RSIS Commentaries"
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
