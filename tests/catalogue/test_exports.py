"""Citations out of the catalogue: the Cite box, downloads, filtered exports, the command.

The end-to-end tests export the demo catalogue plus deliberately nasty pieces through the
web views and run the real clients on what comes out: pdflatex + bibtex, biber, pandoc,
rispy.
"""

from __future__ import annotations

import datetime
import json
import re
from io import StringIO

import bibtexparser
import pytest
import rispy
from django.core.management import CommandError, call_command
from django.urls import reverse

from library.catalogue.models import Piece, PieceType
from tests.citations import toolchain

pytestmark = pytest.mark.django_db

NASTY_TITLE = "Costs & Benefits: 100% of $5 #1_{x} ~ ^ <script>alert(1)</script>"


@pytest.fixture
def nasty_catalogue(vocabulary, make_piece):
    """The demo content plus every case that breaks exports elsewhere."""
    call_command("load_demo", stdout=StringIO())
    make_piece(NASTY_TITLE, authors=("Nguyễn, Thị Minh",), topics=("terrorism",))
    make_piece(
        "Maritime Security and ASEAN after COVID-19",
        authors=("{Centre for Non-Traditional Security Studies and Humanitarian Affairs}",),
        date=datetime.date(2020, 1, 1),
        date_precision="year",
        type=PieceType.REPORT,
        publisher="RSIS",
    )
    make_piece("Mosul Again", authors=("ʿAbd al-Raḥmān Ḥasan",), date=datetime.date(2017, 3, 1))
    make_piece("Mosul Once More", authors=("ʿAbd al-Raḥmān Ḥasan",), date=datetime.date(2017, 5, 1))
    make_piece("Anonymous Notes on Đà Nẵng", authors=(), date=None, type=PieceType.OTHER)
    return Piece.objects.count()


def download(client, url: str) -> tuple[str, object]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content).decode("utf-8"), response


# --- the piece page ---------------------------------------------------------------------------


def test_the_piece_page_has_a_cite_box_with_a_style_switcher(client, make_piece):
    piece = make_piece("Mosul Operation", publisher="RSIS", series="RSIS Commentaries")
    page = client.get(piece.get_absolute_url()).content.decode()
    assert 'id="cite"' in page
    assert "Basit, Abdul. 2016." in page  # Chicago author-date is the default
    assert "@techreport{" + piece.citation_key in page
    apa = client.get(piece.get_absolute_url() + "?style=apa").content.decode()
    assert "Basit, A. (2016" in apa
    unknown = client.get(piece.get_absolute_url() + "?style=<script>").content.decode()
    assert "Basit, A. (2016" in unknown  # the reader's last choice in this session
    assert "There is no citation style called “&lt;script&gt;”; showing APA" in unknown
    assert "<script>" not in unknown
    client.cookies.clear()  # a new session: the default again
    assert "Basit, Abdul. 2016." in client.get(piece.get_absolute_url()).content.decode()
    for fmt in ("bibtex", "biblatex", "ris", "csljson", "bibliography-html"):
        assert f"/pieces/{piece.citation_key}/export/?format={fmt}" in page


def test_the_cite_box_finds_and_formats_any_bundled_style(client, make_piece):
    piece = make_piece("Mosul Operation", publisher="RSIS", series="RSIS Commentaries")
    url = piece.get_absolute_url()
    found = client.get(url + "?style_q=Elsevier+Vancouver").content.decode()
    assert 'role="search"' in found
    assert re.search(r"\d+ styles match “Elsevier Vancouver”", found)
    assert 'href="?style=elsevier-vancouver#cite"' in found
    chosen = client.get(url + "?style=elsevier-vancouver").content.decode()
    assert '<option value="elsevier-vancouver" selected>' in chosen
    assert "Basit A. Mosul Operation" in chosen
    assert "format=bibliography-html&amp;style=elsevier-vancouver" in chosen
    text, _ = download(client, f"{url}export/?format=bibliography-text&style=elsevier-vancouver")
    assert "Basit A. Mosul Operation" in text


