"""``manage.py import_citations``."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from library.catalogue.models import Piece

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_citations", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_imports_a_file_and_closes_with_a_summary():
    output = run(str(FIXTURES / "truncated.bib"))
    assert "Found 5: created 2, 0 duplicate(s), 3 rejected." in output
    assert Piece.objects.count() == 2


def test_a_dry_run_writes_nothing():
    output = run("--dry-run", str(FIXTURES / "jabref.bib"))
    assert "would create 10" in output
    assert "Dry run: nothing was written." in output
    assert Piece.objects.count() == 0


def test_json_gives_found_created_duplicates_rejected_and_warnings():
    run(str(FIXTURES / "endnote.ris"))
    summary = json.loads(
        run("--json", str(FIXTURES / "endnote.ris"), str(FIXTURES / "zotero.json"))
    )
    assert summary["found"] == 10
    assert summary["created"] + summary["duplicates"] + len(summary["rejected"]) == 10
    assert summary["duplicates"] >= 4  # the RIS records are already there
    assert {"file", "key", "line", "reason"} <= set(summary["rejected"][0])
    assert any("no 'ER  - ' line" in w for w in summary["warnings"])
    assert [f["format"] for f in summary["files"]] == ["ris", "csljson"]


def test_the_encoding_option_is_used(tmp_path):
    output = run("--json", "--dry-run", "--encoding", "latin-1", str(FIXTURES / "latin1.bib"))
    summary = json.loads(output)
    assert summary["warnings"] == []
    assert summary["files"][0]["pieces"][0]["title"] == "Sécurité et défense en Europe"


def test_on_duplicate_update_is_reported_as_updated():
    run(str(FIXTURES / "zotero.json"))
    summary = json.loads(run("--json", "--on-duplicate", "update", str(FIXTURES / "zotero.json")))
    assert (summary["created"], summary["duplicates"], summary["updated"]) == (0, 3, 3)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, settings):
    huge = tmp_path / "huge.bib"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB without writing them
    with pytest.raises(CommandError, match="over the import limit of 52,428,800 bytes"):
        run(str(huge))
    settings.DOSSIER_MAX_IMPORT_BYTES = 100
    with pytest.raises(CommandError, match="over the import limit of 100 bytes"):
        run(str(FIXTURES / "jabref.bib"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("web-of-science.ris", "Web of Science"),
        ("garbage.bin", "could not be read"),
        ("empty.bib", "could not be read"),
    ],
)
def test_with_all_or_nothing_an_unreadable_file_stops_the_import(name, message):
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_citations",
            "--all-or-nothing",
            str(FIXTURES / "truncated.bib"),
            str(FIXTURES / name),
            stdout=StringIO(),
            stderr=err,
        )
    assert message in str(raised.value) + err.getvalue()
    assert Piece.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read the file"):
        run(str(tmp_path / "nope.bib"))


def test_warnings_print_grouped_by_kind_with_counts_and_verbose_lists_each(tmp_path):
    bib = tmp_path / "months.bib"
    bib.write_text(
        "".join(f"@misc{{k{i}, title={{T{i}}}, year=1989, month={{Winter}}}}\n" for i in range(30))
        + "@misc{odd, title={Odd}, year=1990, month={Fall}}\n",
        encoding="utf-8",
    )
    grouped = run("--dry-run", str(bib))
    assert grouped.count("warning:") == 1
    assert (
        f"warning: 31 × month '…' is not a month; kept in the note (first: {bib} line 1" in grouped
    )
    listed = run("--dry-run", "--verbose", str(bib))
    assert listed.count("warning:") == 31
    assert "line 31 (odd): month 'Fall' is not a month; kept in the note" in listed


def test_an_unreadable_file_is_reported_and_the_others_are_imported(tmp_path):
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_citations",
            str(FIXTURES / "truncated.bib"),
            str(FIXTURES / "garbage.bin"),
            str(tmp_path / "missing.bib"),
            stdout=StringIO(),
            stderr=err,
        )
    assert "2 file(s) could not be read" in str(raised.value)
    assert "missing.bib: cannot read the file (No such file or directory)" in str(raised.value)
    assert str(raised.value).endswith("the others were imported.")
    assert sorted(Piece.objects.values_list("citation_key", flat=True)) == [
        "good2019one",
        "good2019two",
    ]


def test_a_folder_is_searched_for_citation_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.bib").write_text("@misc{a, title={A}}\n", encoding="utf-8")
    (tmp_path / "b.ris").write_text("TY  - GEN\nTI  - B\nER  - \n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not citations", encoding="utf-8")
    err = StringIO()
    out = StringIO()
    call_command("import_citations", str(tmp_path), stdout=out, stderr=err)
    assert "Found 2: created 2" in out.getvalue()
    assert "1 file(s) in the folders are not citation files; skipped" in err.getvalue()
