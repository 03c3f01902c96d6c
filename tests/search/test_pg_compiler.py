"""The PostgreSQL compiler: reader text only ever reaches ``to_tsquery`` as quoted strings."""

from __future__ import annotations

from library.search.backends.database.postgres.compiler import compile_query, quote
from library.search.query import parse_query
from library.search.vocab import VocabTerm, Vocabulary

VOCAB = Vocabulary(
    [
        VocabTerm("topic", 1, "islamic-state", "Islamic State", ("IS", "ISIL", "Daesh"), None),
        VocabTerm("region", 2, "iraq", "Iraq", (), None),
    ]
)


def compiled(text: str):
    return compile_query(parse_query(text).root, VOCAB)


def test_words_are_quoted_and_anded():
    assert compiled("mosul coin").match == "('mosul') & ('coin')"


def test_quotes_are_escaped_and_other_punctuation_is_a_space():
    assert quote("O'Neill") == "'O''Neill'"
    assert quote("a\\b") == "'a b'"
    assert quote("Israel/Palestine <box> 9/11") == "'Israel Palestine  box  9 11'"
    assert quote("nul\x00byte") == "'nul byte'"


def test_tsquery_operators_typed_by_a_reader_are_just_words():
    match = compiled("mosul&coin | !x :* <-> it's").match
    assert "'mosul coin'" in match
    assert "'it''s'" in match  # the reader's quote doubled inside a quoted word
    assert "<->" not in match


def test_phrase_prefix_and_negation():
    assert compiled('"foreign fighters"').match == "'foreign fighters'"
    assert compiled("propag*").match == "'propag':*"
    assert compiled("mosul -coin").match == "('mosul') & (!('coin'))"
    assert compiled("a OR b").match == "('a') | ('b')"


def test_fields_match_the_short_vectors_not_the_whole_text():
    title = compiled("title:propag*")
    assert title.where == "(d.title @@ to_tsquery('dossier_english', %s))"
    assert title.params == ["'propag':*"]
    assert title.highlight == "('propag':A*)"  # ranked and highlighted as a title word
    author = compiled('author:"abdul basit"')
    assert author.where == (
        "(d.piece_id = ANY(ARRAY(SELECT piece_id FROM search_pg_text "
        "WHERE head @@ to_tsquery('dossier_english', %s))))"
    )
    assert author.params == ["'abdul basit':B"]
    assert compiled("mosul -author:basit").where.startswith("(NOT coalesce((")


def test_aliases_expand_but_never_to_a_short_acronym():
    result = compiled("ISIL")
    words, phrase = result.params
    assert words == "'ISIL' | 'Daesh'"
    assert phrase == "'Islamic State'"
    assert "'IS'" not in result.highlight
    assert "'Islamic State'" in result.highlight  # ranked and highlighted like the words


def test_an_alias_phrase_is_matched_apart_so_the_words_need_no_recheck():
    result = compiled("ISIL")
    assert result.match is None
    assert result.where == (
        "(((d.vec @@ to_tsquery('dossier_english', %s))) OR (d.piece_id = ANY(ARRAY("
        "SELECT d.piece_id FROM search_pg_doc d WHERE (d.vec @@ to_tsquery('dossier_english', "
        "%s))))))"
    )
    assert not result.rechecks  # the phrase is rechecked once, in its subquery


def test_what_makes_postgresql_recheck_is_noted():
    assert not compiled("mosul coin").rechecks
    assert not compiled("propag*").rechecks
    assert compiled('"foreign fighters"').rechecks  # word order (no pairs here)
    assert not compiled("author:basit").rechecks  # on the short vectors


def test_filters_are_sql_with_parameters_and_never_ranked():
    result = compiled("mosul region:iraq year:2014..2017")
    assert result.match == "('mosul')"
    assert "region_id = ANY(%s)" in result.where
    assert result.params == [[2], "2014-01-01", "2017-12-31"]
    assert result.highlight == "('mosul')"


def test_text_or_filter_and_negated_filters_become_sql():
    result = compiled("coin OR region:iraq")
    assert result.match is None
    assert "d.vec @@ to_tsquery" in result.where
    negated = compiled("-year:2010..2030")
    assert negated.where.startswith("(NOT coalesce(")
    assert negated.highlight is None


def test_unknown_filter_values_become_words_with_a_hint():
    result = compiled("topic:nonexistent")
    assert result.match == "'nonexistent'"
    assert any("No topic called" in hint for hint in result.hints)


def test_a_title_match_implies_the_query_only_for_one_word_or_phrase():
    assert compiled("mosul").title_implies_match
    assert compiled('"foreign fighters"').title_implies_match
    assert compiled("ISIL").title_implies_match  # with its aliases, on both sides
    assert compiled("title:mosul").title_implies_match
    assert not compiled("mosul coin").title_implies_match  # coin may be in the body only
    assert not compiled("-mosul").title_implies_match
    assert not compiled("author:basit").title_implies_match
    assert not compiled("mosul region:iraq").title_implies_match
