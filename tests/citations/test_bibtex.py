"""BibTeX export: field mapping, names, escaping, and real bibtex runs on the nasty corpus."""

from __future__ import annotations

import re

import bibtexparser
import pytest

from library.citations.bibtex import BibTeXWriter, format_name
from library.citations.latex import braces_balanced
from library.citations.records import CitationRecord, Name
from tests.citations.corpus import BASIT, CNTS, CREVELD, HASAN, KING, NASTY, RAHMAN
from tests.citations.toolchain import compile_bibtex, need, pandoc_bibliography

BY_KEY = {record.key: record for record in NASTY}


def export(records=NASTY) -> str:
    return "".join(BibTeXWriter().write(records))


def entry(key: str) -> str:
    return BibTeXWriter().entry(BY_KEY[key])


def fields(key: str) -> dict[str, str]:
    parsed = bibtexparser.parse_string(entry(key)).entries[0]
    return {field.key: field.value for field in parsed.fields}


# --- mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "entry_type"),
    [
        ("basit2016mosul", "techreport"),
        ("waever2011specials", "article"),
        ("cntsnguyen2019haze", "techreport"),
        ("hasan2020yemen", "techreport"),
        ("creveld1991transformation", "book"),
        ("rahman2018jihadism", "incollection"),
        ("anon2021diplomat", "misc"),
        ("nguyen2015maritime", "phdthesis"),
        ("marks2017masters", "mastersthesis"),
        ("anonndleaflet", "misc"),
    ],
)
def test_bibtex_chooses_the_entry_type_that_renders_best_in_classic_styles(key, entry_type):
    assert entry(key).startswith(f"@{entry_type}{{{key},")


def test_bibtex_commentary_is_a_techreport_with_series_as_type_and_number():
    assert (
        fields("basit2016mosul").items()
        >= {
            "type": "RSIS Commentaries",
            "number": "263/2016",
            "institution": "S. Rajaratnam School of International Studies",
            "address": "Singapore",
            "year": "2016",
            "month": "oct",
        }.items()
    )


def test_bibtex_report_without_an_institution_falls_back_to_misc():
    record = CitationRecord(key="k", type="commentary", title="T", authors=(BASIT,), year=2020)
    assert BibTeXWriter().entry(record).startswith("@misc{k,")


def test_bibtex_writes_months_as_macros_not_strings():
    assert "  month = oct,\n" in entry("basit2016mosul")
    assert "month" not in fields("hasan2020yemen")


def test_bibtex_writes_page_and_issue_ranges_with_a_double_hyphen():
    assert fields("waever2011specials")["pages"] == "465--480"
    assert fields("waever2011specials")["number"] == "4--5"
    assert fields("rahman2018jihadism")["pages"] == "45--67"


def test_bibtex_chapter_has_booktitle_and_editors():
    chapter = fields("rahman2018jihadism")
    assert chapter["booktitle"] == "The Oxford Handbook of Terrorism"
    assert chapter["editor"] == "King, Jr., Martin Luther and Nguy{\\~{\\^{e}}}n, Th{\\d{i}} Minh"


def test_bibtex_web_article_names_its_site_in_howpublished_and_its_url_in_url():
    web = fields("anon2021diplomat")
    assert web["howpublished"] == "\\emph{The Diplomat}"
    # In url, where pandoc, biber and Zotero read it (plain prints no URL for any type).
    assert web["url"] == (
        "https://thediplomat.com/2021/02/whither_the-quad/?utm=a%20b&x=~y#section-2"
    )


def test_bibtex_writes_what_a_type_has_no_field_for_in_the_usual_field():
    thesis = CitationRecord(
        key="t", type="thesis", title="T", series="S", volume="2", pages="1-9", publisher="U"
    )
    entry = BibTeXWriter().entry(thesis)
    for line in ("series = {S},", "volume = {2},", "pages = {1--9},", "school = {U},"):
        assert line in entry
    assert "publisher" not in entry  # the school is the publisher, written once


def test_bibtex_never_escapes_url_or_doi():
    article = fields("waever2011specials")
    assert article["doi"] == "10.1177/0967010611418718"
    assert fields("basit2016mosula")["url"] == (
        "https://www.rsis.edu.sg/rsis-publication/icpvtr/co16301/?a=1&b=2%20c#top"
    )


def test_bibtex_keeps_the_access_date_for_readers_that_know_urldate():
    assert fields("anon2021diplomat")["urldate"] == "2021-02-04"
    record = CitationRecord(key="k", type="other", title="T", accessed="2024-01-15")
    assert "urldate" not in BibTeXWriter().entry(record)  # an access date needs a URL


