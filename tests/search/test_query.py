"""The search query language: every construct, every repair, and that no input ever raises."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from library.search.query import (
    And,
    Filter,
    Node,
    Not,
    Or,
    ParsedQuery,
    Phrase,
    Term,
    YearRange,
    parse_query,
    plain_words,
)


def root(text: str) -> Node | None:
    return parse_query(text).root


def terms(*words: str) -> And:
    return And(tuple(Term(word) for word in words))


# --- The examples readers type ---------------------------------------------------------------


def test_words_are_all_required():
    assert root("mosul coin") == terms("mosul", "coin")


def test_author_field_restricts_a_word_to_authors():
    parsed = parse_query("author:basit")
    assert parsed.root == Term("basit", field="author")
    assert parsed.hints == ()
    assert parsed.text == "author:basit"


def test_phrase_with_facet_and_year_range():
    parsed = parse_query('"foreign fighters" region:iraq year:2014..2017')
    assert parsed.root == And(
        (Phrase(("foreign", "fighters")), Filter("region", "iraq"), YearRange(2014, 2017))
    )
    assert parsed.positive_terms == ("foreign", "fighters")
    assert parsed.text == '"foreign fighters" region:iraq year:2014..2017'


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "- * --", '""', "()", "OR AND NOT"])
def test_a_query_with_nothing_searchable_has_no_root(text):
    parsed = parse_query(text)
    assert parsed.root is None
    assert parsed.text == ""
    assert parsed.positive_terms == ()


# --- Words, phrases, prefixes ----------------------------------------------------------------


def test_a_single_word_is_a_bare_term():
    assert root("mosul") == Term("mosul")


def test_a_quoted_phrase_keeps_its_words_in_order():
    assert root('"islamic state" mosul') == And((Phrase(("islamic", "state")), Term("mosul")))


def test_a_one_word_phrase_is_a_term():
    assert root('"mosul"') == Term("mosul")


def test_a_trailing_star_makes_a_prefix_search():
    assert root("radical*") == Term("radical", prefix=True)


def test_a_prefix_needs_two_characters_before_the_star():
    parsed = parse_query("a* ab*")
    assert parsed.root == And((Term("a"), Term("ab", prefix=True)))
    assert parsed.hints == ("a* is too short for a prefix search; searched as the word a.",)


@pytest.mark.parametrize("text", ["*", "-", "**", "--", "- * mosul -"])
def test_a_lone_star_or_minus_is_dropped(text):
    parsed = parse_query(text)
    assert parsed.root in (None, Term("mosul"))
    assert parsed.hints == ()


def test_punctuation_is_stripped_from_word_edges_but_kept_inside():
    assert root("iraq, al-Baghdadi's U.S. (policy)!") == terms(
        "iraq", "al-Baghdadi's", "U.S", "policy"
    )


def test_a_word_of_only_punctuation_or_symbols_is_dropped():
    assert root("... ,; + mosul ?!") == Term("mosul")


def test_unicode_is_kept_as_typed():
    parsed = parse_query("Đà Nẵng МОСУЛ")
    assert parsed.root == terms("Đà", "Nẵng", "МОСУЛ")
    assert parsed.text == "Đà Nẵng МОСУЛ"


def test_syntax_characters_split_words():
    assert root('war(s)"on terror"') == And((Term("war"), Term("s"), Phrase(("on", "terror"))))


# --- Operators and precedence ----------------------------------------------------------------


def test_or_matches_either_side():
    assert root("iraq OR syria") == Or((Term("iraq"), Term("syria")))


def test_lowercase_or_and_not_are_plain_words():
    assert root("war or peace and not") == terms("war", "or", "peace", "and", "not")


def test_or_binds_tighter_than_implicit_and():
    assert root("a b OR c") == And((Term("a"), Or((Term("b"), Term("c")))))
    assert root("a OR b c") == And((Or((Term("a"), Term("b"))), Term("c")))


def test_explicit_and_means_the_same_as_implicit_and():
    assert root("a AND b") == root("a b")
    assert root("a AND b OR c") == root("a b OR c")


def test_parentheses_override_precedence():
    assert root("(a b) OR c") == Or((And((Term("a"), Term("b"))), Term("c")))


def test_not_binds_tightest():
    assert root("-a OR b") == Or((Not(Term("a")), Term("b")))
    assert root("NOT a b") == And((Not(Term("a")), Term("b")))


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("-coin", Term("coin")),
        ('-"islamic state"', Phrase(("islamic", "state"))),
        ("-author:basit", Term("basit", field="author")),
        ("-region:iraq", Filter("region", "iraq")),
        ("-year:2016", YearRange(2016, 2016)),
        ("NOT coin", Term("coin")),
        ("-(a OR b)", Or((Term("a"), Term("b")))),
        ("-OR", Term("OR")),
    ],
)
def test_minus_and_not_exclude_what_follows(text, negated):
    assert root(text) == Not(negated)


def test_a_minus_inside_a_word_is_part_of_the_word():
    assert root("islamic-state") == Term("islamic-state")


def test_double_negation_cancels():
    assert root("NOT NOT a") == Term("a")
    assert root("-(-a)") == Term("a")


def test_nested_groups_are_flattened():
    assert root("a (b (c d))") == terms("a", "b", "c", "d")
    assert root("a OR (b OR c)") == Or((Term("a"), Term("b"), Term("c")))
    assert root("((mosul))") == Term("mosul")


# --- Fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["AUTHOR:basit", "Author:basit", "author:basit"])
def test_field_names_are_case_insensitive(text):
    assert root(text) == Term("basit", field="author")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title:caliphate", Term("caliphate", field="title")),
        ("title:calip*", Term("calip", field="title", prefix=True)),
        ('title:"foreign fighters"', Phrase(("foreign", "fighters"), field="title")),
        ('author:"basit"', Term("basit", field="author")),
    ],
)
def test_text_fields_take_a_word_a_prefix_or_a_phrase(text, expected):
    assert root(text) == expected


def test_a_text_field_group_applies_the_field_to_each_word():
    assert root("title:(mosul -coin)") == And(
        (Term("mosul", field="title"), Not(Term("coin", field="title")))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("region:iraq", Filter("region", "iraq")),
        ("topic:islamic-state", Filter("topic", "islamic-state")),
        ('topic:"islamic state"', Filter("topic", "islamic state")),
        ("TYPE:report", Filter("type", "report")),
        ("topic:(iraq OR syria)", Or((Filter("topic", "iraq"), Filter("topic", "syria")))),
    ],
)
def test_facet_filters_take_a_word_or_a_quoted_value(text, expected):
    assert root(text) == expected


def test_a_facet_filter_ignores_a_prefix_star_with_a_hint():
    parsed = parse_query("topic:isl*")
    assert parsed.root == Filter("topic", "isl")
    assert parsed.hints == ("topic: matches whole values only; searched topic:isl.",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("year:2016", YearRange(2016, 2016)),
        ("year:2014..2017", YearRange(2014, 2017)),
        ("year:2014-2017", YearRange(2014, 2017)),
        ("year:2014..", YearRange(2014, None)),
        ("year:..2017", YearRange(None, 2017)),
    ],
)
def test_year_takes_a_year_or_a_range(text, expected):
    parsed = parse_query(text)
    assert parsed.root == expected
    assert parsed.hints == ()


def test_a_reversed_year_range_is_swapped_with_a_hint():
    parsed = parse_query("year:2017..2014")
    assert parsed.root == YearRange(2014, 2017)
    assert parsed.hints == ("Read year:2017..2014 as year:2014..2017.",)


@pytest.mark.parametrize("value", ["abc", "..", "20162017", "2016.5", "2014-"])
def test_a_bad_year_is_dropped_with_a_hint(value):
    parsed = parse_query(f"mosul year:{value}")
    assert parsed.root == Term("mosul")
    assert len(parsed.hints) == 1
    assert parsed.hints[0].startswith(f"Ignored year:{value} ")


@pytest.mark.parametrize("name", ["author", "title", "topic", "region", "type", "year"])
def test_a_field_without_a_value_is_dropped_with_a_hint(name):
    parsed = parse_query(f"mosul {name}:")
    assert parsed.root == Term("mosul")
    assert parsed.hints == (f"{name}: needs a value.",)


def test_a_value_after_a_space_is_a_plain_word():
    parsed = parse_query("author: basit")
    assert parsed.root == Term("basit")
    assert parsed.hints == ("author: needs a value.",)


def test_an_unknown_field_is_searched_as_words_with_a_hint():
    parsed = parse_query("foo:bar")
    assert parsed.root == terms("foo", "bar")
    assert parsed.hints == ("Unknown field 'foo:' searched as words.",)


def test_a_number_with_a_colon_is_searched_as_words_without_a_hint():
    parsed = parse_query("10:30")
    assert parsed.root == terms("10", "30")
    assert parsed.hints == ()


def test_a_negated_unknown_field_excludes_both_words():
    assert root("-foo:bar") == Not(terms("foo", "bar"))


# --- Repairs ---------------------------------------------------------------------------------


def test_unbalanced_quote_is_closed_with_a_hint():
    parsed = parse_query('"foreign fighters')
    assert parsed.root == Phrase(("foreign", "fighters"))
    assert parsed.hints == ("Added a missing closing quote.",)


def test_unmatched_closing_parenthesis_is_ignored_with_a_hint():
    parsed = parse_query("a) OR b")
    assert parsed.root == Or((Term("a"), Term("b")))
    assert parsed.hints == ("Ignored an unmatched closing parenthesis.",)


def test_unclosed_parenthesis_is_closed_at_the_end_with_a_hint():
    parsed = parse_query("(a OR b c")
    assert parsed.root == And((Or((Term("a"), Term("b"))), Term("c")))
    assert parsed.hints == ("Added a missing closing parenthesis.",)


def test_parentheses_nested_too_deep_are_ignored_with_a_hint():
    parsed = parse_query("(" * 50 + "mosul" + ")" * 50)
    assert parsed.root == Term("mosul")
    assert parsed.hints == ("Ignored parentheses nested more than 10 deep.",)


@pytest.mark.parametrize(
    ("text", "expected", "hint"),
    [
        ("OR mosul", Term("mosul"), "Ignored a lone OR."),
        ("mosul OR", Term("mosul"), "Ignored a lone OR."),
        ("iraq OR OR syria", Or((Term("iraq"), Term("syria"))), "Ignored a lone OR."),
        ("AND mosul", Term("mosul"), "Ignored a lone AND."),
        ("mosul AND", Term("mosul"), "Ignored a lone AND."),
        ("iraq AND AND syria", terms("iraq", "syria"), "Ignored a lone AND."),
        ("mosul NOT", Term("mosul"), "Ignored a lone NOT."),
        ("(mosul NOT) coin", terms("mosul", "coin"), "Ignored a lone NOT."),
        ("OR", None, "Ignored a lone OR."),
    ],
)
def test_lone_operators_are_dropped_with_a_hint(text, expected, hint):
    parsed = parse_query(text)
    assert parsed.root == expected
    assert parsed.hints == (hint,)


def test_nul_bytes_and_control_characters_are_removed():
    parsed = parse_query("mo\x00sul\x07 \x1bcoin\tfighters\r\n")
    assert parsed.root == terms("mosul", "coin", "fighters")


def test_sql_looking_text_is_just_words():
    parsed = parse_query("'; DROP TABLE piece; --")
    assert parsed.root == terms("DROP", "TABLE", "piece")
    assert parsed.hints == ()


def test_a_long_query_is_truncated_at_a_word_boundary_with_a_hint():
    text = "mosul " * 2000  # 12 kB
    parsed = parse_query(text + "x", max_terms=1000)
    assert parsed.hints == ("Query too long: only its first 500 characters were searched.",)
    assert len(parsed.root.children) == 83  # 83 whole words of 6 characters; no fragment
    assert set(parsed.root.children) == {Term("mosul")}


def test_a_single_overlong_word_is_cut_at_max_length():
    parsed = parse_query("x" * 20, max_length=8)
    assert parsed.root == Term("x" * 8)


def test_more_than_max_terms_keeps_the_first_ones_with_a_hint():
    words = [f"w{n}" for n in range(40)]
    parsed = parse_query(" ".join(words))
    assert parsed.root == terms(*words[:32])
    assert parsed.hints == ("Only the first 32 terms were searched.",)


def test_max_terms_counts_filters_and_phrases_too():
    parsed = parse_query('a "b c" region:iraq year:2016 d', max_terms=3)
    assert parsed.root == And((Term("a"), Phrase(("b", "c")), Filter("region", "iraq")))


def test_hints_are_distinct_and_capped():
    parsed = parse_query(" ".join(f"field{chr(97 + n)}:x" for n in range(20)) + " OR OR")
    assert len(parsed.hints) == len(set(parsed.hints)) == 6


# --- The tree and its canonical text ---------------------------------------------------------


def test_nodes_are_frozen_and_hashable():
    node = And((Term("a"), Not(Phrase(("b", "c"))), Filter("topic", "x"), YearRange(1, None)))
    assert hash(node) == hash(root('a -"b c" topic:x year:1..'))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.children = ()


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("mosul   coin", "mosul coin"),
        ("a AND b OR c", "a b OR c"),
        ("(a b) OR c", "(a b) OR c"),
        ("NOT a", "-a"),
        ("NOT (a OR b)", "-(a OR b)"),
        ("Title:(a bc*)", "title:a title:bc*"),
        ("topic:'islamic-state'", "topic:islamic-state"),
        ('topic:"islamic  state"', 'topic:"islamic state"'),
        ("year:2016..2016", "year:2016"),
        ('"OR" "a:b"', '"OR" "a:b"'),
        ('title:"f(x"', 'title:"f(x"'),
    ],
)
def test_str_renders_canonical_query_syntax(text, canonical):
    parsed = parse_query(text)
    assert str(parsed.root) == parsed.text == canonical


ROUND_TRIP_QUERIES = [
    "mosul coin",
    "author:basit",
    '"foreign fighters" region:iraq year:2014..2017',
    "a b OR c d",
    "(a b) OR (c d) OR e",
    "-(a b) -c OR d",
    "NOT NOT NOT a",
    'title:(mosul OR "islamic state") author:bas*',
    'topic:"islamic state" -type:report year:..2017 year:2014..',
    '"OR" -OR "a:b" title:a:b topic:a:b',
    "((a OR b) (c OR -d)) OR e",
    "-foo:bar 10:30",
    'x "f(x) y" title:"f(x)" topic:"a(b"',
]


@pytest.mark.parametrize("text", ROUND_TRIP_QUERIES)
def test_str_round_trips_through_the_parser(text):
    node = root(text)
    assert node is not None
    assert root(str(node)) == node


def test_positive_terms_exclude_negated_words_and_filters():
    parsed = parse_query('mosul -coin title:"islamic state" NOT -"war crimes" region:iraq mosul')
    assert parsed.positive_terms == ("mosul", "islamic", "state", "war", "crimes")


@pytest.mark.parametrize("text", ["region:iraq year:2016", "-mosul", "-mosul region:iraq"])
def test_only_filters_or_only_negations_leave_no_positive_terms(text):
    assert parse_query(text).positive_terms == ()


# --- The plain-words fallback ----------------------------------------------------------------


def test_plain_words_keeps_only_the_positive_words_anded():
    parsed = plain_words('author:basit "foreign fighters" -coin iraq OR syri* region:iraq (')
    assert parsed.root == terms("basit", "foreign", "fighters", "iraq", "syri")
    assert parsed.text == "basit foreign fighters iraq syri"
    assert parsed.hints == ("Added a missing closing parenthesis.",)


def test_plain_words_of_nothing_is_empty():
    assert plain_words("region:iraq -coin") == ParsedQuery(root=None, hints=(), text="")


# --- Totality: every input is valid ----------------------------------------------------------

SYNTAX_PIECES = st.sampled_from(
    [
        "a", "bc", "Đà", "OR", "AND", "NOT", "or", "-", "--", "*", "ab*", "a*", '"', "(", ")",
        ":", "title:", "Author:", "topic:", "region:", "type:", "year:", "foo:", "10:", "2014",
        "..", "2017", "-2014", "…", ",", ".", "'", ";", "\x00", "\n", "\u200b", "\ud800",
        " ", "  ",
    ]
)  # fmt: skip
SYNTAX_HEAVY = st.lists(SYNTAX_PIECES, max_size=40).map("".join)


def assert_well_formed(node: Node | None) -> None:
    """Every tree upholds what backends rely on: no empty words, groups of two or more."""
    if isinstance(node, Term):
        assert node.text
        assert not any(ch.isspace() for ch in node.text)
        assert node.field in (None, "title", "author")
    elif isinstance(node, Phrase):
        assert len(node.words) >= 2
        assert all(node.words)
    elif isinstance(node, Filter):
        assert node.field in ("topic", "region", "type")
        assert node.value.strip()
    elif isinstance(node, YearRange):
        assert node.low is not None or node.high is not None
        assert node.low is None or node.high is None or node.low <= node.high
    elif isinstance(node, And | Or):
        assert len(node.children) >= 2
        assert not any(isinstance(child, type(node)) for child in node.children)
        for child in node.children:
            assert_well_formed(child)
    else:
        assert isinstance(node, Not)
        assert not isinstance(node.child, Not)
        assert_well_formed(node.child)


def check_parse(text: str, **limits: int) -> None:
    parsed = parse_query(text, **limits)
    assert isinstance(parsed.hints, tuple)
    if parsed.root is None:
        assert parsed.text == ""
        return
    assert_well_formed(parsed.root)
    # The canonical text means the same tree, and needs no repair.
    again = parse_query(parsed.text, max_length=10_000)
    assert again.root == parsed.root
    assert again.hints == ()
    if not limits:
        assert (plain_words(text).root is not None) == bool(parsed.positive_terms)


@settings(max_examples=300)
@given(st.text())
def test_any_text_parses_without_raising(text):
    check_parse(text)


@settings(max_examples=500)
@given(SYNTAX_HEAVY)
def test_syntax_heavy_text_parses_without_raising_and_round_trips(text):
    check_parse(text)


@given(SYNTAX_HEAVY, st.integers(-5, 60), st.integers(-5, 8))
def test_any_limits_are_accepted(text, max_length, max_terms):
    check_parse(text, max_length=max_length, max_terms=max_terms)
