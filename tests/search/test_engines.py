"""One behavioural suite, run against every engine (the ``engine`` fixture's parameters).

The same queries expect the same pieces, in the same order where the ranking is not a
matter of taste, and the same handling of bad input.
"""

from __future__ import annotations

import datetime

import pytest

from library.catalogue.models import Piece
from library.catalogue.ordering import sorted_pieces
from library.search import service
from library.search.text import MARK_END, MARK_START, markup

pytestmark = pytest.mark.django_db


def keys(text: str, **kwargs) -> list[str]:
    return [piece.citation_key for piece, _ in service.search(text, **kwargs).entries]


def key(corpus, name: str) -> str:
    return corpus[name].citation_key


def test_it_finds_the_piece_a_reader_half_remembers(corpus):
    assert keys("mosul coin")[0] == key(corpus, "mosul")


def test_stemming_finds_insurgency_for_insurgents(corpus):
    found = keys("insurgents")
    assert key(corpus, "thailand") in found
    assert key(corpus, "fighters") in found  # "insurgents" in its body


@pytest.mark.parametrize(
    ("typed", "piece"),
    [("Da Nang", "danang"), ("đà nẵng", "danang"), ("Zoe", "thailand"), ("LEFEVRE", "thailand")],
)
def test_case_and_diacritics_fold(corpus, typed, piece):
    assert key(corpus, piece) in keys(typed)


def test_an_alias_finds_tagged_pieces_and_pieces_that_only_name_it(corpus):
    found = keys("ISIL")
    assert key(corpus, "mosul") in found  # tagged Islamic State
    assert key(corpus, "daesh") in found  # only says "Daesh" in its text


def test_the_issue_example_with_phrase_region_and_year_range(corpus):
    assert keys('"foreign fighters" region:iraq year:2014..2017') == [key(corpus, "fighters")]


def test_a_title_match_outranks_a_body_match(corpus):
    # "propaganda" is in the Daesh piece's title and only in the Mosul piece's body.
    assert keys("propaganda") == [key(corpus, "daesh"), key(corpus, "mosul")]


@pytest.mark.parametrize("where", ["topic:piracy", "year:2014..2017"])
def test_a_filtered_search_ranks_title_matches_first_and_pages_through_every_tier(
    engine, vocabulary, add_piece, where
):
    # Filtered relevance is ranked tier by tier, as unfiltered relevance is: the title
    # match first, the body-only match after it, pieces outside the filter never.
    dated = {"date": datetime.date(2015, 6, 1), "topics": ("piracy",)}
    body = add_piece("Ransoms at Sea", body="Kidnapping for ransom off Sulu.", **dated)
    title = add_piece("Kidnapping in the Sulu Sea", body="Nothing else.", **dated)
    add_piece("Kidnapping Elsewhere", date=datetime.date(1999, 1, 1), body="Kidnapping.")
    found = keys(f"kidnapping {where}")
    assert found == [title.citation_key, body.citation_key]
    assert service.search(f"kidnapping {where}", page_size=1).total == 2
    assert keys(f"kidnapping {where}", page=2, page_size=1) == [body.citation_key]


@pytest.mark.parametrize(
    "typed",
    [
        "Palestine",
        "Israel/Palestine",
        '"Israel Palestine"',
        "rsis",
        "edu",
        "box",
        "9/11",
        "compliant",
        "verbatim",
        '"verbatim and verbatim"',
        "co-operation",
        "operation",
    ],
)
def test_words_joined_by_punctuation_are_found_one_by_one(engine, add_piece, typed):
    # PostgreSQL's parser reads a path, a host or a tag as one token (or none), and Whoosh's
    # word pattern took "verbatim*" for a word: every engine must find each word by itself.
    piece = add_piece(
        "Israel/Palestine after 9/11: the verbatim and verbatim* record",
        body="Co-operation notes at www.rsis.edu.sg/commentary; a PDF/A-compliant <box>.",
    )
    add_piece("Unrelated", body="Nothing to see.")
    assert keys(typed) == [piece.citation_key]


def test_a_word_inside_punctuation_is_marked_and_the_punctuation_kept(engine, add_piece):
    add_piece("Borders", synopsis="The Israel/Palestine question and <box> files.")
    [(_piece, hit)] = service.search("palestine box").entries
    assert f"Israel/{MARK_START}Palestine{MARK_END}" in hit.snippet
    assert f"<{MARK_START}box{MARK_END}>" in hit.snippet


def test_author_field_and_sorting_by_date(corpus):
    assert set(keys("author:basit")) == {key(corpus, "mosul"), key(corpus, "daesh")}
    assert keys("author:basit", sort="newest") == [key(corpus, "daesh"), key(corpus, "mosul")]
    assert keys("author:basit", sort="oldest") == [key(corpus, "mosul"), key(corpus, "daesh")]


