"""``data/demo.json``: real security-studies works, checked as data (no database needed).

Every check gathers all offending records, so one failure names every record to fix.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "library" / "catalogue" / "data"
DEMO_FILE = DATA_DIR / "demo.json"
TOPICS_FILE = DATA_DIR / "topics.json"
REGIONS_FILE = DATA_DIR / "regions.json"

TYPES = {
    "commentary",
    "article",
    "report",
    "policy_brief",
    "book",
    "chapter",
    "web_article",
    "thesis",
    "other",
}
RECORD_KEYS = {
    "type",
    "title",
    "subtitle",
    "authors",
    "editors",
    "date",
    "publisher",
    "place",
    "series",
    "number",
    "container_title",
    "volume",
    "issue",
    "pages",
    "edition",
    "url",
    "doi",
    "language",
    "synopsis",
    "topics",
    "regions",
    "keywords",
}
PERSON_KEYS = {"given", "family", "particle", "suffix", "organisation"}
TEXT_KEYS = RECORD_KEYS - {"authors", "editors", "topics", "regions", "keywords"}

DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
PAGES = re.compile(r"^\d+(?:–\d+)?$")  # digits, with an en dash for a range


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


RECORDS: list[dict] = _load(DEMO_FILE)


def _where(index: int, record: dict) -> str:
    return f"record {index} ({record.get('title', 'untitled')!r})"


def _contributors(record: dict) -> list[dict]:
    return [*record.get("authors", []), *record.get("editors", [])]


def _year(record: dict) -> str:
    return record.get("date", "")[:4]


def _is_real_date(text: str) -> bool:
    match = DATE.match(text)
    if not match:
        return False
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _count_types(*types: str) -> int:
    return sum(1 for record in RECORDS if record.get("type") in types)


def test_the_demo_file_is_a_list_of_at_least_forty_records():
    assert isinstance(RECORDS, list)
    assert len(RECORDS) >= 40
    assert all(isinstance(record, dict) for record in RECORDS)


def test_every_record_uses_only_known_keys():
    problems = [
        f"{_where(i, r)}: unknown key(s) {sorted(set(r) - RECORD_KEYS)}"
        for i, r in enumerate(RECORDS, start=1)
        if set(r) - RECORD_KEYS
    ]
    assert not problems, "\n".join(problems)


def test_optional_fields_are_omitted_rather_than_left_empty():
    problems = [
        f"{_where(i, r)}: {key!r} is empty"
        for i, r in enumerate(RECORDS, start=1)
        for key, value in r.items()
        if value in ("", [], None)
    ]
    assert not problems, "\n".join(problems)


def test_text_fields_hold_strings():
    problems = [
        f"{_where(i, r)}: {key!r} is not a string"
        for i, r in enumerate(RECORDS, start=1)
        for key in TEXT_KEYS & set(r)
        if not isinstance(r[key], str)
    ]
    assert not problems, "\n".join(problems)


def test_every_record_has_a_known_type():
    problems = [
        f"{_where(i, r)}: type {r.get('type')!r}"
        for i, r in enumerate(RECORDS, start=1)
        if r.get("type") not in TYPES
    ]
    assert not problems, "\n".join(problems)


def test_every_record_has_a_title():
    problems = [
        _where(i, r) for i, r in enumerate(RECORDS, start=1) if not str(r.get("title", "")).strip()
    ]
    assert not problems, "\n".join(problems)


def test_every_date_is_a_real_year_month_or_day():
    problems = [
        f"{_where(i, r)}: date {r.get('date')!r}"
        for i, r in enumerate(RECORDS, start=1)
        if not _is_real_date(str(r.get("date", "")))
    ]
    assert not problems, "\n".join(problems)


def test_every_synopsis_is_at_least_a_hundred_characters_of_full_sentences():
    problems = []
    for i, record in enumerate(RECORDS, start=1):
        synopsis = str(record.get("synopsis", "")).strip()
        if len(synopsis) < 100:
            problems.append(f"{_where(i, record)}: synopsis has {len(synopsis)} characters")
        elif not (synopsis[0].isupper() and synopsis.endswith((".", "!", "?"))):
            problems.append(f"{_where(i, record)}: synopsis is not written as full sentences")
    assert not problems, "\n".join(problems)


def test_every_record_has_at_least_one_topic():
    problems = [_where(i, r) for i, r in enumerate(RECORDS, start=1) if not r.get("topics")]
    assert not problems, "\n".join(problems)


def test_tags_and_keywords_are_lists_of_strings():
    problems = [
        f"{_where(i, r)}: {key!r}"
        for i, r in enumerate(RECORDS, start=1)
        for key in ("topics", "regions", "keywords")
        if key in r
        and not (isinstance(r[key], list) and all(isinstance(item, str) for item in r[key]))
    ]
    assert not problems, "\n".join(problems)


def test_every_author_and_editor_is_an_organisation_or_has_a_family_name():
    problems = []
    for i, record in enumerate(RECORDS, start=1):
        for role in ("authors", "editors"):
            people = record.get(role, [])
            if not isinstance(people, list):
                problems.append(f"{_where(i, record)}: {role} is not a list")
                continue
            for person in people:
                if not isinstance(person, dict) or set(person) - PERSON_KEYS:
                    problems.append(f"{_where(i, record)}: {role} entry {person!r}")
                elif not (person.get("organisation") or person.get("family")):
                    problems.append(f"{_where(i, record)}: {role} entry {person!r} has no name")
    assert not problems, "\n".join(problems)


def test_page_ranges_use_digits_and_an_en_dash():
    problems = [
        f"{_where(i, r)}: pages {r['pages']!r}"
        for i, r in enumerate(RECORDS, start=1)
        if "pages" in r and not PAGES.match(r["pages"])
    ]
    assert not problems, "\n".join(problems)


def test_dois_start_with_the_doi_prefix():
    problems = [
        f"{_where(i, r)}: doi {r['doi']!r}"
        for i, r in enumerate(RECORDS, start=1)
        if "doi" in r and not (r["doi"].startswith("10.") and " " not in r["doi"])
    ]
    assert not problems, "\n".join(problems)


def test_urls_are_web_addresses():
    problems = [
        f"{_where(i, r)}: url {r['url']!r}"
        for i, r in enumerate(RECORDS, start=1)
        if "url" in r and not r["url"].startswith(("https://", "http://"))
    ]
    assert not problems, "\n".join(problems)


def test_no_work_appears_twice_with_the_same_title_and_year():
    seen = Counter((str(r.get("title", "")).casefold(), _year(r)) for r in RECORDS)
    assert [key for key, count in seen.items() if count > 1] == []


def test_the_mosul_seed_commentary_is_not_repeated_here():
    assert not [r for r in RECORDS if "mosul operation" in str(r.get("title", "")).casefold()]


@pytest.mark.parametrize(
    ("types", "minimum"),
    [
        (("commentary",), 10),
        (("book",), 10),
        (("article",), 10),
        (("report", "policy_brief"), 3),
    ],
)
def test_the_mix_has_enough_of_each_kind_of_work(types, minimum):
    assert _count_types(*types) >= minimum


def test_at_least_three_records_have_an_organisation_as_author():
    with_organisation = [
        r for r in RECORDS if any(person.get("organisation") for person in r.get("authors", []))
    ]
    assert len(with_organisation) >= 3


def test_at_least_one_chapter_names_its_editors_and_book():
    chapters = [
        r
        for r in RECORDS
        if r.get("type") == "chapter" and r.get("editors") and r.get("container_title")
    ]
    assert chapters


def test_contributors_include_names_beyond_ascii():
    names = [
        " ".join(str(value) for value in person.values())
        for record in RECORDS
        for person in _contributors(record)
    ]
    assert any(not name.isascii() for name in names)


def test_every_topic_is_in_the_shipped_topic_vocabulary():
    known = {topic["slug"] for topic in _load(TOPICS_FILE)}
    problems = [
        f"{_where(i, r)}: topic {slug!r}"
        for i, r in enumerate(RECORDS, start=1)
        for slug in r.get("topics", [])
        if slug not in known
    ]
    assert not problems, "\n".join(problems)


def test_every_region_is_in_the_shipped_region_vocabulary():
    regions = _load(REGIONS_FILE)
    known = {
        *(region["slug"] for region in regions.get("regions", [])),
        *(country["slug"] for country in regions.get("countries", {}).values()),
        *(place["slug"] for place in regions.get("places", [])),
    }
    problems = [
        f"{_where(i, r)}: region {slug!r}"
        for i, r in enumerate(RECORDS, start=1)
        for slug in r.get("regions", [])
        if slug not in known
    ]
    assert not problems, "\n".join(problems)