def test_bibtex_edition_number_becomes_the_word_plain_expects():
    assert fields("creveld1991transformation")["edition"] == "Second"


def test_bibtex_entries_without_authors_get_a_key_to_sort_and_label_by():
    assert fields("anonndleaflet")["key"] == "Leaflet on Civil Defence"
    assert "key" not in fields("basit2016mosul")


def test_bibtex_degree_only_note_is_not_repeated_on_a_masters_thesis():
    assert "note" not in fields("marks2017masters")


# --- names -----------------------------------------------------------------------------


def test_bibtex_names_are_von_last_jr_first():
    assert format_name(CREVELD) == "van Creveld, Martin"
    assert format_name(KING) == "King, Jr., Martin Luther"


def test_bibtex_organisations_are_braced_so_and_does_not_split_them():
    assert format_name(CNTS) == (
        "{Centre for Non-Traditional Security Studies and Humanitarian Affairs}"
    )
    assert fields("cntsnguyen2019haze")["author"].count(" and ") == 2  # 1 separator + 1 inside


def test_bibtex_attached_particles_stay_attached():
    assert format_name(RAHMAN) == r"{al-Ra{\d{h}}m{\={a}}n}, {\d{H}}asan"


def test_bibtex_ayn_is_one_letter_with_the_next_so_initials_keep_it():
    assert format_name(HASAN) == r"{\d{H}}asan, {\textquoteleft A}bd al-Ra{\d{h}}m{\={a}}n"


# --- escaping and protection -----------------------------------------------------------


def test_bibtex_escapes_every_special_character_in_titles():
    title = fields("waever2011specials")["title"]
    for command in (r"{\&}", r"{\%}", r"{\$}", r"{\#}", r"{\_}", r"{\textbraceleft}"):
        assert command in title
    assert r"{\textasciitilde}" in title
    assert r"{\textasciicircum}" in title
    assert r"{\textbackslash}" in title
    assert "<" not in title


def test_bibtex_export_is_ascii_with_balanced_braces_in_every_entry():
    for chunk in BibTeXWriter().write(NASTY):
        assert chunk.isascii()
        assert braces_balanced(chunk)


def test_bibtex_protects_acronyms_and_inner_capitals_but_not_every_capitalised_word():
    assert fields("basit2016mosula")["title"] == (
        "After Mosul: {ASEAN}, {COVID-19} and the {CT} Agenda in Iraq"
    )
    assert fields("rahman2018jihadism")["title"].startswith(
        "Jihadism in the Gulf after the {iPhone}: {McCain's} Warnings"
    )


def test_bibtex_protects_the_proper_nouns_it_is_given_and_the_records_own_names():
    writer = BibTeXWriter(proper_nouns=["Iraq", "Persian Gulf", "Islamic State"])
    record = CitationRecord(
        key="k",
        type="article",
        title="After Mosul: Iraq, the Persian Gulf and a Basit reading of Islamic states",
        authors=(Name(family="Basit", given="Abdul"),),
    )
    title = writer.entry(record).split("title = {", 1)[1].split("},\n", 1)[0]
    # "Islamic states" is not the noun "Islamic State"; "Mosul" is first in its part.
    assert title == (
        "After Mosul: {Iraq}, the {Persian} {Gulf} and a {Basit} reading of Islamic states"
    )


# --- streaming and parsing back --------------------------------------------------------


def test_bibtex_writer_yields_one_chunk_per_record_and_is_lazy():
    chunks = BibTeXWriter().write(iter(NASTY))
    assert next(chunks).startswith("@techreport{basit2016mosul,")
    assert len(list(chunks)) == len(NASTY) - 1


def test_bibtex_export_parses_back_with_bibtexparser_without_failures():
    library = bibtexparser.parse_string(export())
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == [r.key for r in NASTY]
    assert len({e.key for e in library.entries}) == len(NASTY)


# --- real clients ----------------------------------------------------------------------