SORTED_QUERY = "mosul OR militants OR insurgency OR daesh OR securitization OR pamphlet"


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # Lower-cased title, then subtitle, then id: as /pieces/?sort=title.
        ("title", ["anonymous", "daesh", "thailand", "mosul", "fighters", "undated"]),
        # First author's family name (Basit twice: then by title), authorless last.
        ("author", ["daesh", "mosul", "fighters", "thailand", "undated", "anonymous"]),
    ],
)
def test_sorting_by_title_and_author_is_the_browse_pages_order(corpus, add_piece, sort, expected):
    corpus["anonymous"] = add_piece(
        "Anonymous Pamphlet on Kidnapping", authors=(), date=None, body="Unsigned."
    )
    ordered = [key(corpus, name) for name in expected]
    assert keys(SORTED_QUERY, sort=sort) == ordered
    # The browse page's own queryset over the same pieces gives the same order.
    matched = Piece.objects.filter(citation_key__in=ordered)
    assert list(sorted_pieces(matched, sort).values_list("citation_key", flat=True)) == ordered
    # Pages continue the order, and the total counts every match.
    second = service.search(SORTED_QUERY, sort=sort, page_size=4, page=2)
    assert second.total == len(ordered)
    assert [p.citation_key for p, _ in second.entries] == ordered[4:]
    # Each hit still has its highlighted passage.
    first = service.search(SORTED_QUERY, sort=sort, page_size=4)
    assert all(MARK_START in hit.snippet for _, hit in first.entries)
    assert first.facets["year"]


def test_undated_pieces_sort_last_both_ways(corpus):
    newest = keys("security OR securitization", sort="newest")
    oldest = keys("security OR securitization", sort="oldest")
    assert newest[-1] == oldest[-1] == key(corpus, "undated")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mosul -coin", set()),
        ("mosul NOT coin", set()),
        ("minted OR smuggling", {"mosul", "weird"}),
        ("mosu*", {"mosul"}),
        ("title:insurgency", {"thailand"}),
        ("type:report", {"weird"}),
        ('type:"journal article"', set()),
        ("topic:islamic-state", {"mosul"}),
        ('topic:"Islamic State"', {"mosul"}),
        ("region:iraq", {"mosul", "fighters"}),
        ("region:southeast-asia", {"thailand", "danang"}),
        ("year:2016", {"mosul"}),
        ("year:..2012", {"thailand", "weird"}),
        ("-year:2010..2030", {"undated"}),
        ("(minted OR smuggling) -cartels", {"mosul"}),
        ("securitization theory", {"undated"}),
    ],
)
def test_the_query_language(corpus, text, expected):
    assert set(keys(text)) == {key(corpus, name) for name in expected}


def test_total_count_and_pagination(corpus):
    first = service.search("author:basit OR author:gunaratna", sort="oldest", page_size=2)
    second = service.search("author:basit OR author:gunaratna", sort="oldest", page_size=2, page=2)
    assert first.total == second.total == 3
    assert [p.citation_key for p, _ in first.entries] == [
        key(corpus, "fighters"),
        key(corpus, "mosul"),
    ]
    assert [p.citation_key for p, _ in second.entries] == [key(corpus, "daesh")]
    past_the_end = service.search("author:basit", page=99)
    assert past_the_end.page == 1
    assert past_the_end.entries


def test_facets_are_counted_over_the_whole_match(corpus):
    result = service.search("author:basit", page_size=1)
    assert len(result.entries) == 1
    years = {v.label: v.count for v in result.facets["year"]}
    assert years == {"2016": 1, "2018": 1}
    assert [(v.label, v.count) for v in result.facets["author"]] == [("Abdul Basit", 2)]
    topics = {v.key for v in result.facets["topic"]}
    assert topics == {"islamic-state", "counter-terrorism"}
    assert {v.key: v.count for v in result.facets["type"]} == {"commentary": 2}


def test_snippets_highlight_the_match_and_escape_stored_text(corpus):
    (piece, hit), *_ = service.search("cartels").entries
    assert piece.citation_key == key(corpus, "weird")
    assert MARK_START in hit.snippet
    assert MARK_END in hit.snippet
    html = markup(hit.snippet)
    assert "<mark>cartels</mark>" in html
    assert "<img" not in html
    assert "&lt;img" in html


def test_snippets_keep_the_original_letters(corpus):
    (_piece, hit), *_ = service.search("Da Nang").entries
    assert "Đà" in hit.snippet.replace(MARK_START, "").replace(MARK_END, "")


