"""The BibTeX reader: macros, crossref, LaTeX, broken blocks, and counts that add up."""

from __future__ import annotations

from pathlib import Path

import pytest

from library.citations.readers import UnreadableFile, read_citations
from library.citations.readers.bibtex import count_entries, read_bibtex
from library.citations.readers.bibtex_middlewares import evaluate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


@pytest.fixture(scope="module")
def jabref():
    return read_bibtex((FIXTURES / "jabref.bib").read_text(encoding="utf-8"))


def test_the_independent_count_skips_string_preamble_and_comment_blocks():
    text = (
        '@string{a = "x"}\n@PREAMBLE{"y"}\n@comment{z}\n@article{k1, title={t}}\n'
        "@Book (k2, title={t})\n  @misc{k3, title={t}}\n"
    )
    assert count_entries(text) == [4, 5, 6]


def test_it_reads_every_entry_of_a_jabref_library_and_the_counts_add_up(jabref):
    assert jabref.found == 10
    assert len(jabref.entries) + len(jabref.rejections) == jabref.found


def test_string_macros_and_month_macros_are_expanded(jabref):
    basit = next(e for e in jabref.entries if e.line == 10).record
    assert basit.publisher == "S. Rajaratnam School of International Studies"
    assert basit.place == "Singapore"
    assert (basit.year, basit.month) == (2016, 10)


def test_hash_concatenation_joins_quoted_and_braced_parts(jabref):
    waever = next(e for e in jabref.entries if e.source_key == "waever2011").record
    assert waever.container_title == "Security Dialogue"


def test_a_paren_delimited_entry_uses_a_macro_defined_with_parens(jabref):
    nguyen = next(e for e in jabref.entries if e.source_key == "nguyen2019haze").record
    assert nguyen.container_title == "Terrorism and Political Violence"
    assert nguyen.month == 3


def test_latex_accents_become_nfc_unicode_and_braced_names_are_organisations(jabref):
    waever = next(e for e in jabref.entries if e.source_key == "waever2011").record
    assert [n.display for n in waever.authors] == ["Ole Wæver", "Zoë Marks", "Jiří Šebek"]
    nguyen = next(e for e in jabref.entries if e.source_key == "nguyen2019haze").record
    assert nguyen.authors[0].family == "Nguyễn"
    assert nguyen.authors[0].given == "Thị Minh"
    assert nguyen.authors[1].is_organisation
    assert nguyen.authors[1].family == "Centre for Non-Traditional Security Studies"


def test_protective_braces_are_removed_from_titles_and_subtitles_split_at_the_colon(jabref):
    basit = next(e for e in jabref.entries if e.line == 10).record
    assert (basit.title, basit.subtitle) == ("Mosul Operation", "The Endgame for IS?")
    assert basit.type == "commentary"
    assert basit.series == "RSIS Commentaries"
    assert basit.number == "263/2016"


def test_crossref_fills_missing_fields_and_the_parent_title_becomes_the_booktitle(jabref):
    chapter = next(e for e in jabref.entries if e.source_key == "creveld2017chapter").record
    assert chapter.type == "chapter"
    assert chapter.container_title == "Counter-Terrorism in Southeast Asia"
    assert chapter.publisher == "Routledge"
    assert chapter.year == 2017
    assert [n.family for n in chapter.editors] == ["International Crisis Group"]
    assert chapter.authors[0].particle == "van"
    assert chapter.pages == "12–30"


def test_a_biblatex_type_without_a_catalogue_type_is_other_with_a_warning(jabref):
    patent = next(e for e in jabref.entries if e.source_key == "lee2020patent")
    assert patent.record.type == "other"
    assert patent.original_type == "patent"
    assert any("@patent" in w for w in patent.warnings)


def test_a_field_given_twice_keeps_the_first_value_with_a_warning(jabref):
    entry = next(e for e in jabref.entries if e.source_key == "dup2018fields")
    assert entry.record.title == "Duplicate Fields Are Common"
    assert any("given twice" in w for w in entry.warnings)


