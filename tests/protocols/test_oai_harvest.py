"""Harvesting the whole demo catalogue over OAI-PMH with Sickle against a live server."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from sickle import Sickle
from sickle.oaiexceptions import IdDoesNotExist, NoRecordsMatch

from library.catalogue.models import Piece
from library.protocols import oai
from library.protocols.dates import iso_date

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def harvester(live_server, monkeypatch) -> Sickle:
    call_command("load_vocabulary", verbosity=0)
    call_command("load_demo", verbosity=0)
    # Small pages, so the harvest follows several resumption tokens.
    monkeypatch.setattr(oai, "PAGE_SIZE", 16)
    return Sickle(live_server.url + "/oai/", max_retries=0, timeout=30)


def expected(piece: Piece) -> dict[str, list[str]]:
    """What the catalogue says the record must hold, element by element."""
    return {
        "title": [piece.full_title],
        "creator": [a.sort_name for a in piece.authors],
        "contributor": [a.sort_name for a in piece.editors],
        "publisher": [piece.publisher] if piece.publisher else [],
        "coverage": [r.name for r in piece.regions.all()],
    }


def test_a_harvest_of_every_record_matches_the_database(harvester, live_server):
    identify = harvester.Identify()
    assert identify.protocolVersion == "2.0"
    assert identify.baseURL == live_server.url + "/oai/"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"

    pieces = {p.citation_key: p for p in Piece.objects.with_related()}
    assert len(pieces) > 16 * 3
    records = list(harvester.ListRecords(metadataPrefix="oai_dc"))
    keys = [r.header.identifier.rsplit(":", 1)[1] for r in records]
    assert sorted(keys) == sorted(pieces)  # every piece once, none twice
    for record in records:
        piece = pieces[record.header.identifier.rsplit(":", 1)[1]]
        assert record.header.identifier == f"oai:localhost:{piece.citation_key}"
        assert record.header.datestamp == piece.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert sorted(record.header.setSpecs) == sorted(
            [f"topic:{t.slug}" for t in piece.topics.all()]
            + [f"region:{r.slug}" for r in piece.regions.all()]
        )
        for element, values in expected(piece).items():
            assert record.metadata.get(element, []) == values, (piece.citation_key, element)
        assert live_server.url + piece.get_absolute_url() in record.metadata["identifier"]
        if piece.synopsis:
            assert record.metadata["description"] == [piece.synopsis]

    identifiers = list(harvester.ListIdentifiers(metadataPrefix="oai_dc"))
    assert [h.identifier for h in identifiers] == [r.header.identifier for r in records]


def test_sets_select_the_pieces_of_a_topic_or_region(harvester):
    sets = {s.setSpec: s.setName for s in harvester.ListSets()}
    assert sets["topic"] == "Topics"
    assert sets["region:iraq"] == "Iraq"
    for spec in ("region:iraq", "topic:terrorism", "region"):
        kind, _, slug = spec.partition(":")
        field = "topics" if kind == "topic" else "regions"
        wanted = Piece.objects.filter(
            **({f"{field}__slug": slug} if slug else {f"{field}__isnull": False})
        ).distinct()
        found = {
            h.identifier.rsplit(":", 1)[1]
            for h in harvester.ListIdentifiers(metadataPrefix="oai_dc", set=spec)
        }
        assert found == set(wanted.values_list("citation_key", flat=True)), spec
        assert found


def test_get_record_and_dates(harvester):
    piece = Piece.objects.get(citation_key="basit2016mosul")
    record = harvester.GetRecord(identifier="oai:localhost:basit2016mosul", metadataPrefix="oai_dc")
    assert record.metadata["title"] == [piece.full_title]
    assert record.metadata["date"] == [iso_date(piece)]
    assert (
        iso_date(piece)
        == {"year": "2016", "month": "2016-10", "day": "2016-10-28"}[piece.date_precision]
    )
    with pytest.raises(IdDoesNotExist):
        harvester.GetRecord(identifier="oai:localhost:nosuchkey", metadataPrefix="oai_dc")
    with pytest.raises(NoRecordsMatch):
        list(harvester.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2999-01-01"}))
    today = piece.updated_at.date().isoformat()
    found = list(harvester.ListIdentifiers(metadataPrefix="oai_dc", until=today))
    assert len(found) == Piece.objects.count()
