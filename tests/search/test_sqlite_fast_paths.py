"""The SQLite engine's faster query paths give the same answers as the paths they replace.

* Facet counting counts the pieces *not* matched when they are fewer, and reads only the
  wanted pieces' pairs when they are few: checked against a plain ``Counter`` (Hypothesis).
* A topic, region or year filter is applied to the ids pass in numpy: checked against the
  statement that tests the filter in SQL (``id_filter=None``), on a seeded catalogue.
* Snippets: the best-field pass only sees rows the first pass returned: checked against
  the documented choice (synopsis, else body, else best field) made row by row.
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from library.catalogue.facet_groups import Groups
from library.catalogue.models import Author, Authorship, Piece, Region, Topic
from library.search import service
from library.search.backends.database import facet_data as search_facets
from library.search.backends.database.sqlite import backend as sqlite_backend
from library.search.backends.database.sqlite.compiler import compile_query
from library.search.backends.shared import restore_snippets
from library.search.maintenance import rebuild
from library.search.query import parse_query
from library.search.results import Sort
from library.search.text import MARK_END, MARK_START
from library.search.vocab import Vocabulary

pytestmark = pytest.mark.sqlite  # the SQLite engine's own code; the PostgreSQL pass skips it

# --- facet counting ----------------------------------------------------------------------


@st.composite
def catalogues(draw):
    """Piece ids (with or without gaps), facet pairs, and a subset of ids to count."""
    size = draw(st.integers(1, 60))
    if draw(st.booleans()):
        first = draw(st.integers(1, 5))
        ids = list(range(first, first + size))
    else:
        ids = sorted(draw(st.sets(st.integers(1, 500), min_size=size, max_size=size)))
    pairs = {
        name: draw(st.lists(st.tuples(st.sampled_from(ids), st.integers(0, 9)), max_size=150))
        for name in ("topic", "region", "author", "year")
    }
    types = draw(st.lists(st.sampled_from(["book", "report", "article"]), min_size=size,
                          max_size=size))  # fmt: skip
    wanted = draw(st.lists(st.sampled_from(ids) | st.integers(0, 600), max_size=2 * size))
    return ids, pairs, types, wanted


def _facet_data(ids, pairs, types) -> search_facets.FacetData:
    """Arrays holding exactly these pairs (any facet may have many values per piece)."""
    size = max(ids) + 1
    alive = np.zeros(size, dtype=bool)
    alive[ids] = True
    names = tuple(sorted(set(types)))
    pairs = {**pairs, "type": [(pk, names.index(t)) for pk, t in zip(ids, types, strict=True)]}
    groups = {}
    for name in search_facets.FACETS:
        rows = np.array(pairs.get(name, []), dtype=np.int64).reshape(-1, 2)
        groups[name] = Groups.build(rows[:, 0], rows[:, 1], size)
    return search_facets.FacetData(0, None, alive, names, groups)


@settings(max_examples=300, deadline=None)
@given(catalogues())
def test_facet_counts_match_a_plain_count_of_the_wanted_pieces(catalogue):
    ids, pairs, types, wanted = catalogue
    data = _facet_data(ids, pairs, types)
    kept = set(wanted) & set(ids)
    expected = {
        name: Counter(code for pk, code in rows if pk in kept) for name, rows in pairs.items()
    }
    expected["type"] = Counter(t for pk, t in zip(ids, types, strict=True) if pk in kept)
    counted = data.count(np.array(wanted, dtype=np.int64))
    assert {name: dict(values) for name, values in counted.items()} == {
        name: dict(tally) for name, tally in expected.items()
    }


@pytest.mark.parametrize("share", [0.0, 0.05, 0.3, 0.6, 0.95, 1.0])
@pytest.mark.parametrize("gaps", [False, True])
def test_every_counting_path_matches_a_plain_count(share, gaps):
    """Few rows read one by one, many by value, most by their complement: same counts."""
    rng = random.Random(f"{share}{gaps}")
    ids = sorted(rng.sample(range(1, 2000), 400)) if gaps else list(range(1, 401))
    pairs = {
        name: [(pk, rng.randrange(values)) for pk in ids for _ in range(rng.randint(0, 4))]
        for name, values in (("topic", 30), ("region", 5), ("author", 90), ("year", 12))
    }
    types = [rng.choice(["book", "report"]) for _ in ids]
    wanted = rng.sample(ids, round(share * len(ids)))
    data = _facet_data(ids, pairs, types)
    expected = {
        name: Counter(code for pk, code in rows if pk in set(wanted))
        for name, rows in pairs.items()
    }
    expected["type"] = Counter(t for pk, t in zip(ids, types, strict=True) if pk in set(wanted))
    counted = data.count(np.array(wanted, dtype=np.int64))
    assert {name: dict(values) for name, values in counted.items()} == {
        name: dict(tally) for name, tally in expected.items()
    }


def test_only_the_biggest_values_are_kept_when_there_are_many():
    ids = list(range(1, 301))
    pairs = {"author": [(pk, 1000 + pk) for pk in ids] + [(pk, 7) for pk in ids[:200]]}
    data = _facet_data(ids, pairs, ["book"] * len(ids))
    for wanted in (ids[:150], ids):  # counted directly, and by the complement
        authors = dict(data.count(np.array(wanted))["author"])
        assert len(authors) == search_facets._KEEP
        assert authors[7] == min(len(wanted), 200)


# --- a seeded catalogue ------------------------------------------------------------------

WORDS = ["security", "state", "insurgency", "insurgents", "maritime", "policy"] + [
    f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "zu") for b in ("ran", "tel", "vok", "dus")
]


@pytest.fixture
def seeded(settings, vocabulary, db):
    """300 pieces written by a seeded generator, indexed by rebuild_index's code path."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite engine's own paths")
    settings.SEARCH_BACKEND = "database"
    rng = random.Random(18)
    topics = list(Topic.objects.order_by("pk")[:12])
    regions = list(Region.objects.order_by("pk")[:6])
    authors = Author.objects.bulk_create(
        Author(given=rng.choice(WORDS).title(), family=f"Family{i}", slug=f"family-{i}")
        for i in range(40)
    )
    # Zipf-like: the first words are in most pieces, the last in a few.
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    pieces = Piece.objects.bulk_create(
        Piece(
            title=" ".join(rng.choices(WORDS, weights, k=rng.randint(2, 5))).capitalize(),
            citation_key=f"seeded{i}",
            date=datetime.date(rng.randint(2005, 2024), 1, 1) if i % 17 else None,
            synopsis=" ".join(rng.choices(WORDS, weights, k=rng.randint(0, 12))),
            body=" ".join(rng.choices(WORDS, weights, k=rng.randint(5, 80))),
        )
        for i in range(300)
    )
    Authorship.objects.bulk_create(
        Authorship(piece=piece, author=author, position=n)
        for piece in pieces
        for n, author in enumerate(rng.sample(authors, rng.randint(1, 2)))
    )
    Piece.topics.through.objects.bulk_create(
        Piece.topics.through(piece=piece, topic=topic)
        for piece in pieces
        for topic in rng.sample(topics, rng.randint(0, 3))
    )
    Piece.regions.through.objects.bulk_create(
        Piece.regions.through(piece=piece, region=region)
        for piece in pieces
        for region in rng.sample(regions, rng.randint(0, 1))
    )
    rebuild(chunk=100)
    return {"topics": topics, "regions": regions}