def test_a_key_used_twice_keeps_both_entries_and_flags_the_second(jabref):
    both = [e for e in jabref.entries if e.source_key == "basit2016mosul"]
    assert [e.line for e in both] == [10, 71]
    assert any("earlier entry" in w for w in both[1].warnings)


def test_latex_specials_and_markup_come_back_as_plain_text(jabref):
    entry = next(e for e in jabref.entries if e.source_key == "specials2021").record
    assert entry.full_title == ("Costs & Benefits: 100% of $5 # _ and <script>alert(1)</script>")
    assert entry.note == "50% of the time"  # a bare % is not a LaTeX comment in BibTeX
    assert (entry.authors[0].particle, entry.authors[0].family) == ("al-", "Raḥmān")
    assert entry.authors[1].suffix == "Jr"


def test_an_entry_inside_a_comment_block_is_read_as_bibtex_reads_it(jabref):
    # bibtex skips only the word "@comment"; what follows is read like any other text.
    assert any(e.source_key == "hidden2015" for e in jabref.entries)
    assert not jabref.warnings


def test_an_entry_inside_a_one_line_comment_is_read_as_bibtex_reads_it():
    text = "@comment{ old: @article{gone2001, title={Gone}} }\n@misc{kept, title={Kept}}\n"
    result = read_bibtex(text)
    assert result.found == 2
    assert [e.source_key for e in result.entries] == ["gone2001", "kept"]


def test_entries_with_syntax_errors_are_rejected_with_bibtexs_complaint_and_line():
    result = read_bibtex((FIXTURES / "truncated.bib").read_text(encoding="utf-8"))
    assert result.found == 5
    assert [e.source_key for e in result.entries] == ["good2019one", "good2019two"]
    reasons = {(r.line, r.key): r.reason for r in result.rejections}
    assert set(reasons) == {(15, "nocomma2019"), (19, "notitle2019"), (24, "broken2019")}
    assert reasons[(15, "nocomma2019")].startswith(
        "not valid BibTeX at line 16: expected ',' or '}' but found 't'"
    )
    assert "the { opened on line 26 is never closed" in reasons[(24, "broken2019")]
    assert reasons[(19, "notitle2019")].startswith("the entry has no title")


def test_an_unclosed_brace_says_which_entries_it_swallows_as_bibtex_does():
    text = "@misc{a, title={Open\n\n@misc{b, title={B}}\n@misc{c, title={C}}\n"
    result = read_bibtex(text)
    assert result.found == 1
    assert "what look like 2 more entries, on lines 3, 4" in result.rejections[0].reason


def test_an_entry_keeps_the_fields_read_before_a_syntax_error():
    result = read_bibtex("@misc{a, title={Kept}, year=2020 note={lost}}\n@misc{b, title={B}}\n")
    first = result.entries[0]
    assert (first.record.title, first.record.year) == ("Kept", 2020)
    assert any("not valid BibTeX at line 1: expected ','" in w for w in first.warnings)
    assert [e.source_key for e in result.entries] == ["a", "b"]


def test_an_undefined_macro_is_kept_as_text_with_a_warning():
    result = read_bibtex("@article{k, title = {T}, journal = nosuchmacro, year = 2020}\n")
    entry = result.entries[0]
    assert entry.record.container_title == "nosuchmacro"
    assert any("undefined macro 'nosuchmacro'" in w for w in entry.warnings)


def test_latex_commands_the_reader_does_not_know_are_named_field_by_field():
    """TUGboat's titles use commands its own documents define ({\\INSCRIPT}): they are
    dropped, and the entry says which, in a warning that groups across entries. Its logos
    the reader knows ({\\TUB}, {\\PS}) are text."""
    from library.imports.plan import warning_kind

    result = read_bibtex(
        "@article{tb1, title = {{\\INSCRIPT} news and {\\BIP} in {\\TUB} \\texttt{x}},\n"
        '  author = {{\\ssf Smith} and M{\\"u}ller, Jo}, journal = {{\\PS} Notes}, year = 1999}\n'
        "@article{tb2, title = {The {\\INSCRIPT} {\\em mirrors}}, journal = {TUGboat},\n"
        "  year = 2000}\n"
    )
    first, second = result.entries
    assert first.record.title == "news and in TUGboat x"
    assert first.record.container_title == "PostScript Notes"
    assert "title: unknown LaTeX commands '\\INSCRIPT', '\\BIP' dropped" in first.warnings
    assert "author: unknown LaTeX command '\\ssf' dropped" in first.warnings
    assert second.warnings == ("title: unknown LaTeX command '\\INSCRIPT' dropped",)
    kinds = {warning_kind(w) for e in result.entries for w in e.warnings if w.startswith("title")}
    assert kinds == {"title: unknown LaTeX commands '…', '…' dropped",
                     "title: unknown LaTeX command '…' dropped"}  # fmt: skip


