"""CSL-JSON export: valid against the CSL 1.0.2 schema, and rendered by pandoc's citeproc."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from library.citations.csljson import CSLJSONWriter, csl_item, csl_name
from library.citations.records import CitationRecord
from tests.citations.corpus import CNTS, CREVELD, NASTY
from tests.citations.toolchain import letters, need, pandoc_bibliography

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "csl-data.json").read_text("utf-8")
)


def export(records=NASTY) -> str:
    return "".join(CSLJSONWriter().write(records))


@pytest.fixture(scope="module")
def items() -> dict[str, dict]:
    return {item["id"]: item for item in json.loads(export())}


def test_csljson_export_is_valid_against_the_csl_data_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(export()), SCHEMA)


def test_the_schema_rejects_what_csl_does_not_define():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"id": "k", "type": "blog"}], SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"id": "k", "type": "book", "subtitle_typo": "x"}], SCHEMA)


def test_csljson_streams_one_array_whatever_the_number_of_records():
    assert json.loads(export([])) == []
    assert len(json.loads(export(NASTY[:1]))) == 1
    chunks = list(CSLJSONWriter().write(NASTY))
    assert len(chunks) == len(NASTY) + 1


def test_csljson_names_use_particles_and_literal_organisations():
    assert csl_name(CREVELD) == {
        "family": "Creveld",
        "given": "Martin",
        "non-dropping-particle": "van",
    }
    assert csl_name(CNTS) == {"literal": CNTS.family}


@pytest.mark.parametrize(
    ("month", "day", "parts"),
    [(10, 28, [2016, 10, 28]), (10, None, [2016, 10]), (None, None, [2016])],
)
def test_csljson_issued_date_is_truncated_to_precision(month, day, parts):
    record = CitationRecord(key="k", type="book", title="T", year=2016, month=month, day=day)
    assert csl_item(record)["issued"] == {"date-parts": [parts]}


def test_csljson_item_without_a_date_has_no_issued(items):
    assert "issued" not in items["anonndleaflet"]


def test_csljson_accessed_is_a_full_date_only_where_there_is_a_url(items):
    assert items["anon2021diplomat"]["accessed"] == {"date-parts": [[2021, 2, 4]]}
    assert "accessed" not in items["cntsnguyen2019haze"]


@pytest.mark.parametrize(
    ("key", "csl_type"),
    [
        ("basit2016mosul", "report"),
        ("waever2011specials", "article-journal"),
        ("creveld1991transformation", "book"),
        ("rahman2018jihadism", "chapter"),
        ("anon2021diplomat", "webpage"),
        ("nguyen2015maritime", "thesis"),
        ("anonndleaflet", "document"),
    ],
)
def test_csljson_types(items, key, csl_type):
    assert items[key]["type"] == csl_type


def test_csljson_round_trips_titles_authors_years_and_numbers(items):
    for record in NASTY:
        item = items[record.key]
        assert item["title"] == record.full_title
        assert item.get("author", []) == [csl_name(n) for n in record.authors]
        assert item.get("editor", []) == [csl_name(n) for n in record.editors]
        year = item.get("issued", {}).get("date-parts", [[None]])[0][0]
        assert year == record.year
    assert items["basit2016mosul"]["number"] == "263/2016"
    assert items["basit2016mosul"]["collection-title"] == "RSIS Commentaries"
    assert items["waever2011specials"]["issue"] == "4–5"
    assert items["waever2011specials"]["DOI"] == "10.1177/0967010611418718"


def test_pandoc_citeproc_renders_every_csljson_entry(tmp_path):
    need("pandoc")
    rendered = letters(pandoc_bibliography(tmp_path, "refs.json", export()))
    for record in NASTY:
        assert letters(record.title) in rendered, record.key
