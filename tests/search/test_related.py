"""Related pieces by shared tags: most shared topics, then regions, then newest."""

from __future__ import annotations

import datetime

import pytest

from library.search.service import shared_tags

pytestmark = pytest.mark.django_db


def test_pieces_sharing_more_topics_then_regions_then_newer_come_first(make_piece):
    piece = make_piece("Mosul", topics=("terrorism", "insurgency"), regions=("iraq", "syria"))
    both_topics = make_piece("Both topics", topics=("terrorism", "insurgency"))
    one_topic_two_regions = make_piece(
        "One topic, two regions", topics=("terrorism",), regions=("iraq", "syria")
    )
    one_topic_old = make_piece(
        "One topic, old", topics=("terrorism",), date=datetime.date(2001, 1, 1)
    )
    one_topic_new = make_piece(
        "One topic, new", topics=("insurgency",), date=datetime.date(2020, 1, 1)
    )
    undated = make_piece("One topic, undated", topics=("terrorism",), date=None)
    make_piece("Nothing shared", topics=("cyber-security",), regions=("china",))

    topic_ids = [t.pk for t in piece.topics.all()]
    region_ids = [r.pk for r in piece.regions.all()]
    rows = shared_tags(piece.pk, topic_ids, region_ids)

    assert rows == [
        (both_topics.pk, 2, 0),
        (one_topic_two_regions.pk, 1, 2),
        (one_topic_new.pk, 1, 0),
        (one_topic_old.pk, 1, 0),
        (undated.pk, 1, 0),
    ]


def test_a_piece_without_tags_shares_none_and_never_lists_itself(make_piece):
    piece = make_piece("Alone", topics=("terrorism",))
    assert shared_tags(piece.pk, [], []) == []
    assert shared_tags(piece.pk, [t.pk for t in piece.topics.all()], []) == []


def test_the_limit_is_kept(make_piece):
    piece = make_piece("Hub", topics=("terrorism",))
    for n in range(5):
        make_piece(f"Spoke {n}", topics=("terrorism",))
    assert len(shared_tags(piece.pk, [t.pk for t in piece.topics.all()], [], limit=3)) == 3


def test_related_pieces_are_found_by_the_rarest_words_other_pieces_share(make_piece, monkeypatch):
    """The database engine on either database (SQLite's BM25, PostgreSQL's ts_rank)."""
    from django.db import connection

    from library.catalogue.models import Piece
    from library.search.backends import get_backend, shared
    from library.search.documents import build_document

    piece = make_piece("Kestrel migration policy", synopsis="")
    kin = make_piece("Kestrel sightings", synopsis="")
    for n in range(6):
        make_piece(f"Migration policy {n}", synopsis="")
    make_piece("Unshared", synopsis="")
    backend = get_backend()
    everything = backend.related(build_document(piece), limit=10)
    assert {hit.piece_id for hit in everything} == {kin.pk} | set(
        Piece.objects.filter(title__startswith="Migration").values_list("pk", flat=True)
    )
    if connection.vendor == "postgresql":
        # ts_rank has no rarity weighting (BM25 has): two shared words rank above one.
        assert everything[0].piece_id != kin.pk
    # With one word to spend, it goes to the rarest word another piece shares: "kestrel"
    # (two pieces), not "policy" (seven) nor "migration" (seven).
    monkeypatch.setattr(shared, "RELATED_WORDS", 1)
    assert [hit.piece_id for hit in backend.related(build_document(piece))] == [kin.pk]


def test_the_rarest_words_put_words_no_other_piece_uses_last():
    from library.search.backends.shared import RELATED_WORDS, rarest

    docs = {"common": 500, "rare": 3, "mine": 1, "zero": 0}
    words = ["common", "mine", "unindexed", "rare", "zero", *(f"w{n}" for n in range(20))]
    docs |= {f"w{n}": 10 + n for n in range(20)}
    chosen = rarest(words, docs)
    assert len(chosen) == RELATED_WORDS
    assert chosen[:3] == ["rare", "w0", "w1"]
    assert not {"mine", "zero", "unindexed", "common"} & set(chosen)


def test_the_rarest_words_stop_at_the_candidate_bound(monkeypatch):
    from library.search.backends import shared

    monkeypatch.setattr(shared, "RELATED_CANDIDATES", 100)
    docs = {"a": 40, "b": 50, "c": 60, "huge": 5_000}
    assert shared.rarest(["huge", "c", "b", "a"], docs) == ["a", "b"]  # 90, then 150 > 100
    assert shared.rarest(["huge"], docs) == ["huge"]  # the first word whatever its count


def test_a_loaded_pieces_document_is_the_one_the_index_reads(make_piece):
    """``document_of`` (the piece page's loaded piece) equals ``build_document`` (read
    from the database, as the index sees it): same byline order (role, then position),
    tags in the database's name order, folded text, keywords, date and facets."""
    from library.catalogue.authors import parse_name
    from library.catalogue.models import Piece, Region, Topic
    from library.catalogue.services import PieceContributors, PieceTags, save_piece
    from library.search.documents import build_document, document_of

    # Names whose order differs between code points and a collation ("alpha" < "Beta").
    topics = [
        Topic.objects.create(slug=f"doc-{slug}", name=name)
        for slug, name in (
            ("zeta", "Zeta"),
            ("alpha", "alpha"),
            ("eth", "Éthique"),
            ("beta", "Beta"),
        )
    ]
    regions = [
        Region.objects.create(slug=f"doc-{slug}", name=name)
        for slug, name in (("sahel", "Sahel land"), ("aceh", "aceh"), ("oland", "Åland"))
    ]
    edited = save_piece(
        Piece(
            title="Đakovo’s ﬁrst ARMS deal",
            subtitle="Notes",
            synopsis="Kestrel and Ḥamās",
            body="Body text.\n\nMore.",
            keywords=["drones", "Ärzte"],
            date=datetime.date(2019, 5, 1),
        ),
        PieceContributors(
            editors=[parse_name("Zed Editor"), parse_name("Ann Editor")],
            authors=[parse_name("Ümit Yılmaz"), parse_name("al-Hasan, Ali"), parse_name("Abe Bee")],
        ),
        PieceTags(topics=topics, regions=regions),
    )
    pieces = [
        edited,
        make_piece("Plain", authors=(), date=None, synopsis=""),
        make_piece("Tagged", topics=("terrorism", "cyber-security"), regions=("iraq",)),
    ]
    for piece in pieces:
        loaded = Piece.objects.with_related().get(pk=piece.pk)
        assert document_of(loaded) == build_document(piece)
    assert document_of(Piece.objects.with_related().get(pk=edited.pk)).topic_ids != ()
