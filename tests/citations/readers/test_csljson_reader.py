"""The CSL-JSON reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from library.citations.readers import UnreadableFile, read_citations
from library.citations.readers.csljson import read_csljson

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


@pytest.fixture(scope="module")
def zotero():
    return read_citations((FIXTURES / "zotero.json").read_bytes(), filename="zotero.json")


def test_every_item_is_accounted_for(zotero):
    assert zotero.found == 5
    assert [e.source_key for e in zotero.entries] == ["basit2016mosul", "creveld1991", "icg2020"]
    assert [(r.key, r.reason) for r in zotero.rejections] == [
        ("item 4", "not a CSL item (expected a JSON object)"),
        ("untitled", "item 5: the item has no title"),
    ]


def test_fields_map_to_the_record(zotero):
    basit, creveld, icg = (e.record for e in zotero.entries)
    assert (basit.type, basit.title, basit.subtitle) == (
        "commentary",
        "Mosul Operation",
        "The Endgame for IS?",
    )
    assert (basit.series, basit.number, basit.day) == ("RSIS Commentaries", "263/2016", 28)
    assert (creveld.authors[0].particle, creveld.year, creveld.keywords) == (
        "van",
        1991,
        ("war", "strategy"),
    )
    assert icg.authors[0].is_organisation
    assert (icg.type, icg.year, icg.month) == ("other", 2020, 5)
    assert any("dataset" in w for w in zotero.entries[2].warnings)


@pytest.mark.parametrize(
    ("text", "message"),
    [("[{]", "not valid JSON"), ('"just a string"', "expected a list")],
)
def test_bad_json_is_rejected_with_a_message(text, message):
    with pytest.raises(UnreadableFile, match=message):
        read_csljson(text)


def test_accessed_and_note_are_kept_and_unknown_variables_are_named():
    result = read_csljson(
        '[{"id": "q", "type": "webpage", "title": "Whither the Quad?",'
        ' "URL": "https://example.org/q", "accessed": {"date-parts": [[2021, 2, 4]]},'
        ' "note": "Paywalled", "ISBN": "x", "container-title-short": "Dipl."}]'
    )
    (entry,) = result.entries
    assert (entry.record.accessed, entry.record.note) == ("2021-02-04", "Paywalled")
    assert (
        "variables not kept (the catalogue has no place for them): ISBN, container-title-short"
        in entry.warnings
    )


def test_an_accessed_date_without_a_day_is_reported():
    result = read_csljson(
        '[{"id": "q", "type": "webpage", "title": "T", "accessed": {"date-parts": [[2021, 2]]}}]'
    )
    (entry,) = result.entries
    assert entry.record.accessed == ""
    assert any(w.startswith("accessed") and "not kept" in w for w in entry.warnings)


def test_a_csl_item_without_a_language_gets_none_and_an_html_note_becomes_text():
    text = (
        '[{"id": "a", "type": "book", "title": "A", "note": "<p>Read <b>this</b></p>"},'
        ' {"id": "b", "type": "book", "title": "B", "language": "fr-CA",'
        ' "issued": {"date-parts": [[2020, 13]]}}]'
    )
    a, b = (e.record for e in read_csljson(text).entries)
    assert (a.language, a.note) == ("", "Read this")
    assert (b.language, b.year, b.month) == ("fr-CA", 2020, None)


def test_pandoc_s_rich_text_is_read_as_text(tmp_path):
    """pandoc (like Zotero) writes formatting as CSL rich text: ``\\emph{Acta}`` becomes
    ``<i>acta</i>``. The tags are formatting, not title text; a bare ``<`` stays."""
    from tests.citations.toolchain import need, run

    need("pandoc")
    (tmp_path / "t.bib").write_text(
        r"@article{a, title={Versions of the \emph{Acta} and \textsc{Nato}, "
        r"H\textsubscript{2}O and x < y}, journal={Journal of \emph{Things}}, year=2000}",
        encoding="utf-8",
    )
    written = run(["pandoc", "-f", "biblatex", "-t", "csljson", "t.bib"], tmp_path)
    assert written.returncode == 0, written.stderr
    assert "<i>" in written.stdout
    assert "<sub>" in written.stdout
    (entry,) = read_citations(written.stdout.encode(), filename="t.json").entries
    # pandoc's own sentence case ("acta", "h2o") is its choice; the markup is gone.
    assert entry.record.title == "Versions of the acta and Nato, h2o and x < y"
    assert entry.record.container_title == "Journal of Things"