STYLES = ["plain", "apalike", "plainnat"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    need("pdflatex", "bibtex")
    bib = export()
    root = tmp_path_factory.mktemp("bibtex")
    return {style: compile_bibtex(root / style, bib, style) for style in STYLES}


@pytest.mark.parametrize("style", STYLES)
def test_bibtex_export_compiles_with_bibtex_and_pdflatex_without_errors(compiled, style):
    run = compiled[style]
    blg = run.read(".blg")
    assert run.bib_returncode == 0, run.bib_output
    assert not re.search(r"\(There (was|were) \d+ error", blg), blg
    assert "I didn't find a database entry" not in blg
    assert run.latex_returncodes == [0, 0, 0], run.latex_errors
    assert run.latex_errors == []
    assert run.undefined_citations == []


#: The one bibtex warning our files may cause: a record the catalogue holds no date for
#: (the style asks for a year; writing one would invent it).
NO_DATA = re.compile(r"^Warning--empty year in (\S+)$")


def unexplained_warnings(warnings: list[str], records) -> list[str]:
    undated = {r.key for r in records if r.year is None}
    return [w for w in warnings if not (m := NO_DATA.match(w)) or m.group(1) not in undated]


@pytest.mark.parametrize("style", STYLES)
def test_bibtex_reads_the_export_without_warnings(compiled, style):
    assert unexplained_warnings(compiled[style].bibtex_warnings, NASTY) == []


# Letters of real names and places, as the catalogue holds them: Vietnamese, Polish,
# Turkish, Croatian/Serbian, Icelandic, transliterated Arabic, and French guillemets.
REAL_LETTERS = (
    CitationRecord(
        key="nguyen2019danang",
        type="article",
        title="Đà Nẵng và Biển Đông: «an ninh» ở Việt Nam",
        authors=(Name(family="Nguyễn", given="Thị Minh Khai"),),
        year=2019,
        container_title="Tạp chí Cộng sản",
    ),
    CitationRecord(
        key="wasowski2020gdansk",
        type="book",
        title="Przegląd bezpieczeństwa: Gdańsk, Łódź i Wrocław",
        authors=(Name(family="Wąsowski", given="Łukasz"), Name(family="Işık", given="Çağrı")),
        year=2020,
        publisher="Wydawnictwo Ośrodka Studiów Wschodnich",
        place="Kraków",
    ),
    CitationRecord(
        key="dukanovic2018sibenik",
        type="report",
        title="Đukanović, Živković i Šibenik: İstanbul'dan güneş",
        authors=(Name(family="Đukanović", given="Đorđe"), Name(family="Þórðarson", given="Ŋuð")),
        year=2018,
        publisher="Institut za međunarodne odnose",
        place="Zagreb",
    ),
    CitationRecord(
        key="hasan2021sana",
        type="commentary",
        title="Ḥūthī Drones over Ṣanʿāʾ",
        authors=(Name(family="Raḥmān", particle="al-", given="ʿAbd"),),
        year=2021,
        container_title="The Diplomat",
    ),
)


@pytest.mark.parametrize("style", ["plain", "apalike"])
def test_bibtex_export_of_real_letters_compiles_under_the_default_ot1_encoding(tmp_path, style):
    need("pdflatex", "bibtex")
    run = compile_bibtex(tmp_path, export(REAL_LETTERS), style, t1=False)
    assert run.bib_returncode == 0, run.bib_output
    assert run.latex_returncodes == [0, 0, 0], run.latex_errors
    assert run.latex_errors == []
    assert "unavailable in encoding" not in run.read(".log")
    assert run.read(".bbl").count(r"\bibitem") == len(REAL_LETTERS)
    assert unexplained_warnings(run.bibtex_warnings, REAL_LETTERS) == []


def test_t1_only_letters_are_braced_so_no_case_change_reaches_the_encoding_switch():
    entry = BibTeXWriter().entry(REAL_LETTERS[2])
    assert r"{{\fontencoding{T1}\selectfont\DJ}ukanovi{\'c}}," in entry
    assert r"{\fontencoding{T1}\selectfont\DJ}ukanovi{\'c}, {\fontencoding" in entry


@pytest.mark.parametrize("style", STYLES)
def test_bibtex_export_gives_one_bibitem_per_record(compiled, style):
    assert compiled[style].read(".bbl").count(r"\bibitem") == len(NASTY)


def test_bibtex_apalike_labels_two_pieces_by_one_author_in_one_year_apart(compiled):
    bbl = compiled["apalike"].read(".bbl")
    assert r"\bibitem[Basit, 2016a]" in bbl
    assert r"\bibitem[Basit, 2016b]" in bbl


def test_bibtex_plain_keeps_protected_capitals_and_the_corporate_author_whole(compiled):
    bbl = compiled["plain"].read(".bbl")
    assert "{ASEAN}, {COVID-19}" in bbl
    assert "{Centre for Non-Traditional Security Studies and Humanitarian Affairs}" in bbl
    assert "{al-Ra{\\d{h}}m{\\={a}}n}" in bbl


def test_pandoc_reads_the_bibtex_export_back_to_the_original_unicode(tmp_path):
    need("pandoc")
    text = pandoc_bibliography(tmp_path, "refs.bibtex", export())
    for expected in ("Nguyễn", "Thị Minh", "ʿAbd al-Raḥmān", "Ḥasan", "Wæver", "Zoë", "Việt"):
        assert expected in text.replace("‘", "ʿ")