def test_the_cite_box_escapes_what_the_title_carries(client, make_piece):
    piece = make_piece(NASTY_TITLE)
    page = client.get(piece.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("bibtex", "application/x-bibtex", "bib"),
        ("biblatex", "application/x-bibtex", "bib"),
        ("ris", "application/x-research-info-systems", "ris"),
        ("csljson", "application/vnd.citationstyles.csl+json", "json"),
        ("bibliography-text", "text/plain", "txt"),
        ("bibliography-html", "text/html", "html"),
    ],
)
def test_one_piece_downloads_in_every_format(client, make_piece, fmt, content_type, extension):
    piece = make_piece("Mosul Operation")
    url = reverse("catalogue:piece_export", args=[piece.citation_key]) + f"?format={fmt}"
    body, response = download(client, url)
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith(f'.{extension}"')
    assert "mosuloperation" in toolchain.letters(body)


def test_a_bad_format_or_style_is_refused_with_a_message(client, make_piece):
    piece = make_piece("Mosul Operation")
    url = reverse("catalogue:piece_export", args=[piece.citation_key])
    response = client.get(url + "?format=docx")
    assert response.status_code == 400
    assert "unknown format" in response.content.decode().lower()
    assert (
        client.get(url.replace(piece.citation_key, "nobody2020x") + "?format=ris").status_code
        == 404
    )


# --- lists and filters ------------------------------------------------------------------------


def test_a_filtered_export_has_exactly_the_filtered_pieces(client, make_piece):
    iraq_terror = make_piece("One", topics=("terrorism",), regions=("iraq",))
    make_piece("Two", topics=("terrorism",), regions=("syria",))
    make_piece("Three", topics=("maritime-security",), regions=("iraq",))
    body, response = download(client, "/export/?format=bibtex&topic=terrorism&region=iraq")
    library = bibtexparser.parse_string(body)
    assert [entry.key for entry in library.entries] == [iraq_terror.citation_key]
    assert library.failed_blocks == []
    assert response["Content-Disposition"] == (
        'attachment; filename="dossier-topic-terrorism-region-iraq.bib"'
    )


def test_an_unknown_filter_is_refused_rather_than_exporting_nothing(client):
    response = client.get("/export/?format=bibtex&topic=no-such-topic")
    assert response.status_code == 400
    assert "there is no topic" in response.content.decode().lower()


def test_the_export_page_offers_the_formats_and_counts(client, make_piece):
    make_piece("One", topics=("terrorism",))
    make_piece("Two")
    page = client.get("/export/?topic=terrorism").content.decode()
    assert "1 piece" in page
    assert 'value="bibtex"' in page
    assert 'name="topic" value="terrorism"' in page


def test_list_author_topic_and_region_pages_link_to_their_export(client, make_piece):
    piece = make_piece("One", topics=("terrorism",), regions=("iraq",))
    author = piece.authors[0]
    pages = {
        "/pieces/?topic=terrorism": "topic=terrorism&amp;format=bibtex",
        "/topics/terrorism/": "topic=terrorism&amp;format=bibtex",
        "/regions/iraq/": "region=iraq&amp;format=ris",
        author.get_absolute_url(): f"author={author.slug}&amp;format=csljson",
    }
    for url, link in pages.items():
        assert link in client.get(url).content.decode(), url


# --- the command ------------------------------------------------------------------------------


def test_the_export_command_writes_a_file_and_reports_the_count(make_piece, tmp_path, capsys):
    make_piece("One", topics=("terrorism",))
    make_piece("Two")
    target = tmp_path / "refs.ris"
    call_command("export", "--format", "ris", "--topic", "terrorism", "-o", str(target))
    entries = rispy.loads(target.read_text(encoding="utf-8"))
    assert [e["title"] for e in entries] == ["One"]
    assert "Exported 1 piece as RIS" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*.partial"))


