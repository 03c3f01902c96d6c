"""``manage.py load_demo``: a catalogue that is never empty on first run."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from library.catalogue import demo
from library.catalogue.models import Piece, Provenance

pytestmark = pytest.mark.django_db


def test_demo_content_loads_the_seed_and_at_least_forty_real_works(vocabulary):
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert Piece.objects.filter(provenance=Provenance.DEMO).count() >= 41
    seed = Piece.objects.get(citation_key="basit2016mosul")
    assert seed.series == "RSIS Commentaries"
    assert seed.topics.filter(slug="islamic-state").exists()
    assert Piece.objects.filter(topics__isnull=True).count() == 0
    assert "piece(s) created" in out.getvalue()


def test_loading_twice_creates_nothing_new(vocabulary):
    call_command("load_demo", stdout=StringIO())
    count = Piece.objects.count()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert Piece.objects.count() == count
    assert "0 piece(s) created" in out.getvalue()


def test_a_bad_record_stops_the_load_and_writes_nothing(vocabulary, tmp_path, monkeypatch):
    records = json.loads(demo.DEMO_FILE.read_text(encoding="utf-8"))[:3]
    records[2]["topics"] = ["not-a-topic"]
    bad = tmp_path / "demo.json"
    bad.write_text(json.dumps(records), encoding="utf-8")
    monkeypatch.setattr(demo, "DEMO_FILE", bad)
    with pytest.raises(CommandError, match=r"record 3 .*unknown topic\(s\): not-a-topic"):
        call_command("load_demo", stdout=StringIO())
    assert Piece.objects.count() == 0


def test_demo_needs_the_vocabulary_first(empty_vocabulary):
    with pytest.raises(CommandError, match="load_vocabulary"):
        call_command("load_demo", stdout=StringIO())
