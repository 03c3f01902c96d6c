"""The FTS5 compiler: reader text only ever reaches FTS5 as quoted strings."""

from __future__ import annotations

import pytest

from library.search.backends.database.sqlite.compiler import compile_query, quote
from library.search.query import parse_query
from library.search.text import MARK_START
from library.search.vocab import VocabTerm, Vocabulary

VOCAB = Vocabulary(
    [VocabTerm("topic", 1, "islamic-state", "Islamic State", ("IS", "ISIL", "Daesh"), None)]
)


def compiled(text: str):
    return compile_query(parse_query(text).root, VOCAB)


def test_words_are_quoted_and_anded():
    assert compiled("mosul coin").match == '("mosul") AND ("coin")'


def test_quotes_inside_a_word_are_doubled():
    assert quote('say"what') == '"say""what"'


def test_fts5_operators_typed_by_a_reader_are_just_words():
    match = compiled("NEAR(mosul coin) {title}:x").match
    assert '"NEAR"' in match
    assert "NEAR(" not in match


def test_aliases_expand_but_never_to_a_short_acronym():
    match = compiled("ISIL").match
    assert '"Islamic State"' in match
    assert '"Daesh"' in match
    assert '"IS"' not in match


def test_lower_case_short_words_are_not_acronyms():
    assert compiled("is").match == '"is"'


def test_field_terms_use_their_column():
    assert compiled("title:mosul author:basit").match == (
        '(title : ("mosul")) AND (authors : ("basit"))'
    )


def test_negation_without_a_positive_term_becomes_sql():
    result = compiled("-mosul")
    assert result.match is None
    assert result.where.startswith("NOT coalesce(")


def test_filters_are_sql_with_parameters():
    result = compiled("mosul topic:ISIL year:2014..2017 type:report")
    assert result.match == '("mosul")'
    assert "topic_id IN (%s)" in result.where
    assert result.params == [1, "2014-01-01", "2017-12-31", "report"]


def test_unknown_filter_values_become_words_with_a_hint():
    result = compiled("topic:nonsense")
    assert result.match == '"nonsense"'
    assert any("No topic called" in hint for hint in result.hints)


def test_expansions_that_cannot_add_a_match_are_left_out():
    vocabulary = Vocabulary(
        [
            VocabTerm(
                "topic", 2, "terrorism", "Terrorism", ("terrorist", "terrorist attack"), None
            ),
            VocabTerm("topic", 3, "cyber", "Cyber", ("cyber-attack", "information security"), None),
        ]
    )
    assert vocabulary.synonyms("terrorism") == ["terrorist"]
    assert vocabulary.synonyms("Cyber") == ["information security"]


def test_a_year_range_is_an_id_filter_read_from_the_date_index():
    result = compiled("coin year:2014..2017")
    assert "p.date" not in result.where  # no join with the wide piece rows
    assert "date >= %s AND date <= %s" in result.where
    assert result.params == ["2014-01-01", "2017-12-31"]


@pytest.mark.sqlite
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "index"), [("topic", "search_topic_piece"), ("region", "search_region_piece")]
)
def test_topic_and_region_filters_are_read_from_an_index_alone(kind, index):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query plan")
    vocab = Vocabulary([VocabTerm(kind, 1, "iraq", "Iraq", (), None)])
    where = compile_query(parse_query(f"mosul {kind}:iraq").root, vocab)
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN QUERY PLAN SELECT p.id FROM catalogue_piece p WHERE {where.where}",
            where.params,
        )
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert f"USING COVERING INDEX {index}" in plan


@pytest.mark.sqlite
@pytest.mark.django_db
def test_snippets_are_the_same_whether_postings_are_scanned_or_seeked(
    database_engine, vocabulary, make_piece, monkeypatch
):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite snippets")
    from library.search import service
    from library.search.backends.database.sqlite import backend as sqlite_fts5

    make_piece("Mosul's Coin", synopsis="Gold minted by Daesh.", topics=("islamic-state",))
    make_piece("Daesh Online", body="ISIS media units and ISIL propaganda.")
    snippets = []
    for docs_per_seek in (0, 10**9):  # never scan, always scan
        monkeypatch.setattr(sqlite_fts5, "_SCAN_DOCS_PER_SEEK", docs_per_seek)
        result = service.search("ISIL")
        snippets.append({piece.pk: hit.snippet for piece, hit in result.entries})
    assert snippets[0] == snippets[1]
    assert len(snippets[0]) == 2
    assert all(MARK_START in s for s in snippets[0].values())