@pytest.mark.parametrize(
    ("text", "finds_mosul"),
    [
        ('mosul "unbalanced quote', False),  # the phrase must match; a hint says it was closed
        ("(mosul coin", True),
        ("mosul coin))", True),
        ("AND", False),
        ("OR mosul", True),
        ("mosul NOT", True),
        ("*", False),
        ("title:", False),
        ("year:abc mosul", True),
        ("mosul\x00", True),
        ("'; DROP TABLE catalogue_piece; --", False),
        ('mosul" OR 1=1 --', False),
        ("NEAR(mosul coin)", False),
        ("{title}: mosul", False),
        ("mosul^2 coin", False),
        ("x" * 10_000, False),
        ("mosul " * 2000, True),
        ("🙂 mosul", True),
        ("-", False),
        ("", False),
        ("   ", False),
        ("mosul al-Baghdadi's O'Neill U.S.", False),
    ],
)
def test_bad_queries_never_fail(corpus, text, finds_mosul):
    result = service.search(text)
    assert result.index_error == ""
    found = [p.citation_key for p, _ in result.entries]
    assert (key(corpus, "mosul") in found) is finds_mosul


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('"unbalanced quote mosul', "quote"),
        ("(mosul coin", "parenthesis"),
        ("title: mosul", "title: needs a value"),
        ("x" * 10_000, "too long"),
        ("topic:nonexistent-topic", "No topic called"),
        ("type:pamphlet", "No piece type called"),
        ("*", "Nothing searchable"),
    ],
)
def test_repaired_queries_say_what_was_done(corpus, text, hint):
    result = service.search(text)
    assert any(hint in h for h in result.hints), result.hints


@pytest.mark.parametrize(("typed", "suggested"), [("insurgancy", "insurgency"), ("Mosol", "mosul")])
def test_did_you_mean_uses_the_catalogue_vocabulary(corpus, typed, suggested):
    assert suggested in service.search(typed).suggestion


def test_no_suggestion_for_correct_words_or_known_aliases(corpus):
    assert service.search("mosul").suggestion == ""
    assert service.search("ISIL").suggestion == ""


def test_related_pieces_share_text_or_tags(corpus):
    related = service.related_ids(corpus["mosul"])
    assert corpus["mosul"].pk not in related
    assert corpus["fighters"].pk in related  # both about Iraq


def test_an_edited_piece_is_found_by_its_new_title(corpus, django_capture_on_commit_callbacks):
    piece = corpus["thailand"]
    piece.title = "Rebellion in Pattani"
    with django_capture_on_commit_callbacks(execute=True):
        piece.save()
    assert key(corpus, "thailand") in keys("pattani")
    assert key(corpus, "thailand") not in keys("title:southern")


def test_a_deleted_piece_is_gone(corpus, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        corpus["danang"].delete()
    assert keys("Da Nang") == []


def test_a_repeated_search_sees_a_change_made_in_between(
    corpus, django_capture_on_commit_callbacks
):
    assert keys("zanzibar") == []  # this answer may now be cached…
    piece = corpus["danang"]
    piece.synopsis = "Zanzibar fishermen sail north."
    with django_capture_on_commit_callbacks(execute=True):
        piece.save()
    assert keys("zanzibar") == [key(corpus, "danang")]  # …but never outlives the write


def test_facets_of_a_query_matching_most_of_the_catalogue(corpus):
    result = service.search("-nonexistentword")
    assert result.total == len(corpus)
    assert {v.key: v.count for v in result.facets["type"]} == {
        "commentary": 5,
        "report": 1,
        "book": 1,
    }
    assert {v.label: v.count for v in result.facets["author"]}["Abdul Basit"] == 2
    assert len(result.facets["year"]) == 6  # the undated piece has no year


def test_prefix_matches_are_highlighted(corpus):
    (piece, hit), *_ = service.search("propag*").entries
    assert piece.citation_key in {key(corpus, "daesh"), key(corpus, "mosul")}
    assert MARK_START in hit.snippet


def test_a_phrase_matches_adjacent_words_only_title_matches_first(engine, add_piece):
    title = add_piece("Common Ground at Sea", body="Nothing else.")
    body = add_piece("Fisheries", body="Both navies sought common ground on the shoals.")
    synopsis = add_piece("Talks", synopsis="A search for common ground.", body="Talks.")
    add_piece("Apart", body="Common patrols covered ground near the shore.")
    add_piece("Reversed", body="The ground was common to both.")
    found = keys('"common ground"')
    assert found[0] == title.citation_key
    assert set(found) == {title.citation_key, body.citation_key, synopsis.citation_key}
    assert service.search('"common ground"', page_size=1).total == 3
    assert keys('"common ground"', page=3, page_size=1) == found[2:]
    snippets = {p.pk: hit.snippet for p, hit in service.search('"common ground"').entries}
    assert MARK_START in snippets[body.pk]
