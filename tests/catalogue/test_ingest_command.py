"""``manage.py ingest``: the seed in, every field right; bad files out, nothing written."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from library.catalogue.models import Author, Piece, Provenance

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "mosul-operation.txt"
HEADINGS = [
    "Will Loss of Territory Defeat IS?",
    "What Constitutes IS?",
    "Will Iraqi Forces Use CT or COIN in Mosul?",
    "The Aftermath",
]


def ingest(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ingest", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingesting_the_seed_creates_a_complete_piece(vocabulary):
    out, _ = ingest(str(SEED))
    piece = Piece.objects.get()
    assert piece.title == "Mosul Operation: The Endgame for IS?"
    assert [a.display_name for a in piece.authors] == ["Abdul Basit"]
    assert piece.synopsis.startswith("The loss of Mosul will be a huge setback")
    assert piece.synopsis.endswith("over-simplistic.")
    assert piece.headings == HEADINGS
    first = piece.sections[0]
    assert first.heading == ""
    assert first.paragraphs[0].startswith("IN THE last few months")
    for section in piece.sections:
        for paragraph in section.paragraphs:
            assert "\n" not in paragraph
            assert paragraph == paragraph.strip()
            assert "  " not in paragraph
            assert paragraph not in HEADINGS
    topics = set(piece.topics.values_list("slug", flat=True))
    assert "islamic-state" in topics
    assert topics & {"terrorism", "counter-terrorism"}
    assert "counter-insurgency" in topics
    assert {"iraq", "syria"} <= set(piece.regions.values_list("slug", flat=True))
    assert piece.provenance == Provenance.INGEST
    assert piece.source_file == str(SEED)
    assert len(piece.source_hash) == 64
    assert "created basitndmosul" in out
    assert "Headings:  Will Loss of Territory Defeat IS?" in out


def test_json_output_has_the_documented_fields(vocabulary):
    out, _ = ingest(str(SEED), "--json", "--dry-run")
    summary = json.loads(out.strip())
    assert summary["files_seen"] == summary["created"] == 1
    (record,) = summary["files"]
    assert record["title"] == "Mosul Operation: The Endgame for IS?"
    assert record["authors"] == ["Abdul Basit"]
    assert record["synopsis"].startswith("The loss of Mosul")
    assert record["body"].startswith("IN THE last few months")
    assert record["headings"] == HEADINGS
    assert not any(h in record["body"].split("\n\n") for h in HEADINGS)
    assert "islamic-state" in record["topics"]
    assert {"iraq", "syria"} <= set(record["regions"])
    assert record["status"] == "dry-run"


def test_dry_run_writes_nothing(vocabulary):
    ingest(str(SEED), "--dry-run")
    assert Piece.objects.count() == 0
    assert Author.objects.count() == 0


def test_ingesting_the_same_text_twice_reports_the_existing_piece(vocabulary, tmp_path):
    ingest(str(SEED))
    reflowed = tmp_path / "copy.txt"
    reflowed.write_text(SEED.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8")
    out, _ = ingest(str(reflowed))
    assert Piece.objects.count() == 1
    assert "already in the catalogue as basitndmosul" in out
    out_json, _ = ingest(str(SEED), "--json")
    summary = json.loads(out_json)
    assert summary["duplicates"] == 1
    assert summary["files"][0]["status"] == "duplicate"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"   \n\n\t\n", "empty"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        (
            "refs.txt",
            b"@article{hoffman2006,\n  title = {Inside Terrorism},\n"
            b"  author = {Hoffman, Bruce},\n}\n",
            "BibTeX",
        ),
    ],
)
def test_a_file_that_is_not_a_commentary_is_rejected_and_writes_nothing(
    vocabulary, tmp_path, name, content, reason
):
    path = tmp_path / name
    path.write_bytes(content)
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 file"):
        call_command("ingest", str(path), stdout=StringIO(), stderr=err)
    assert f"{path}: not ingested:" in err.getvalue()
    assert reason.lower() in err.getvalue().lower()
    assert Piece.objects.count() == 0
    assert Author.objects.count() == 0


def test_a_bad_file_in_a_batch_does_not_stop_the_good_ones(vocabulary, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("")
    with pytest.raises(CommandError, match="1 of 2 file"):
        ingest(str(bad), str(SEED))
    assert Piece.objects.count() == 1


def test_a_missing_file_is_reported(vocabulary, tmp_path):
    with pytest.raises(CommandError):
        ingest(str(tmp_path / "nope.txt"))
    assert Piece.objects.count() == 0


def test_a_commentary_with_banner_several_authors_and_bio(vocabulary, tmp_path):
    text = (
        "RSIS Commentary No. 263 – 28 October 2016\n\n"
        "Maritime Security in the Sulu Sea:\nA New Deal?\n\n"
        "By Ana Santos, Zoë Ahmed and Nguyễn Thị Minh\n\n"
        "Synopsis\n\nPiracy and kidnapping in the Sulu Sea have grown. Cooperation helps.\n\n"
        "Commentary\n\nTHE SULU Sea has long been a hub of kidnapping for ransom by the "
        "Abu Sayyaf Group in the southern Philippines.\n\n"
        "Trilateral Patrols\n\nIndonesia, Malaysia and the Philippines began joint patrols.\n\n"
        "Ana Santos is a Research Fellow at the S. Rajaratnam School of International Studies "
        "(RSIS), Nanyang Technological University, Singapore.\n"
    )
    path = tmp_path / "sulu.txt"
    path.write_text(text, encoding="utf-8")
    ingest(str(path))
    piece = Piece.objects.get()
    assert [a.display_name for a in piece.authors] == ["Ana Santos", "Zoë Ahmed", "Nguyễn Thị Minh"]
    assert piece.number == "263/2016"
    assert piece.date.isoformat() == "2016-10-28"
    assert piece.citation_key == "santos2016maritime"
    assert piece.authors[0].affiliation.startswith("Research Fellow at the S. Rajaratnam School")
    assert "Research Fellow" not in piece.body