def test_macros_may_use_earlier_macros_and_are_case_insensitive():
    macros = {"jan": "January"}
    value, unknown = evaluate('"Issue of " # JAN # {, } # "2020"', macros)
    assert (value, unknown) == ("Issue of January, 2020", [])


@pytest.mark.parametrize("name", ["latin1.bib", "utf8-bom-crlf.bib"])
def test_latin1_and_utf8_with_bom_and_crlf_read_the_same(name):
    result = read_citations((FIXTURES / name).read_bytes(), filename=name)
    record = result.entries[0].record
    assert record.title == "Sécurité et défense en Europe"
    assert [n.family for n in record.authors] == ["Müller", "García"]
    assert ("not UTF-8" in " ".join(result.warnings)) == (name == "latin1.bib")


def test_an_explicit_encoding_is_used_and_a_wrong_one_is_reported():
    data = (FIXTURES / "latin1.bib").read_bytes()
    result = read_citations(data, filename="x.bib", encoding="latin-1")
    assert result.warnings == []
    with pytest.raises(UnreadableFile, match="not valid utf-8"):
        read_citations(data, filename="x.bib", encoding="utf-8")


def test_a_bib_file_without_entries_is_not_imported_as_nothing():
    with pytest.raises(UnreadableFile, match="no BibTeX entries"):
        read_citations(b"just some notes\n", filename="notes.bib")


def test_dates_from_biblatex_date_fields_and_bad_months_are_reported():
    result = read_bibtex(
        "@online{a, title={A}, date={2016-10-28}}\n"
        "@misc{b, title={B}, year={2016}, month={Smarch}}\n"
    )
    a, b = (e.record for e in result.entries)
    assert (a.type, a.year, a.month, a.day) == ("web_article", 2016, 10, 28)
    assert (b.year, b.month) == (2016, None)
    assert any("Smarch" in w for w in result.entries[1].warnings)


def test_empty_and_huge_field_values_do_not_break_the_reader():
    huge = "word " * 20000
    result = read_bibtex(f"@misc{{a, title={{Big}}, abstract={{{huge}}}, note={{}}}}\n")
    assert result.entries[0].record.abstract.count("word") == 20000


def test_a_redefined_macro_applies_from_where_it_is_redefined():
    text = (
        '@string{pub = "Old Press"}\n'
        "@book{a, title={A}, publisher=pub}\n"
        '@string{pub = "New Press"}\n'
        "@book{b, title={B}, publisher=pub}\n"
    )
    result = read_bibtex(text)
    assert [e.record.publisher for e in result.entries] == ["Old Press", "New Press"]
    assert any("redefined" in w for w in result.warnings)


def test_an_at_sign_inside_a_field_is_text_not_an_entry():
    text = "@misc{k, title={Tweet by @IntlCrisisGroup (2019)}, note={me@home{now}}}\n"
    result = read_bibtex(text)
    assert (result.found, len(result.entries), result.rejections) == (1, 1, [])


def test_an_unknown_entry_type_is_imported_as_the_nearest_type_with_a_warning():
    result = read_bibtex(
        "@misc-1{a, title={A}}\n@artcle{b, title={B}}\n@FAKE-ENTRY{c, title={C}}\n"
    )
    assert result.found == 3
    a, b, c = result.entries
    assert "unknown entry type @misc-1; imported as @misc ('other')" in a.warnings
    assert (b.record.type, b.original_type) == ("article", "artcle")
    assert "unknown entry type @artcle; imported as @article ('article')" in b.warnings
    assert (c.record.type, c.original_type) == ("other", "fake-entry")


