"""Planning and applying imports: outcomes, duplicates, keys, and all-or-nothing writes."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from library.catalogue.models import Piece, Provenance
from library.imports.service import (
    CountMismatch,
    ImportFailed,
    apply_plan,
    plan_import,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
pytestmark = pytest.mark.django_db


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def bib(text: str, name: str = "refs.bib") -> tuple[str, bytes]:
    return name, text.encode("utf-8")


def test_a_plan_writes_nothing_and_its_counts_add_up():
    plan = plan_import([fixture("jabref.bib"), fixture("truncated.bib")])
    assert Piece.objects.count() == 0
    for file_plan in plan.files:
        total = len(file_plan.created) + len(file_plan.duplicates) + len(file_plan.rejected)
        assert total == file_plan.found
    summary = plan.as_json(dry_run=True)
    assert summary["found"] == 15
    assert summary["created"] + summary["duplicates"] + len(summary["rejected"]) == 15
    first = summary["rejected"][0]
    assert {"key": "nocomma2019", "line": 15, "file": "truncated.bib"}.items() <= first.items()


def test_applying_creates_pieces_through_the_catalogue_service(editor):
    plan = plan_import([fixture("jabref.bib")])
    apply_plan(plan, user=editor)
    assert Piece.objects.count() == len(plan.files[0].created)
    piece = Piece.objects.get(citation_key="waever2011")
    assert [a.display_name for a in piece.authors] == ["Ole Wæver", "Zoë Marks", "Jiří Šebek"]
    assert piece.provenance == Provenance.IMPORT
    assert piece.created_by == editor
    assert piece.source_file == "jabref.bib, line 22 (article)"
    patent = Piece.objects.get(citation_key="lee2020patent")
    assert patent.source_file.endswith("(patent)")  # the original type is kept


def test_a_key_used_twice_in_the_file_gets_a_generated_key_and_the_summary_says_so():
    plan = plan_import([fixture("jabref.bib")])
    second = next(o for o in plan.files[0].created if o.line == 71)
    assert second.key == "basit2016entirely"
    assert "already taken" in second.key_note
    assert any("assigned basit2016entirely" in w for w in plan.files[0].warning_lines())


def test_a_key_with_spaces_is_invalid_and_regenerated():
    plan = plan_import([bib("@misc{bad:key/1, author={Doe, Jane}, title={Keys}, year=2020}\n")])
    [outcome] = plan.files[0].created
    assert outcome.key == "doe2020keys"
    assert "not a valid citation key" in outcome.key_note


def test_an_existing_key_is_not_reused(make_piece):
    make_piece("Something else entirely", citation_key="doe2020")
    plan = plan_import([bib("@misc{doe2020, author={Doe, Jane}, title={Keys}, year=2020}\n")])
    [outcome] = plan.files[0].created
    assert outcome.key == "doe2020keys"


@pytest.mark.parametrize(
    ("key", "fields", "reason"),
    [
        (
            "a1",
            "doi = {https://doi.org/10.1000/XYZ}, title={Mosul operation: an assessment}",
            "same DOI https://doi.org/10.1000/XYZ, title identical leaving out a subtitle, "
            "year missing in one",
        ),
        (
            "a2",
            "url = {http://www.example.org/a/}, title={The Mosul Operation}, year=2016",
            "same URL http://www.example.org/a/, title identical, same year",
        ),
        ("basit2016mosul", "title = {Mosul Operation}", "same citation key"),
        ("a3", "title = {The Mosul operation.}, year = {2016}", "similar title"),
    ],
)
def test_duplicates_of_catalogue_pieces_are_found(make_piece, key, fields, reason):
    make_piece(
        "Mosul Operation",
        citation_key="basit2016mosul",
        doi="10.1000/xyz",
        url="https://example.org/a",
        date=datetime.date(2016, 10, 28),
    )
    plan = plan_import([bib(f"@misc{{{key}, author={{Basit, Abdul}}, {fields}}}\n")])
    [outcome] = plan.files[0].outcomes
    assert outcome.status == "duplicate"
    assert outcome.reason.startswith(reason)
    assert (outcome.matched_key, outcome.action) == ("basit2016mosul", "skipped")


def test_a_similar_title_by_another_author_is_not_a_duplicate(make_piece):
    make_piece("Mosul Operation", date=datetime.date(2016, 1, 1))
    plan = plan_import([bib("@misc{x, author={Other, Olga}, title={Mosul Operation}, year=2016}")])
    assert plan.files[0].outcomes[0].status == "create"


def test_duplicates_within_the_file_are_caught():
    text = (
        "@misc{a, author={Doe, Jane}, title={On Deterrence}, year=2020}\n"
        "@misc{b, author={Doe, Jane}, title={On deterrence.}, year=2020}\n"
    )
    plan = plan_import([bib(text)])
    created, duplicate = plan.files[0].outcomes
    assert created.status == "create"
    assert duplicate.status == "duplicate"
    assert duplicate.reason.endswith("as an earlier entry in this file")


def test_a_duplicate_of_an_entry_in_another_file_names_that_file():
    """TeX Live's biblatex-examples.bib repeats The TeXbook from Beebe's texbook3.bib: the
    reason says which file the earlier entry came from, not "in this file"."""
    first = (
        "texbook3.bib",
        b"@book{Knuth:1984:TB, author={Knuth, Donald E.}, "
        b"title={The {\\TeX}book}, year=1984, volume={{\\noopsort{1984a}}A}}",
    )
    second = ("biblatex-examples.bib", b"@book{knuth:ct:a, author={Knuth, Donald E.}, "
              b"title={The {\\TeX book}}, date=1984, volume={A}}")  # fmt: skip
    plan = plan_import([first, second])
    [created], [duplicate] = plan.files[0].outcomes, plan.files[1].outcomes
    assert created.status == "create"
    assert duplicate.status == "duplicate"
    assert duplicate.matched_key == "Knuth:1984:TB"
    assert duplicate.reason.endswith("as an entry of texbook3.bib read earlier in this import")


def test_on_duplicate_update_changes_the_existing_piece_and_keeps_its_key(make_piece):
    piece = make_piece("Mosul Operation", citation_key="basit2016mosul", doi="10.1/x")
    plan = plan_import(
        [
            bib(
                "@misc{other, author={Basit, Abdul}, title={Mosul Operation}, doi={10.1/X}, "
                "publisher={RSIS}, year=2016}"
            )
        ],
        on_duplicate="update",
    )
    [outcome] = plan.files[0].outcomes
    assert (outcome.status, outcome.action) == ("duplicate", "updated")
    apply_plan(plan)
    piece.refresh_from_db()
    assert (piece.citation_key, piece.publisher) == ("basit2016mosul", "RSIS")
    assert Piece.objects.count() == 1


def test_on_duplicate_keep_both_creates_a_second_piece_with_a_warning(make_piece):
    make_piece("Mosul Operation", citation_key="basit2016mosul", doi="10.1/x")
    plan = plan_import(
        [
            bib(
                "@misc{basit2016mosul, author={Basit, Abdul}, title={Mosul operation}, "
                "doi={10.1/x}}"
            )
        ],
        on_duplicate="keep-both",
    )
    [outcome] = plan.files[0].created
    assert outcome.key != "basit2016mosul"
    assert any("kept both" in w for w in outcome.warnings)
    apply_plan(plan)
    assert Piece.objects.count() == 2


def test_a_field_the_catalogue_cannot_hold_moves_to_the_note_naming_the_field():
    long_title = "T" * 600
    plan = plan_import([bib(f"@misc{{a, title={{{long_title}}}}}\n@misc{{b, title={{Fine}}}}")])
    shortened, fine = plan.files[0].outcomes
    assert (shortened.status, fine.status) == ("create", "create")
    assert shortened.warnings[0].startswith("title: Ensure this value has at most 500 characters")
    assert shortened.record.note == f"Full title: {long_title}"


def test_a_url_that_is_not_a_url_is_kept_in_the_note():
    plan = plan_import([bib("@misc{a, title={A}, url={not a url at all}}")])
    outcome = plan.files[0].outcomes[0]
    assert (outcome.status, outcome.record.url) == ("create", "")
    assert outcome.record.note == "url: not a url at all"


def test_an_import_that_fails_part_way_leaves_the_catalogue_as_it_was(make_piece, monkeypatch):
    from django.core.exceptions import ValidationError

    from library.imports import writing

    text = (
        "@misc{first2020, author={Doe, Jane}, title={First}, year=2020}\n"
        "@misc{second2020, author={Doe, Jane}, title={Second}, year=2020}\n"
    )
    plan = plan_import([bib(text)])
    make_piece("Already here", citation_key="here2020")
    index = writing._index

    def fail_on_second(ids):  # the first batch is written and indexed, the second fails
        if Piece.objects.filter(pk__in=ids, citation_key="second2020").exists():
            raise ValidationError("the database refused it")
        index(ids)

    monkeypatch.setattr(writing, "BATCH", 1)
    monkeypatch.setattr(writing, "_index", fail_on_second)
    with pytest.raises(ImportFailed, match="nothing was imported"):
        apply_plan(plan)
    assert list(Piece.objects.values_list("citation_key", flat=True)) == ["here2020"]


def test_a_key_taken_between_preview_and_confirmation_is_replaced_and_noted(make_piece):
    text = (
        "@misc{first2020, author={Doe, Jane}, title={First}, year=2020}\n"
        "@misc{second2020, author={Doe, Jane}, title={Second}, year=2020}\n"
    )
    plan = plan_import([bib(text)])
    make_piece("Taken meanwhile", authors=("Someone Else",), citation_key="second2020")
    apply_plan(plan)
    second = plan.files[0].outcomes[1]
    assert second.key != "second2020"
    assert "taken meanwhile" in second.key_note
    assert Piece.objects.filter(title="Second", citation_key=second.key).exists()


def test_works_created_meanwhile_become_duplicates_not_second_copies(make_piece):
    text = "@misc{first2020, author={Doe, Jane}, title={A Study of Ports}, year=2020}\n"
    plan = plan_import([bib(text)])
    make_piece("A Study of Ports", authors=("Jane Doe",), date=None, doi="")
    Piece.objects.update(date=datetime.date(2020, 1, 1), date_precision="year")
    written = apply_plan(plan)
    assert written == []
    outcome = plan.files[0].outcomes[0]
    assert outcome.status == "duplicate"
    assert "created meanwhile" in outcome.reason
    assert Piece.objects.count() == 1


def test_a_count_mismatch_is_an_error_not_a_silent_drop(monkeypatch):
    from library.citations import readers
    from library.imports import service

    def one_found(data, **options):
        # A reader that returns an entry more than it counted.
        result = readers.read_citations(data, **options)
        result.found -= 1
        return result

    monkeypatch.setattr(service, "read_citations", one_found)
    with pytest.raises(CountMismatch, match="1 entries found in the file but 2 accounted for"):
        plan_import([bib("@misc{a, title={A}}\n@misc{b, title={B}}\n")])
    assert Piece.objects.count() == 0


def test_an_unreadable_file_stops_the_whole_import():
    plan = plan_import([bib("@misc{a, title={A}}\n"), fixture("web-of-science.ris")])
    assert "Web of Science" in plan.files[1].error
    with pytest.raises(ImportFailed):
        apply_plan(plan)
    assert Piece.objects.count() == 0


def test_html_in_titles_is_stored_as_text():
    plan = plan_import([bib("@misc{x, title={<script>alert(1)</script> & more}}")])
    apply_plan(plan)
    assert Piece.objects.get().title == "<script>alert(1)</script> & more"


def test_an_edited_book_matches_by_its_first_editor(make_piece):
    from library.catalogue.authors import parse_name
    from library.catalogue.models import Piece as PieceModel
    from library.catalogue.services import PieceContributors, PieceTags, save_piece

    book = PieceModel(title="Counter-Terrorism in Southeast Asia", type="book")
    book.date = datetime.date(2017, 1, 1)
    save_piece(
        book,
        PieceContributors(editors=[parse_name("{International Crisis Group}")]),
        PieceTags(),
    )
    text = (
        "@book{x, editor={{International Crisis Group}}, "
        "title={Counter-terrorism in South-East Asia}, year=2017}"
    )
    [outcome] = plan_import([bib(text)]).files[0].outcomes
    assert outcome.status == "duplicate"
    assert outcome.reason.startswith("similar title")


def test_one_bad_field_never_costs_the_entry():
    text = (
        "@misc{a, title={A}, url={www.newyorker.com/podcast}}\n"
        "@misc{b, title={B}, url={//www.example.org/path}}\n"
        "@misc{c, title={C}, url={<Go to ISI>://WOS:000301}, note={Seen}}\n"
        "@book{d, title={D}, address={" + "Place " * 60 + "}, edition={2nd revised and "
        "enlarged edition, with a preface}}\n"
    )
    a, b, c, d = plan_import([bib(text)]).files[0].outcomes
    assert all(o.status == "create" for o in (a, b, c, d))
    assert (a.record.url, a.record.note) == ("", "url: www.newyorker.com/podcast")
    assert any(
        w.startswith("url 'www.newyorker.com/podcast': Enter a valid URL") for w in a.warnings
    )
    assert any("its text is kept in the note" in w for w in a.warnings)
    assert b.record.url == "//www.example.org/path"  # only odd: kept in its field
    assert c.record.note == "Seen; url: <Go to ISI>://WOS:000301"
    assert d.record.place.startswith("Place Place")
    assert d.record.edition == "2nd revised and enlarged edition, with a preface"


def test_two_urls_in_one_field_keep_the_first_as_url_and_the_rest_in_the_note():
    text = "@misc{a, title={A}, url={http://a.org/x;\n   http://b.org/y\n /z}}\n"
    [outcome] = plan_import([bib(text)]).files[0].outcomes
    assert outcome.record.url == "http://a.org/x"
    assert outcome.record.note == "Also at: http://b.org/y/z"
    assert any("2 URLs given" in w for w in outcome.warnings)


def test_a_title_too_long_for_its_column_is_shortened_and_kept_whole_in_the_note():
    title = "word " * 150
    [outcome] = plan_import([bib(f"@misc{{a, title={{{title}}}}}\n")]).files[0].outcomes
    assert outcome.status == "create"
    assert len(outcome.record.title) <= 500
    assert outcome.record.title.endswith("…")
    assert outcome.record.note == f"Full title: {title.strip()}"


def test_a_name_too_long_for_the_catalogue_is_kept_in_the_note():
    family = "X" * 320
    text = f"@misc{{a, title={{A}}, author={{{family}, Jane and Doe, John}}}}\n"
    [outcome] = plan_import([bib(text)]).files[0].outcomes
    assert outcome.status == "create"
    assert [n.family for n in outcome.record.authors] == ["Doe"]
    assert outcome.record.note == f"Author: Jane {family}"
    assert any("family longer than the catalogue holds" in w for w in outcome.warnings)