def test_the_export_command_writes_to_standard_output(make_piece):
    make_piece("One")
    out = StringIO()
    call_command("export", "--format", "csljson", stdout=out)
    assert [item["title"] for item in json.loads(out.getvalue())] == ["One"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topic", "nope"], "there is no topic 'nope'"),
        (["--year", "20x6"], "is not a year"),
        (["--type", "poem"], "is not a piece type"),
    ],
)
def test_the_export_command_refuses_bad_filters(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export", "--format", "bibtex", *args, stdout=StringIO())


# --- real clients on the whole catalogue ------------------------------------------------------


def test_the_whole_catalogue_compiles_with_bibtex_plain(client, nasty_catalogue, tmp_path):
    toolchain.need("pdflatex", "bibtex")
    bib, _ = download(client, "/export/?format=bibtex")
    compiled = toolchain.compile_bibtex(tmp_path / "plain", bib, "plain")
    assert compiled.bib_returncode == 0, compiled.bib_output
    assert "error message" not in compiled.bib_output
    assert compiled.latex_errors == []
    assert compiled.undefined_citations == []
    assert compiled.read(".bbl").count(r"\bibitem") == nasty_catalogue


def test_the_whole_catalogue_compiles_with_biblatex_and_biber(client, nasty_catalogue, tmp_path):
    toolchain.need("pdflatex", "biber")
    bib, _ = download(client, "/export/?format=biblatex")
    compiled = toolchain.compile_biblatex(tmp_path / "biber", bib)
    assert compiled.bib_returncode == 0, compiled.bib_output
    assert "ERROR" not in compiled.bib_output
    assert compiled.latex_errors == []
    assert len(re.findall(r"\\entry\{", compiled.read(".bbl"))) == nasty_catalogue


def test_pandoc_renders_every_entry_of_the_csl_json_export(client, nasty_catalogue, tmp_path):
    toolchain.need("pandoc")
    data, _ = download(client, "/export/?format=csljson")
    rendered = toolchain.pandoc_bibliography(tmp_path, "refs.json", data)
    text = toolchain.letters(rendered)
    for title in Piece.objects.values_list("title", flat=True):
        assert toolchain.letters(title)[:30] in text, title


def test_the_ris_export_reads_back_with_every_piece(client, nasty_catalogue):
    data, _ = download(client, "/export/?format=ris")
    entries = rispy.loads(data)
    assert len(entries) == nasty_catalogue
    titles = {e.get("title") or e.get("primary_title") for e in entries}
    assert NASTY_TITLE in titles


# --- search results ------------------------------------------------------------------------------


def test_a_search_exports_exactly_the_pieces_it_lists(client, make_piece):
    mosul = make_piece("Mosul Operation", synopsis="The endgame in Mosul.")
    make_piece("Maritime Security in the Sulu Sea", synopsis="Piracy and patrols.")
    page = client.get("/search/?q=mosul").content.decode()
    assert "/export/?q=mosul&amp;format=bibtex" in page
    body, response = download(client, "/export/?q=mosul&format=bibtex")
    assert [e.key for e in bibtexparser.parse_string(body).entries] == [mosul.citation_key]
    assert response["Content-Disposition"] == 'attachment; filename="dossier-search-mosul.bib"'


def test_the_export_command_takes_a_search_query(make_piece):
    make_piece("Mosul Operation", synopsis="The endgame in Mosul.")
    make_piece("Maritime Security in the Sulu Sea", synopsis="Piracy and patrols.")
    out = StringIO()
    call_command("export", "--format", "csljson", "--query", "piracy", stdout=out)
    assert [item["title"] for item in json.loads(out.getvalue())] == [
        "Maritime Security in the Sulu Sea"
    ]


def test_signed_in_readers_add_to_a_list_straight_from_search_results(client, make_piece, reader):
    from library.readinglists.models import ReadingList

    make_piece("Mosul Operation", synopsis="The endgame in Mosul.")
    ReadingList.objects.create(title="Week 3", owner=reader)
    client.force_login(reader)
    page = client.get("/search/?q=mosul").content.decode()
    assert 'class="add-to-list"' in page
    assert "Week 3" in page