def test_line_breaks_between_at_type_and_delimiter_are_read_as_bibtex_does():
    text = "@\nbook{a, title={A}}\n@incollection\n(\n RouxSmart:95, title={B})\n"
    result = read_bibtex(text)
    assert [(e.source_key, e.line) for e in result.entries] == [("a", 1), ("RouxSmart:95", 3)]


def test_an_at_anywhere_outside_an_entry_starts_one_even_mid_line_or_after_a_percent():
    text = "junk @misc{a, title={A}} % @misc{b, title={B}}\n% see me@example.org\n"
    result = read_bibtex(text)
    assert [e.source_key for e in result.entries] == ["a", "b"]
    assert any("an '@' outside any entry does not start one" in w for w in result.warnings)


def test_a_line_end_backslash_keeps_every_later_line_number_right():
    text = "@misc{a, title={Oral {\\TeX}, pp.\\\n 272}}\n\n@misc{b, title={B}}\n"
    result = read_bibtex(text)
    assert [(e.source_key, e.line) for e in result.entries] == [("a", 1), ("b", 4)]
    assert result.entries[0].record.title == "Oral TeX, pp. 272"


def test_a_percent_inside_a_value_is_text_as_bibtex_reads_it():
    result = read_bibtex('@misc{a, title={50% off}, note = "100% sure"}\n')
    assert (result.entries[0].record.title, result.entries[0].record.note) == (
        "50% off",
        "100% sure",
    )


def test_an_at_brace_without_a_type_is_skipped_with_a_warning():
    result = read_bibtex("@{nokind, title={x}}\n@misc{k, title={y}}\n")
    assert (result.found, [e.source_key for e in result.entries]) == (1, ["k"])
    assert any("an entry type is missing" in w for w in result.warnings)


def test_an_entry_cut_off_at_the_end_of_the_file_is_rejected():
    result = read_bibtex("@article{ok, title={Fine}}\n@article{cut, title = {Unbalanced {brace}")
    assert result.found == 2
    assert [(r.line, r.key) for r in result.rejections] == [(2, "cut")]
    assert "never closed" in result.rejections[0].reason


def test_urldate_and_note_are_kept_and_a_partial_urldate_is_reported():
    result = read_bibtex(
        "@online{a, title={A}, url={https://example.org/a}, urldate={2024-01-15},"
        " note={Translated from Arabic}}\n"
        "@online{b, title={B}, url={https://example.org/b}, urldate={2024-01}}\n"
    )
    first, second = result.entries
    assert (first.record.accessed, first.record.note) == ("2024-01-15", "Translated from Arabic")
    assert second.record.accessed == ""
    assert "urldate '2024-01' is not a whole date (YYYY-MM-DD); not kept" in second.warnings


def test_fields_the_catalogue_has_no_place_for_are_named_in_a_warning():
    result = read_bibtex(
        "@book{k, title={T}, ISBN={978-0-02-933155-9}, file={:t.pdf:PDF}, year={1991}}"
    )
    (entry,) = result.entries
    assert entry.record.year == 1991
    assert "fields not kept (the catalogue has no place for them): file, isbn" in entry.warnings


def test_an_eprint_is_kept_as_an_identifier_with_its_link():
    result = read_bibtex(
        "@article{a, title={A}, eprint={2101.00001}, eprinttype={arxiv}, eprintclass={cs.CL}}\n"
        "@article{b, title={B}, url={https://b.org}, eprint={123456}, archivePrefix={JSTOR}}\n"
        "@misc{c, title={C}, eprint={x-1}, eprinttype={somearchive}}\n"
    )
    a, b, c = (e.record for e in result.entries)
    assert (a.url, a.note) == ("https://arxiv.org/abs/2101.00001", "arXiv: 2101.00001 [cs.CL]")
    assert (b.url, b.note) == (
        "https://b.org",
        "JSTOR: 123456 (https://www.jstor.org/stable/123456)",
    )
    assert c.note == "somearchive: x-1"
    assert not any("not kept" in w for e in result.entries for w in e.warnings)