def _filtered_queries(seeded) -> list[str]:
    topic, other = seeded["topics"][0].slug, seeded["topics"][1].slug
    region = seeded["regions"][0].slug
    return [
        "security year:1900..1901",  # no piece: nothing to rank
        f"security topic:{topic}",
        "state year:2010..2016",
        f"insurgency topic:{topic} year:2012..2020",
        f"maritime topic:{topic} topic:{other}",
        f"policy region:{region}",
        '"security state" year:2008..2022',
        f"secu* topic:{other}",
        f"zudus OR topic:{topic}",  # an alternative: not an ANDed id filter, the old path
        f"security -topic:{topic}",  # an excluded filter: the old path too
        "lovok year:2005..2024 -state",  # an excluded word is in the MATCH: fast path
    ]


@pytest.mark.parametrize("sort", [Sort.RELEVANCE, Sort.NEWEST])
@pytest.mark.parametrize("limit", [3, 20, 60])
def test_filtered_queries_give_the_answers_of_the_filter_tested_in_sql(seeded, sort, limit):
    engine = sqlite_backend.SQLiteFTS5Backend()
    engine.cache.size = 0
    vocabulary = Vocabulary.load()
    with engine._cursor() as cursor:
        for text in _filtered_queries(seeded):
            compiled = compile_query(parse_query(text).root, vocabulary)
            fast = engine._rank(cursor, compiled, sort, limit)
            old = engine._rank(cursor, replace(compiled, id_filter=None), sort, limit)
            assert fast.total == old.total, text
            assert sorted(fast.ids) == sorted(old.ids), text
            assert fast.rows == old.rows, text
            assert engine._facets(cursor, fast.ids, vocabulary) == engine._facets(
                cursor, old.ids, vocabulary
            ), text


