"""PDF ingest end to end: command on files and folders, duplicates, web upload, download."""

from __future__ import annotations

import datetime
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from library.catalogue.models import Author, Piece, Provenance
from library.ingest.pdf import MB, file_sha256
from tests.ingest import pdfmaker
from tests.ingest.pdfmaker import Commentary, commentary_pdf, sample_commentary

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "mosul-operation.txt"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Each test gets its own MEDIA_ROOT, so stored and staged files can be counted."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    return Path(settings.MEDIA_ROOT)


def ingest(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    return out.getvalue(), err.getvalue()


def test_a_commentary_pdf_becomes_a_complete_piece_with_its_attachment(vocabulary, tmp_path):
    data = commentary_pdf()
    path = tmp_path / "CO16263 – Sulu Sea.pdf"
    path.write_bytes(data)
    out, err = ingest(str(path))
    assert err == ""
    piece = Piece.objects.get()
    assert piece.title == "Maritime Security in the Sulu Sea: A New Deal for Patrols?"
    assert [a.display_name for a in piece.authors] == ["Ana Santos", "Zoë Müller", "José Ramírez"]
    assert piece.authors[0].affiliation.startswith("Research Fellow at the S. Rajaratnam School")
    assert (piece.series, piece.number) == ("RSIS Commentaries", "263/2016")
    assert piece.date == datetime.date(2016, 10, 28)
    assert piece.publisher == "S. Rajaratnam School of International Studies"
    assert piece.synopsis.startswith("Piracy and kidnapping")
    assert piece.headings == ["Trilateral Patrols at Sea", "What Comes Next"]
    assert "Page 1 of 2" not in piece.body
    assert "Research Fellow" not in piece.body
    assert {"indonesia", "malaysia", "philippines"} <= set(
        piece.regions.values_list("slug", flat=True)
    )
    assert piece.topics.exists()
    # Machine keywords are suggestions until an editor accepts them (issue 14).
    assert piece.keywords == []
    assert piece.suggested_keywords
    assert all(k.strip() == k for k in piece.suggested_keywords)
    assert piece.provenance == Provenance.INGEST
    assert piece.attachment_sha256 == file_sha256(data)
    assert re.fullmatch(r"attachments/[0-9a-f]{32}\.pdf", piece.attachment.name)
    stored = Path(settings.MEDIA_ROOT) / piece.attachment.name
    assert stored.read_bytes() == data
    assert "Keywords:" in out
    assert "created santos2016maritime" in out


@pytest.mark.django_db(transaction=True)
def test_deleting_a_piece_removes_its_pdf(vocabulary, tmp_path, editor_client):
    path = tmp_path / "sulu.pdf"
    path.write_bytes(commentary_pdf())
    ingest(str(path))
    piece = Piece.objects.get()
    stored = Path(settings.MEDIA_ROOT) / piece.attachment.name
    assert stored.exists()
    response = editor_client.post(f"/pieces/{piece.citation_key}/delete/")
    assert response.status_code == 302
    assert not Piece.objects.exists()
    assert not stored.exists()


def build_folder(root: Path) -> dict[str, int]:
    """A curator's backlog: good PDFs in nested folders, a copy, and every kind of bad file."""
    (root / "2016" / "october").mkdir(parents=True)
    for index in range(3):
        folder = root / "2016" / "october" if index else root
        (folder / f"commentary-{index}.pdf").write_bytes(commentary_pdf(sample_commentary(index)))
    # The same bytes: a second commentary_pdf() call stamps its own creation time, so a
    # second boundary between the two made a different file (found as "the same text").
    (root / "copy of commentary-0.pdf").write_bytes((root / "commentary-0.pdf").read_bytes())
    (root / "mosul.txt").write_bytes(SEED.read_bytes())
    (root / "scanned.pdf").write_bytes(pdfmaker.scanned_pdf())
    (root / "locked.pdf").write_bytes(pdfmaker.encrypted_pdf())
    whole = commentary_pdf(sample_commentary(7))
    (root / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    (root / "notes.pdf").write_text("By Ana Santos\nthis is not a PDF at all\n")
    (root / "bad\x07name.pdf").write_bytes(commentary_pdf(sample_commentary(8)))
    with open(root / "huge.pdf", "wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(26 * MB)
    (root / "tome.pdf").write_bytes(pdfmaker.many_pages_pdf(1200))
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return {"created": 4, "duplicates": 1, "needs_attention": 2, "failed": 5, "files_seen": 12}


def test_a_folder_run_accounts_for_every_file(vocabulary, tmp_path):
    expected = build_folder(tmp_path)
    out, err = ingest(str(tmp_path), "--json", "--progress")
    summary = json.loads(out)
    assert {key: summary[key] for key in expected} == expected
    assert (
        summary["created"] + summary["duplicates"] + summary["needs_attention"] + summary["failed"]
        == summary["files_seen"]
    )
    assert summary["hidden_files_skipped"] == 1
    assert Piece.objects.count() == 4
    by_name = {Path(r["file"]).name: r for r in summary["files"]}
    assert by_name["copy of commentary-0.pdf"]["status"] == "duplicate"
    assert "same file" in by_name["copy of commentary-0.pdf"]["reason"]
    assert by_name["scanned.pdf"] == {
        "file": str(tmp_path / "scanned.pdf"),
        "status": "needs-attention",
        "reason": "no text layer; needs OCR",
    }
    assert "encrypted" in by_name["locked.pdf"]["reason"]
    assert "truncated or corrupt" in by_name["truncated.pdf"]["reason"]
    assert by_name["notes.pdf"]["reason"] == "is not a PDF: its content is plain text"
    assert "control character (U+0007)" in by_name["bad\x07name.pdf"]["reason"]
    assert "over the 25 MB limit" in by_name["huge.pdf"]["reason"]
    assert "1,200 pages; the limit is 500" in by_name["tome.pdf"]["reason"]
    assert by_name["mosul.txt"]["status"] == "created"
    assert "12/12" in err
    assert "CommandError: 7 of 12 file(s) could not be ingested." in err


def test_a_folder_run_ends_with_a_table_and_a_second_run_finds_only_duplicates(
    vocabulary, tmp_path
):
    build_folder(tmp_path)
    out, _ = ingest(str(tmp_path))
    assert re.search(r"^Created\s+4$", out, re.M)
    assert re.search(r"^Duplicates\s+1$", out, re.M)
    assert re.search(r"^Needs attention\s+2$", out, re.M)
    assert re.search(r"^Failed\s+5$", out, re.M)
    assert re.search(r"^Files seen\s+12$", out, re.M)
    assert "scanned.pdf: no text layer; needs OCR" in out
    assert "bad\\x07name.pdf: the file name contains a control character (U+0007)" in out
    assert "\x07" not in out
    again, _ = ingest(str(tmp_path), "--json")
    summary = json.loads(again)
    assert (summary["created"], summary["duplicates"]) == (0, 5)
    assert Piece.objects.count() == 4


def test_a_dry_run_over_a_folder_writes_nothing_and_still_spots_the_copy(vocabulary, tmp_path):
    build_folder(tmp_path)
    media = Path(settings.MEDIA_ROOT)
    before = set(media.rglob("*"))
    out, _ = ingest(str(tmp_path), "--json", "--dry-run")
    summary = json.loads(out)
    assert (summary["created"], summary["duplicates"], summary["dry_run"]) == (4, 1, True)
    statuses = {Path(r["file"]).name: r["status"] for r in summary["files"]}
    assert statuses["commentary-0.pdf"] == statuses["mosul.txt"] == "dry-run"
    assert Piece.objects.count() == 0
    assert Author.objects.count() == 0
    assert set(media.rglob("*")) == before


def test_the_same_text_in_a_different_file_is_a_duplicate(vocabulary, tmp_path):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    first.write_bytes(commentary_pdf())
    second.write_bytes(commentary_pdf(Commentary(share_line=False)))  # other bytes, same text
    assert first.read_bytes() != second.read_bytes()
    out, _ = ingest(str(first))
    out, _ = ingest(str(second), "--json")
    record = json.loads(out)["files"][0]
    assert record["status"] == "duplicate"
    assert record["reason"] == "the same text was ingested before"
    assert record["duplicate_url"] == Piece.objects.get().get_absolute_url()


def test_a_similar_title_by_the_same_first_author_is_a_duplicate(vocabulary, make_piece, tmp_path):
    existing = make_piece(
        "Maritime Security in the Sulu Sea: A New Deal for Patrol", authors=("Ana Santos",)
    )
    path = tmp_path / "sulu.pdf"
    path.write_bytes(commentary_pdf())
    out, _ = ingest(str(path), "--json")
    record = json.loads(out)["files"][0]
    assert record["status"] == "duplicate"
    assert record["duplicate_of"] == existing.citation_key
    assert "similar title" in record["reason"]
    assert Piece.objects.count() == 1


def test_a_pdf_whose_parse_needed_guesses_is_held_for_attention(vocabulary, tmp_path):
    path = tmp_path / "no-synopsis.pdf"
    path.write_bytes(commentary_pdf(Commentary(synopsis_heading="")))
    out, err = ingest(str(path), "--json")
    summary = json.loads(out)
    assert summary["needs_attention"] == 1
    reason = summary["files"][0]["reason"]
    assert reason.startswith("the parser had to guess: No 'Synopsis' heading")
    assert f"{path}: not ingested: the parser had to guess" in err
    assert Piece.objects.count() == 0


def test_an_uploaded_name_never_carries_separators_or_control_characters(vocabulary, editor_client):
    # Django drops both before the view runs; the view checks again (file_name_problem), and
    # the stored file gets a generated name whatever the upload was called.
    response = upload(editor_client, ("..\\..\\bell\x07.pdf", commentary_pdf()))
    (result,) = response.context["results"]
    assert result.status == "draft"
    assert result.name == "bell.pdf"


# --- web upload ----------------------------------------------------------------------------


def upload(client, *files: tuple[str, bytes]):
    return client.post(
        reverse("catalogue:piece_upload"),
        {"files": [SimpleUploadedFile(name, data) for name, data in files]},
    )


def review_data(drafts) -> dict:
    """The review page's form as a browser would submit it untouched."""
    data = {"token": [r.token for r in drafts]}
    for result in drafts:
        form = result.form
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            key = form.add_prefix(name)
            if isinstance(value, list):
                data[key] = value
            elif value is True:
                data[key] = "on"
            elif value not in (None, False):
                data[key] = value
    return data


def test_a_draft_with_an_error_comes_back_and_nothing_is_saved(vocabulary, editor_client):
    response = upload(editor_client, ("a.pdf", commentary_pdf()))
    drafts = [r for r in response.context["results"] if r.form]
    data = review_data(drafts)
    data[drafts[0].form.add_prefix("title")] = ""
    data[drafts[0].form.add_prefix("regions_text")] = "Atlantis"
    response = editor_client.post(reverse("catalogue:piece_upload_save"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert "Unknown region: Atlantis." in page
    assert Piece.objects.count() == 0
    data[drafts[0].form.add_prefix("title")] = "Fixed Title"
    data.pop(drafts[0].form.add_prefix("regions_text"))
    response = editor_client.post(reverse("catalogue:piece_upload_save"), data)
    assert Piece.objects.get().title == "Fixed Title"


def test_anonymous_visitors_and_readers_cannot_upload(client, reader):
    url = reverse("catalogue:piece_upload")
    assert client.get(url).status_code == 302
    assert upload(client, ("a.pdf", commentary_pdf())).status_code == 302
    client.force_login(reader)
    assert client.get(url).status_code == 403
    assert upload(client, ("a.pdf", commentary_pdf())).status_code == 403
    assert client.post(reverse("catalogue:piece_upload_save"), {}).status_code == 403
    assert Piece.objects.count() == 0


def test_an_editor_uploads_several_files_reviews_suggestions_and_saves(
    vocabulary, editor_client, editor, settings
):
    settings.DOSSIER_UPLOAD_BACKGROUND_FILES = 4  # reviewed in the request (see test_upload_jobs)
    first, second = commentary_pdf(sample_commentary(0)), commentary_pdf(sample_commentary(1))
    response = upload(
        editor_client,
        ("../../etc/first.pdf", first),
        ("second.pdf", second),
        ("scan.pdf", pdfmaker.scanned_pdf()),
        ("fake.pdf", b"<html>not a pdf</html>"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "no text layer; needs OCR" in page
    assert "is not a PDF: its content is an HTML page" in page
    results = response.context["results"]
    drafts = [r for r in results if r.status == "draft"]
    assert [r.name for r in drafts] == ["first.pdf", "second.pdf"]
    staged = Path(settings.MEDIA_ROOT) / "ingest-staging"
    assert len(list(staged.glob("*.upload"))) == 2
    assert Piece.objects.count() == 0

    data = review_data(drafts)
    keep, drop = drafts[0], drafts[1]
    topics = keep.form.initial["accepted_topics"]
    keywords = [k for k, _ in keep.form.fields["accepted_keywords"].choices]
    assert topics
    assert keywords
    assert keep.form.initial["accepted_keywords"] == []  # suggestions start unticked
    data[keep.form.add_prefix("accepted_topics")] = topics[1:]
    data[keep.form.add_prefix("accepted_keywords")] = keywords[:1]
    data[keep.form.add_prefix("keywords_text")] = "Abu Sayyaf, <b>bold</b>"
    data.pop(drop.form.add_prefix("include"))

    response = editor_client.post(reverse("catalogue:piece_upload_save"), data)
    piece = Piece.objects.get()
    assert response.status_code == 302
    assert response.url == piece.get_absolute_url()
    assert piece.title == "Maritime Security in the Sulu Sea, Part 1: A New Deal for Patrols?"
    assert sorted(piece.topics.values_list("slug", flat=True)) == sorted(topics[1:])
    assert piece.keywords == [keywords[0], "Abu Sayyaf", "<b>bold</b>"]
    assert piece.suggested_keywords == keywords[1:]
    assert piece.created_by == editor
    assert piece.provenance == Provenance.INGEST
    assert piece.source_file == "first.pdf"
    assert re.fullmatch(r"attachments/[0-9a-f]{32}\.pdf", piece.attachment.name)
    assert "etc" not in piece.attachment.name
    assert "first" not in piece.attachment.name
    assert piece.attachment_sha256 == file_sha256(first)
    assert not list(staged.glob("*.upload"))

    detail = editor_client.get(piece.get_absolute_url()).content.decode()
    link = reverse("catalogue:piece_attachment", args=[piece.citation_key])
    assert f'href="{link}"' in detail
    assert "&lt;b&gt;bold&lt;/b&gt;" in detail
    download = editor_client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert f'filename="{piece.citation_key}.pdf"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == first


def test_uploading_a_file_already_in_the_catalogue_links_to_the_piece(
    vocabulary, editor_client, tmp_path
):
    path = tmp_path / "sulu.pdf"
    path.write_bytes(commentary_pdf())
    ingest(str(path))
    piece = Piece.objects.get()
    response = upload(editor_client, ("again.pdf", path.read_bytes()))
    page = response.content.decode()
    assert f'href="{piece.get_absolute_url()}"' in page
    assert "the same file was ingested before" in page
    assert Piece.objects.count() == 1


def test_markup_in_an_uploaded_pdf_is_escaped_on_the_review_page(vocabulary, editor_client):
    c = Commentary(
        title=("<script>alert(1)</script> & % $ # _ {", "Braces"), byline="By Ana Santos"
    )
    response = upload(editor_client, ("<img src=x onerror=alert(1)>.pdf", commentary_pdf(c)))
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; % $ # _ {" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    assert "<img src=x" not in page


def test_saving_needs_a_token_from_this_session(vocabulary, editor_client):
    response = editor_client.post(
        reverse("catalogue:piece_upload_save"), {"token": "../../settings"}, follow=True
    )
    assert "no longer waiting" in response.content.decode()
    assert Piece.objects.count() == 0


def test_a_piece_without_attachment_has_no_download(make_piece, client):
    piece = make_piece("No file here")
    assert "Download the PDF" not in client.get(piece.get_absolute_url()).content.decode()
    response = client.get(reverse("catalogue:piece_attachment", args=[piece.citation_key]))
    assert response.status_code == 404


def test_the_upload_page_takes_many_files_and_refuses_too_many(editor_client):
    page = editor_client.get(reverse("catalogue:piece_upload")).content.decode()
    assert 'type="file"' in page
    assert "multiple" in page
    assert 'enctype="multipart/form-data"' in page
    files = [(f"{i}.txt", b"x") for i in range(51)]
    response = upload(editor_client, *files)
    assert "51 files chosen; upload at most 50 at a time." in response.content.decode()
    assert Piece.objects.count() == 0


def test_a_reviewed_upload_is_saved_once_with_its_origin_and_indexed_once(
    vocabulary, editor_client, monkeypatch
):
    from library.search import sync

    written: list[list[int]] = []
    original = sync._write

    def counting(backend, ids):
        written.append(list(ids))
        return original(backend, ids)

    response = upload(editor_client, ("one.pdf", commentary_pdf()))
    drafts = [r for r in response.context["results"] if r.form]
    monkeypatch.setattr(sync, "_write", counting)
    editor_client.post(reverse("catalogue:piece_upload_save"), review_data(drafts))
    piece = Piece.objects.get()
    assert (piece.provenance, piece.source_file) == (Provenance.INGEST, "one.pdf")
    assert piece.attachment_sha256
    assert written == [[piece.pk]]


# --- machine keywords are suggestions until accepted (issue 14) ---------------------------------


def test_ingest_keeps_keywords_as_suggestions_that_no_export_carries(vocabulary, tmp_path):
    (tmp_path / "sulu.pdf").write_bytes(commentary_pdf())
    out, _ = ingest(str(tmp_path / "sulu.pdf"))
    piece = Piece.objects.get()
    assert piece.keywords == []
    assert piece.suggested_keywords
    assert "(suggested; accept them on the edit page)" in out
    from library.citations.bibtex import BibTeXWriter
    from library.citations.from_piece import record_from_piece

    exported = "".join(BibTeXWriter().write([record_from_piece(piece)]))
    assert "keywords" not in exported  # the abstract may hold the phrases; no keywords field


def test_ingest_accept_keywords_saves_them_as_the_pieces_keywords(vocabulary, tmp_path):
    (tmp_path / "sulu.pdf").write_bytes(commentary_pdf())
    out, _ = ingest(str(tmp_path / "sulu.pdf"), "--accept-keywords")
    piece = Piece.objects.get()
    assert piece.keywords
    assert piece.suggested_keywords == []
    assert "(suggested" not in out


def test_an_editor_accepts_suggested_keywords_on_the_edit_page(vocabulary, tmp_path, editor_client):
    (tmp_path / "sulu.pdf").write_bytes(commentary_pdf())
    ingest(str(tmp_path / "sulu.pdf"))
    piece = Piece.objects.get()
    suggested = list(piece.suggested_keywords)
    url = reverse("catalogue:piece_edit", args=[piece.citation_key])
    response = editor_client.get(url)
    form = response.context["form"]
    assert [k for k, _ in form.fields["accept_suggested_keywords"].choices] == suggested
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value not in (None, False, []):
            data[name] = value
    data["accept_suggested_keywords"] = suggested[:1]
    data["keywords_text"] = "Abu Sayyaf"
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    piece.refresh_from_db()
    assert piece.keywords == ["Abu Sayyaf", suggested[0]]
    assert piece.suggested_keywords == suggested[1:]