def test_and_others_organisation_publisher_number_and_issue_are_all_kept():
    result = read_bibtex(
        "@inproceedings{a, author={Doe, Jane and others}, title={A}, publisher={ACM},"
        " organization={SIGPLAN}}\n"
        "@manual{b, title={B}, organization={The TeX Users Group}}\n"
        "@article{c, title={C}, journal={J}, number={4}, issue={Spring}}\n"
    )
    a, b, c = (e.record for e in result.entries)
    assert [n.family for n in a.authors] == ["Doe"]
    assert a.note == "Organization: SIGPLAN; Further authors not named (and others)"
    assert b.publisher == "The TeX Users Group"
    assert (c.issue, c.number) == ("Spring", "4")


@pytest.mark.parametrize(
    ("fields", "language", "note"),
    [
        ("", "", ""),
        ("langid={ngerman}", "de", ""),
        ("language={Portuguese}", "pt", ""),
        ("langid={pt-BR}", "pt-BR", ""),
        ("langid={pt-br}", "pt-BR", ""),
        ("language={eng}", "en", ""),
        ("language={Deutsch}", "de", ""),
        ("language={fran{\\c{c}}ais}", "fr", ""),
        ("language={xx}", "xx", ""),
        ("language={Klingonish}", "", "language: Klingonish"),
    ],
)
def test_the_language_is_kept_as_given_or_left_empty_never_invented(fields, language, note):
    [entry] = read_bibtex(f"@book{{a, title={{A}}, {fields}}}\n").entries
    assert (entry.record.language, entry.record.note) == (language, note)


def test_an_odd_month_or_season_costs_the_month_not_the_year():
    result = read_bibtex(
        "@article{a, title={A}, year={1989}, month={Winter}}\n"
        "@article{b, title={B}, date={2016-21}}\n"
        "@article{c, title={C}, year={2019}, month={2}, day={30}}\n"
    )
    a, b, c = (e.record for e in result.entries)
    assert (a.year, a.month, a.note) == (1989, None, "Month: Winter")
    assert (b.year, b.month, b.note) == (2016, None, "Date: 2016-21")
    assert (c.year, c.month, c.day) == (2019, 2, None)


def test_an_html_note_is_kept_as_text():
    [entry] = read_bibtex(
        '@misc{a, title={A}, note={<div data-schema-version="8"><p>One</p><p>Two &amp; '
        "three</p></div>}}\n"
    ).entries
    assert entry.record.note == "One Two & three"


def test_every_field_not_used_is_named_in_a_warning():
    [entry] = read_bibtex(
        "@book{a, title={A}, journal={J}, journaltitle={JT}, location={L}, address={A}, isbn={1}}\n"
    ).entries
    assert "fields not kept (the catalogue has no place for them): isbn, journal, location" in (
        entry.warnings
    )


def test_xdata_fields_are_inherited_and_the_xdata_entry_is_not_a_work():
    result = read_bibtex(
        "@xdata{pub, publisher={Routledge}, location={London}, xdata={year}}\n"
        "@xdata{year, year={2017}}\n"
        "@book{a, title={A}, xdata={pub}, location={New York}}\n"
    )
    [book] = result.entries
    assert (book.record.publisher, book.record.place, book.record.year) == (
        "Routledge",
        "New York",
        2017,
    )
    assert [r.reason.startswith("an @xdata entry holds fields") for r in result.rejections] == [
        True,
        True,
    ]


def test_a_superscript_digit_as_the_month_costs_the_field_not_the_entry():
    """``"²".isdigit()`` is true but ``int("²")`` fails: the entry was rejected whole."""
    result = read_bibtex("@misc{a, title={T}, year=2000, month={\u00b2}}")
    assert result.rejections == []
    (entry,) = result.entries
    assert entry.record.month is None
    assert "month '\u00b2' is not a month; kept in the note" in entry.warnings