def test_the_fast_path_is_taken_for_anded_id_filters_only(seeded):
    vocabulary = Vocabulary.load()
    taken = {
        text: compile_query(parse_query(text).root, vocabulary).id_filter is not None
        for text in _filtered_queries(seeded)
    }
    assert [text for text, fast in taken.items() if not fast] == _filtered_queries(seeded)[-3:-1]


def _snippet_oracle(highlight: str, pk: int) -> str:
    """The documented choice for one piece: synopsis, else body, else the best field."""
    calls = [sqlite_backend._snippet_sql(c) for c in (3, 4, -1)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT folded, {', '.join(calls)} FROM search_piece_fts "
            "WHERE search_piece_fts MATCH %s AND rowid = %s",
            [*[MARK_START, MARK_END] * 3, highlight, pk],
        )
        row = cursor.fetchone()
    if row is None:
        return ""
    folded, *texts = row
    text = next((t for t in texts if t and MARK_START in t), "")
    return restore_snippets({pk: text})[pk] if folded and text else text


@pytest.mark.parametrize("docs_per_seek", [0, 10**9], ids=["seek each row", "scan postings"])
@pytest.mark.parametrize(
    "text",
    [
        "security",
        "karan",
        "ka*",
        "lo* mi*",
        '"security state"',
        '"state security insurgency"',  # three words: FTS5 seeks past the row (_seek_each)
        "insurgency OR zudus",
        "zutel",
    ],
)
def test_snippets_are_the_documented_choice_row_by_row(seeded, text, docs_per_seek, monkeypatch):
    """Every piece of the catalogue, its rows sought one by one or found by scanning."""
    monkeypatch.setattr(sqlite_backend, "_SCAN_DOCS_PER_SEEK", docs_per_seek)
    monkeypatch.setattr(sqlite_backend, "_SCAN_TERMS", 1)
    engine = sqlite_backend.SQLiteFTS5Backend()
    vocabulary = Vocabulary.load()
    with engine._cursor() as cursor:
        compiled = compile_query(
            parse_query(text).root, vocabulary, lambda p: engine._prefix_words(cursor, p)
        )
        ids = list(Piece.objects.order_by("pk").values_list("pk", flat=True))
        snippets = engine._snippets(cursor, compiled.highlight, ids)
    expected = {pk: _snippet_oracle(compiled.highlight, pk) for pk in ids}
    assert snippets == {pk: s for pk, s in expected.items() if s}
    assert snippets, "the seeded catalogue should give this query some snippets"


def test_the_head_table_says_short_only_when_the_head_tiers_fall_short(seeded):
    """``_head_falls_short`` starts the body tier's pass before the head tiers run, so it
    must never be wrong one way: it says the head tiers cannot fill the page only when
    they do not. Checked for words, phrases, ORs, column filters and page sizes; an
    exclusion or a prefix is never probed."""
    engine = sqlite_backend.SQLiteFTS5Backend()
    vocabulary = Vocabulary.load()
    texts = [
        *WORDS[:12],
        *(f'"{a} {b}"' for a, b in itertools.pairwise(WORDS[:9])),
        "security OR karan",
        "title:insurgency",
        "author:family1",
        "maritime policy",
        "state -security",
        "ka*",
    ]
    said = {True: 0, False: 0}
    with engine._cursor() as cursor:
        for need in (1, 5, 20, 100):
            for text in texts:
                compiled = compile_query(parse_query(text).root, vocabulary)
                short = engine._head_falls_short(cursor, compiled, need)
                rows = engine._head_tiers(cursor, compiled, need)
                said[short] += 1
                if short:
                    assert len(rows) < need, (text, need)
                if text in ("state -security", "ka*"):
                    assert not short, text
    # Both answers were put to the test.
    assert said[True], said
    assert said[False], said


def test_service_search_with_filters_matches_the_sql_filtered_count(seeded):
    """Through the page's own function: the total equals a count done the plain way."""
    topic = seeded["topics"][0]
    topic_ids = sorted(Vocabulary.load().resolve("topic", topic.slug))  # with its children
    page = service.search(f"security topic:{topic.slug} year:2010..2020")
    marks = ", ".join(["%s"] * len(topic_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM catalogue_piece p WHERE p.id IN (SELECT rowid FROM "
            "search_piece_fts WHERE search_piece_fts MATCH '\"security\"') AND p.id IN "
            f"(SELECT piece_id FROM catalogue_piece_topics WHERE topic_id IN ({marks})) AND "
            "p.date BETWEEN '2010-01-01' AND '2020-12-31'",
            topic_ids,
        )
        (expected,) = cursor.fetchone()
    assert expected > 0
    assert page.total == expected
