"""BibLaTeX export: the biblatex data model, UTF-8 kept, compiled with biber and pandoc."""

from __future__ import annotations

import bibtexparser
import pytest

from library.citations.biblatex import BibLaTeXWriter, iso_date
from library.citations.latex import braces_balanced
from library.citations.records import CitationRecord
from tests.citations.corpus import NASTY
from tests.citations.toolchain import compile_biblatex, letters, need, pandoc_bibliography

BY_KEY = {record.key: record for record in NASTY}


def export(records=NASTY) -> str:
    return "".join(BibLaTeXWriter().write(records))


def fields(key: str) -> dict[str, str]:
    parsed = bibtexparser.parse_string(BibLaTeXWriter().entry(BY_KEY[key])).entries[0]
    return {"ENTRYTYPE": parsed.entry_type} | {f.key: f.value for f in parsed.fields}


@pytest.mark.parametrize(
    ("key", "entry_type"),
    [
        ("basit2016mosul", "report"),
        ("waever2011specials", "article"),
        ("hasan2020yemen", "report"),
        ("creveld1991transformation", "book"),
        ("rahman2018jihadism", "incollection"),
        ("anon2021diplomat", "online"),
        ("nguyen2015maritime", "thesis"),
        ("anonndleaflet", "misc"),
    ],
)
def test_biblatex_uses_the_biblatex_entry_types(key, entry_type):
    assert fields(key)["ENTRYTYPE"] == entry_type


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [(2016, 10, 28, "2016-10-28"), (2016, 10, None, "2016-10"), (2016, None, None, "2016")],
)
def test_biblatex_date_is_iso_at_the_pieces_precision(year, month, day, expected):
    record = CitationRecord(key="k", type="book", title="T", year=year, month=month, day=day)
    assert iso_date(record) == expected


def test_biblatex_commentary_is_a_report_with_type_number_and_institution():
    report = fields("basit2016mosul")
    assert report["type"] == "RSIS Commentaries"
    assert report["number"] == "263/2016"
    assert report["institution"] == "{S. Rajaratnam School of International Studies}"
    assert report["date"] == "2016-10-28"
    # Only the acronym keeps its case under \MakeSentenceCase; "Endgame" may be lowered.
    assert report["subtitle"] == "The Endgame for {IS}?"


def test_biblatex_keeps_utf8_and_escapes_only_latex_specials():
    article = fields("waever2011specials")
    assert article["author"] == "Wæver, Ole and Marks, Zoë"
    # "Costs & Benefits: 100% of …" is written split at the colon, as importers read it.
    assert article["title"] == r"Costs {\&} Benefits"
    assert r"{\textbackslash}" in article["subtitle"]
    assert "<script>" in article["subtitle"]  # harmless to LaTeX; escaped in HTML output
    assert article["journaltitle"] == "Security Dialogue"
    assert article["number"] == "4–5"


def test_biblatex_braces_list_fields_so_and_does_not_split_an_institution():
    report = fields("cnts2022annual")
    assert report["institution"] == (
        "{Centre for Non-Traditional Security Studies and Humanitarian Affairs}"
    )


def test_biblatex_thesis_type_is_a_localisation_key():
    assert fields("nguyen2015maritime")["type"] == "phdthesis"
    assert fields("marks2017masters")["type"] == "mathesis"


def test_biblatex_web_article_is_online_with_the_raw_url():
    online = fields("anon2021diplomat")
    assert online["url"] == (
        "https://thediplomat.com/2021/02/whither_the-quad/?utm=a%20b&x=~y#section-2"
    )
    assert online["organization"] == "{The Diplomat}"


def test_biblatex_writes_the_access_date_as_urldate_and_the_note_escaped():
    assert fields("anon2021diplomat")["urldate"] == "2021-02-04"
    assert fields("basit2016mosul")["urldate"] == "2024-01-15"
    assert "urldate" not in fields("cntsnguyen2019haze")  # no URL, no access date
    assert fields("cntsnguyen2019haze")["note"].startswith(r"Prepared for the 10{\%} {\&} {\$}5")


def test_biblatex_writes_the_ayn_as_a_quote_every_engine_can_set():
    assert fields("hasan2020yemen")["author"] == "Ḥasan, ‘Abd al-Raḥmān"


def test_biblatex_export_parses_back_with_balanced_braces_and_unique_keys():
    text = export()
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == [r.key for r in NASTY]
    assert all(braces_balanced(chunk) for chunk in BibLaTeXWriter().write(NASTY))


# --- real clients ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    need("pdflatex", "biber")
    return compile_biblatex(tmp_path_factory.mktemp("biblatex"), export())


def test_biblatex_export_compiles_with_biber_and_pdflatex_without_errors(compiled):
    assert compiled.bib_returncode == 0, compiled.bib_output
    assert "ERROR" not in compiled.read(".blg")
    assert "WARN" not in compiled.read(".blg"), compiled.read(".blg")
    assert compiled.latex_returncodes == [0, 0], compiled.latex_errors
    assert compiled.latex_errors == []
    assert compiled.undefined_citations == []


def test_biblatex_keeps_volume_venue_series_and_doi_as_written():
    book = CitationRecord(
        key="b", type="book", title="T", volume="2", series="Adelphi Papers", number="4"
    )
    entry = BibLaTeXWriter().entry(book)
    assert "volume = {2}," in entry
    assert "series = {Adelphi Papers}," in entry
    chapter = CitationRecord(key="c", type="chapter", title="T", container_title="B", volume="3")
    assert "volume = {3}," in BibLaTeXWriter().entry(chapter)
    # A commentary in a venue with no publisher: an article in that venue, its kind in type.
    op_ed = CitationRecord(
        key="o", type="commentary", title="T", container_title="Foreign Policy", year=2020
    )
    entry = BibLaTeXWriter().entry(op_ed)
    assert entry.startswith("@article{o,")
    assert "journaltitle = {Foreign Policy}," in entry
    assert "type = {Commentary}," in entry
    sici = "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O"
    article = CitationRecord(key="a", type="article", title="T", doi=sici)
    assert f"doi = {{{sici}}}," in BibLaTeXWriter().entry(article)


def test_biblatex_export_prints_every_entry(compiled):
    assert compiled.read(".bbl").count(r"\entry{") == len(NASTY)


def test_biber_reads_the_corporate_author_as_one_name(compiled):
    bbl = compiled.read(".bbl")
    assert "Centre for Non-Traditional Security Studies and Humanitarian Affairs" in bbl
    assert "{Humanitarian Affairs}" not in bbl


@pytest.fixture(scope="module")
def pandoc_text(tmp_path_factory):
    need("pandoc")
    return pandoc_bibliography(tmp_path_factory.mktemp("pandoc-biblatex"), "refs.bib", export())


def test_pandoc_citeproc_renders_every_biblatex_entry(pandoc_text):
    rendered = letters(pandoc_text)
    for record in NASTY:
        assert letters(record.title) in rendered, record.key


def test_pandoc_reads_the_corporate_institution_as_one_name(pandoc_text):
    assert "Security Studies; Humanitarian Affairs" not in pandoc_text
