"""The tag suggester: pure Python, checked on small vocabularies and on the seed commentary."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from library.ingest.suggest import Suggestion, Term, build_matcher, normalise_label, suggest_terms

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "library" / "catalogue" / "data"
SEED = ROOT / "tests" / "fixtures" / "mosul-operation.txt"
SEED_TITLE = "Mosul Operation: The Endgame for IS?"

IS = Term("islamic-state", "Islamic State", ("IS", "ISIS", "ISIL", "Daesh"))
CT = Term("counter-terrorism", "Counter-terrorism", ("CT", "counterterrorism"))
INSURGENCY = Term("insurgency", "Insurgency", ("insurgent",))
SYRIA = Term("syria", "Syria", ("Syrian",))
SUDAN = Term("sudan", "Sudan", ("Sudanese",))
SOUTH_SUDAN = Term("south-sudan", "South Sudan", ("South Sudanese",))
DA_NANG = Term("da-nang", "Đà Nẵng")
TURKEY = Term("turkey", "Turkey", ("Türkiye", "Turkish"))
US = Term("united-states", "United States", ("US", "U.S.", "American"))


def found(body: str, *terms: Term, title: str = "", synopsis: str = "") -> dict[str, float]:
    """Every term mentioned at all, with its score."""
    suggestions = suggest_terms(
        title=title, synopsis=synopsis, body=body, terms=terms, limit=0, min_score=0.1
    )
    return {s.slug: s.score for s in suggestions}


def _seed() -> tuple[str, str]:
    text = SEED.read_text(encoding="utf-8")
    synopsis = text.split("Synopsis", 1)[1].split("Commentary", 1)[0]
    return " ".join(synopsis.split()), text.split("Commentary", 1)[1]


def _shipped_terms() -> tuple[list[Term], list[Term]]:
    topics = json.loads((DATA_DIR / "topics.json").read_text(encoding="utf-8"))
    regions = json.loads((DATA_DIR / "regions.json").read_text(encoding="utf-8"))
    every_region = [*regions["regions"], *regions["countries"].values(), *regions["places"]]
    return (
        [Term(t["slug"], t["name"], tuple(t["aliases"])) for t in topics],
        [Term(r["slug"], r["name"], tuple(r["aliases"])) for r in every_region],
    )


# --- acronyms ----------------------------------------------------------------------------


def test_the_word_is_never_islamic_state():
    assert found("This is what it is. Is it? It is.", IS) == {}


@pytest.mark.parametrize(
    "text",
    [
        "The IS group retreated.",
        "IS’ jihadist brand is strong.",
        "IS' jihadist brand is strong.",
        "IS's leaders fled.",
        "the anti-IS coalition",
        "defeat of IS—the name",
        "(IS)",
    ],
)
def test_the_acronym_matches_as_a_whole_word_in_capitals(text):
    assert found(text, IS) == {"islamic-state": 1.0}


def test_acronyms_inside_a_shouted_heading_are_ignored():
    assert found("WHAT IS TERRORISM TODAY?", IS) == {}
    assert found("WHY THE US LEFT", US) == {}


def test_acronyms_next_to_other_acronyms_still_count():
    assert found("The UN and US envoys met; CT or COIN?", US, CT) == {
        "united-states": 1.0,
        "counter-terrorism": 1.0,
    }


def test_dotted_acronyms_and_plurals_of_acronyms_match():
    assert found("U.S. policy", US) == {"united-states": 1.0}
    wmd = Term("wmd", "Weapons of mass destruction", ("WMD",))
    assert found("Iraq's WMDs", wmd) == {"wmd": 1.0}


def test_long_names_ignore_case():
    assert found("ISLAMIC STATE and islamic state and daesh", IS) == {"islamic-state": 3.0}


# --- spelling ----------------------------------------------------------------------------


def test_diacritics_are_folded_both_ways():
    assert found("We flew to Da Nang.", DA_NANG) == {"da-nang": 1.0}
    assert found("Đà Nẵng port", Term("da-nang", "Da Nang")) == {"da-nang": 1.0}
    assert found("Turkiye and TÜRKIYE", TURKEY) == {"turkey": 2.0}


def test_hyphens_and_spaces_between_words_are_equivalent():
    assert found("counter terrorism and counter–terrorism", CT) == {"counter-terrorism": 2.0}


def test_plurals_and_possessives_are_tolerated():
    assert found("insurgencies and insurgents", INSURGENCY) == {"insurgency": 2.0}
    assert found("Syria's war and Syria’s people and Syrians", SYRIA) == {"syria": 3.0}


def test_words_inside_other_words_do_not_match():
    assert found("Syriac manuscripts; Sudanic languages", SYRIA, SUDAN) == {}


def test_the_longest_phrase_wins_and_matches_do_not_overlap():
    assert found("South Sudanese officials", SUDAN, SOUTH_SUDAN) == {"south-sudan": 1.0}


def test_the_matches_are_reported_as_written():
    [suggestion] = suggest_terms(
        title="", synopsis="", body="ISIS, then Daesh, then ISIS again", terms=[IS], min_score=1
    )
    assert suggestion.matches == ("ISIS", "Daesh")


def test_labels_normalise_to_comparable_keys():
    assert normalise_label("Al-Qa'ida") == normalise_label("al qa’ida") == "al qa ida"
    assert normalise_label("Türkiye") == "turkiye"


# --- scoring -----------------------------------------------------------------------------


def test_title_synopsis_and_body_weigh_three_two_and_one():
    scores = found("Syria.", SYRIA, title="Syria", synopsis="Syria")
    assert scores == {"syria": 6.0}


def test_one_passing_mention_in_the_body_is_not_enough():
    body = "Words. " * 500 + "The Syrian border was quiet."
    assert suggest_terms(title="Elsewhere", synopsis="", body=body, terms=[SYRIA]) == []


def test_two_mentions_in_the_body_or_one_in_the_title_or_synopsis_are_enough():
    for text in ({"body": "Syria and Syria"}, {"title": "Syria"}, {"synopsis": "Syria"}):
        fields = {"title": "", "synopsis": "", "body": ""} | text
        assert [s.slug for s in suggest_terms(**fields, terms=[SYRIA])] == ["syria"]


def test_suggestions_sort_by_score_then_name_and_respect_the_limit():
    body = "Turkey Turkey Syria Syria Sudan Sudan Sudan"
    result = suggest_terms(title="", synopsis="", body=body, terms=[TURKEY, SYRIA, SUDAN])
    assert [(s.slug, s.score) for s in result] == [("sudan", 3.0), ("syria", 2.0), ("turkey", 2.0)]
    assert (
        len(suggest_terms(title="", synopsis="", body=body, terms=[TURKEY, SYRIA, SUDAN], limit=1))
        == 1
    )
    assert isinstance(result[0], Suggestion)


def test_a_term_given_as_a_list_of_aliases_still_works():
    term = Term("syria", "Syria", ["Syrian"])  # type: ignore[arg-type]
    assert term.aliases == ("Syrian",)
    assert found("Syrian", term) == {"syria": 1.0}


# --- the seed commentary and the shipped vocabulary -------------------------------------


def test_the_seed_suggests_islamic_state_ct_and_coin():
    topics, _ = _shipped_terms()
    synopsis, body = _seed()
    result = suggest_terms(title=SEED_TITLE, synopsis=synopsis, body=body, terms=topics)
    slugs = [s.slug for s in result]
    assert slugs[0] == "islamic-state"
    assert {"terrorism", "counter-terrorism"} & set(slugs)
    assert "counter-insurgency" in slugs
    assert "jihadism" in slugs
    by_slug = {s.slug: s for s in result}
    assert {"CT", "counter-terrorism"} <= set(by_slug["counter-terrorism"].matches)
    assert "COIN" in by_slug["counter-insurgency"].matches


def test_the_seed_suggests_iraq_syria_and_mosul():
    _, regions = _shipped_terms()
    synopsis, body = _seed()
    result = suggest_terms(title=SEED_TITLE, synopsis=synopsis, body=body, terms=regions)
    slugs = [s.slug for s in result]
    assert {"iraq", "syria", "mosul"} <= set(slugs[:3])
    assert "Iraqi" in next(s for s in result if s.slug == "iraq").matches


def test_a_ten_thousand_word_body_is_scanned_quickly():
    topics, regions = _shipped_terms()
    _, body = _seed()
    words = body.split()
    big = " ".join(words[i % len(words)] for i in range(10_000))
    build_matcher(topics), build_matcher(regions)  # compiled once per vocabulary, then cached
    start = time.perf_counter()
    for terms in (topics, regions):
        suggest_terms(title=SEED_TITLE, synopsis="", body=big, terms=terms)
    assert time.perf_counter() - start < 0.5


def test_the_suggester_does_not_import_django():
    code = "import sys, library.ingest.suggest; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
