"""The starter vocabulary: its data files, the loader, label resolution and tag suggestions."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pycountry
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.catalogue import vocabulary
from library.catalogue.models import Region, RegionKind, Topic
from library.catalogue.vocabulary import (
    VocabularyError,
    load_vocabulary,
    read_vocabulary,
    resolve_terms,
    suggest_tags,
)

DATA_DIR = Path(vocabulary.__file__).parent / "data"

REQUIRED_TOPICS = """
terrorism counter-terrorism insurgency counter-insurgency islamic-state al-qaeda jihadism
violent-extremism radicalisation deradicalisation foreign-fighters terrorist-financing
political-violence sectarianism civil-war armed-conflict peacekeeping peacebuilding
conflict-resolution post-conflict-reconstruction humanitarian-intervention human-security
non-traditional-security maritime-security piracy territorial-disputes naval-power
nuclear-deterrence nuclear-proliferation arms-control weapons-of-mass-destruction chemical-weapons
biological-weapons missile-defence military-strategy defence-policy military-modernisation
great-power-competition alliances regional-security-architecture geopolitics foreign-policy
diplomacy intelligence cyber-security cyber-warfare disinformation emerging-technologies
artificial-intelligence space-security border-security migration-and-refugees human-trafficking
transnational-crime drug-trafficking energy-security food-security climate-security
health-security pandemics disaster-management critical-infrastructure economic-security sanctions
governance state-fragility authoritarianism religion-and-conflict social-resilience
hybrid-warfare urban-warfare proxy-warfare
""".split()

REQUIRED_REGIONS = """
middle-east north-africa maghreb levant persian-gulf sub-saharan-africa sahel horn-of-africa
west-africa east-africa south-asia southeast-asia east-asia northeast-asia central-asia caucasus
europe western-europe eastern-europe balkans north-america latin-america caribbean oceania
pacific-islands asia-pacific indo-pacific arctic korean-peninsula south-china-sea taiwan-strait
strait-of-malacca indian-ocean asean global
""".split()

REQUIRED_PLACES = """
mosul raqqa aleppo anbar dabiq baghdad damascus idlib kirkuk fallujah nangarhar kabul mindanao
marawi sulu-archipelago sinai gaza west-bank golan-heights kashmir balochistan xinjiang tibet
crimea donbas rakhine aceh papua southern-thailand spratly-islands paracel-islands
scarborough-shoal senkaku-islands
""".split()

# ISO codes that are also the usual short names in English; no other code is an alias.
CODES_IN_USE_AS_NAMES = {"US", "USA", "PNG", "FSM"}


def _json(name: str):
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _all_regions(data: dict) -> list[dict]:
    return [*data["regions"], *data["countries"].values(), *data["places"]]


def _copy_data(tmp_path: Path) -> Path:
    for name in ("topics.json", "regions.json"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _place(data: dict, slug: str) -> dict:
    return next(p for p in data["places"] if p["slug"] == slug)


# --- the data files ----------------------------------------------------------------------


def test_the_data_files_are_valid_and_big_enough():
    topics, regions = read_vocabulary()
    kinds = [r.kind for r in regions]
    assert len(topics) >= 70
    assert kinds.count(RegionKind.COUNTRY) == 249
    assert kinds.count(RegionKind.PLACE) >= 40
    assert kinds.count(RegionKind.REGION) >= len(REQUIRED_REGIONS)


def test_every_required_slug_is_present():
    topics = {t["slug"] for t in _json("topics.json")}
    regions = _json("regions.json")
    assert not set(REQUIRED_TOPICS) - topics
    assert not set(REQUIRED_REGIONS) - {r["slug"] for r in regions["regions"]}
    assert not set(REQUIRED_PLACES) - {p["slug"] for p in regions["places"]}


def test_every_pycountry_country_is_listed_once_with_its_short_name():
    countries = _json("regions.json")["countries"]
    assert set(countries) == {c.alpha_2 for c in pycountry.countries}
    names = {code: c["name"] for code, c in countries.items()}
    assert names["SY"] == "Syria"
    assert names["KR"] == "South Korea"
    assert names["KP"] == "North Korea"
    assert names["TR"] == "Turkey"
    assert names["VN"] == "Vietnam"
    assert countries["CI"]["slug"] == "cote-divoire"
    assert countries["US"]["slug"] == "united-states"


def test_no_country_alias_is_a_bare_iso_code():
    codes = {c.alpha_2 for c in pycountry.countries} | {c.alpha_3 for c in pycountry.countries}
    for code, country in _json("regions.json")["countries"].items():
        assert not (set(country["aliases"]) & codes) - CODES_IN_USE_AS_NAMES, code


def test_parents_exist_and_form_no_cycles():
    regions = _json("regions.json")
    for entries in (_json("topics.json"), _all_regions(regions)):
        parents = {e["slug"]: e["parent"] for e in entries}
        for slug in parents:
            seen, node = set(), slug
            while node is not None:
                assert node in parents, f"{slug}: unknown ancestor {node}"
                assert node not in seen, f"{slug}: cycle through {node}"
                seen.add(node)
                node = parents[node]


def test_the_well_known_aliases_are_there():
    topics = {t["slug"]: set(t["aliases"]) for t in _json("topics.json")}
    assert {
        "IS",
        "ISIS",
        "ISIL",
        "Daesh",
        "Islamic State of Iraq and Syria",
        "Islamic State of Iraq and the Levant",
    } <= topics["islamic-state"]
    assert {"CT", "counterterrorism", "counter terrorism"} <= topics["counter-terrorism"]
    assert {"COIN", "counterinsurgency"} <= topics["counter-insurgency"]
    assert {"Al Qaeda", "al-Qa'ida", "AQ"} <= topics["al-qaeda"]
    assert "WMD" in topics["weapons-of-mass-destruction"]
    countries = _json("regions.json")["countries"]
    assert {"Iraqi", "Iraqis", "Republic of Iraq"} <= set(countries["IQ"]["aliases"])
    assert {"US", "USA", "America", "American"} <= set(countries["US"]["aliases"])
    assert {"Türkiye", "Turkish"} <= set(countries["TR"]["aliases"])
    assert {"Burma"} <= set(countries["MM"]["aliases"])


# --- loading -----------------------------------------------------------------------------


def test_loading_creates_every_term_with_its_kind(empty_vocabulary):
    report = load_vocabulary()
    topics, regions = read_vocabulary()
    assert report.topics.created == Topic.objects.count() == len(topics)
    assert Region.objects.count() == len(regions)
    assert report.countries.created == 249
    iraq = Region.objects.get(slug="iraq")
    assert (iraq.kind, iraq.iso_code) == (RegionKind.COUNTRY, "IQ")
    assert Region.objects.get(slug="mosul").kind == RegionKind.PLACE
    assert Region.objects.get(slug="sahel").kind == RegionKind.REGION
    assert "ISIL" in Topic.objects.get(slug="islamic-state").aliases


def test_loading_twice_creates_and_changes_nothing_the_second_time(empty_vocabulary):
    first = load_vocabulary()
    second = load_vocabulary()
    assert second.created == 0
    assert second.topics.updated == second.regions.updated == second.places.updated == 0
    assert second.topics.unchanged == first.topics.created
    assert second.countries.unchanged == 249


@pytest.mark.django_db
def test_parents_are_set():
    load_vocabulary()
    mosul = Region.objects.get(slug="mosul")
    assert [r.slug for r in mosul.ancestors()][:3] == ["iraq", "middle-east", "global"]
    assert Topic.objects.get(slug="islamic-state").parent.slug == "jihadism"
    assert Topic.objects.get(slug="piracy").parent.slug == "maritime-security"


@pytest.mark.django_db
def test_a_changed_file_updates_only_the_changed_terms(tmp_path, monkeypatch):
    load_vocabulary()
    data_dir = _copy_data(tmp_path)
    _edit(data_dir / "regions.json", lambda d: _place(d, "raqqa").update(description="Changed."))
    monkeypatch.setattr(vocabulary, "DATA_DIR", data_dir)
    report = load_vocabulary()
    assert (report.places.updated, report.places.created) == (1, 0)
    assert report.topics.updated == 0
    assert Region.objects.get(slug="raqqa").description == "Changed."


@pytest.mark.django_db
def test_a_bad_parent_names_the_entry_and_leaves_the_database_unchanged(tmp_path, monkeypatch):
    load_vocabulary()
    data_dir = _copy_data(tmp_path)

    def break_topics(topics: list[dict]) -> None:
        topics[0]["name"] = "Renamed but never saved"

    _edit(data_dir / "topics.json", break_topics)
    _edit(data_dir / "regions.json", lambda d: _place(d, "mosul").update(parent="atlantis"))
    monkeypatch.setattr(vocabulary, "DATA_DIR", data_dir)
    before = list(Topic.objects.values_list("slug", "name"))
    with pytest.raises(
        VocabularyError, match=r"regions\.json places\[\d+\] \('mosul'\).*'atlantis'"
    ):
        load_vocabulary()
    assert list(Topic.objects.values_list("slug", "name")) == before
    assert Region.objects.get(slug="mosul").parent.slug == "iraq"


def test_a_bad_vocabulary_on_an_empty_database_writes_nothing(
    empty_vocabulary, tmp_path, monkeypatch
):
    data_dir = _copy_data(tmp_path)
    _edit(data_dir / "regions.json", lambda d: _place(d, "mosul").update(parent="atlantis"))
    monkeypatch.setattr(vocabulary, "DATA_DIR", data_dir)
    with pytest.raises(VocabularyError, match="mosul"):
        load_vocabulary()
    assert not Topic.objects.exists()
    assert not Region.objects.exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t.append(dict(t[0])), "duplicate slug"),
        (lambda t: t.append({**t[0], "slug": "another-slug"}), "duplicate name"),
        (lambda t: t[1]["aliases"].append("ISIL"), "alias 'ISIL' collides"),
        (lambda t: t[0].update(parent=t[0]["slug"]), "parent cycle"),
        (lambda t: t[0].update(name="Terrorism, and more"), "comma"),
        (lambda t: t[0].update(colour="red"), "unknown key"),
    ],
)
def test_bad_topics_are_refused_with_the_problem_named(tmp_path, change, problem):
    data_dir = _copy_data(tmp_path)
    _edit(data_dir / "topics.json", change)
    with pytest.raises(VocabularyError, match=problem) as caught:
        read_vocabulary(data_dir)
    assert "topics.json" in str(caught.value)


def test_a_parent_cycle_across_several_terms_is_refused(tmp_path):
    data_dir = _copy_data(tmp_path)

    def loop(data: dict) -> None:
        region = next(r for r in data["regions"] if r["slug"] == "global")
        region["parent"] = "mosul"

    _edit(data_dir / "regions.json", loop)
    with pytest.raises(VocabularyError, match="parent cycle"):
        read_vocabulary(data_dir)


def test_the_command_prints_one_line_per_kind(empty_vocabulary):
    out = StringIO()
    call_command("load_vocabulary", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["Topics", "Regions", "Countries", "Places"]
    assert lines[2] == "Countries: 249 created, 0 updated, 0 unchanged"
    out = StringIO()
    call_command("load_vocabulary", stdout=out)
    assert "Countries: 0 created, 0 updated, 249 unchanged" in out.getvalue()


@pytest.mark.django_db
def test_the_command_fails_with_the_error_on_bad_data(tmp_path, monkeypatch):
    data_dir = _copy_data(tmp_path)
    _edit(data_dir / "regions.json", lambda d: _place(d, "mosul").update(parent="atlantis"))
    monkeypatch.setattr(vocabulary, "DATA_DIR", data_dir)
    with pytest.raises(CommandError, match="atlantis"):
        call_command("load_vocabulary", stdout=StringIO())


# --- resolving labels --------------------------------------------------------------------


@pytest.mark.django_db
def test_aliases_resolve_in_any_case_and_without_accents(django_assert_num_queries):
    load_vocabulary()
    with django_assert_num_queries(1):
        topics, unknown = resolve_terms(Topic, ["ISIL", "Daesh", "isis", "Islamic State", "CT"])
    assert [t.slug for t in topics] == ["islamic-state", "counter-terrorism"]
    assert unknown == []
    regions, unknown = resolve_terms(Region, ["Türkiye", "turkiye", "TURKEY", "the Philippines"])
    assert [r.slug for r in regions] == ["turkey", "philippines"]
    assert unknown == []


@pytest.mark.django_db
def test_slugs_and_spelling_variants_resolve():
    load_vocabulary()
    topics, _ = resolve_terms(
        Topic, ["counter-insurgency", "counter insurgency", "COIN", "al-qaida"]
    )
    assert [t.slug for t in topics] == ["counter-insurgency", "al-qaeda"]
    regions, _ = resolve_terms(Region, ["cote-divoire", "Cote d’Ivoire", "Burma", "south-korea"])
    assert [r.slug for r in regions] == ["cote-divoire", "myanmar", "south-korea"]


@pytest.mark.django_db
def test_unknown_labels_are_reported_once_each_and_blanks_ignored():
    load_vocabulary()
    topics, unknown = resolve_terms(
        Topic, ["terrorism", "underwater basket weaving", "  ", "underwater basket weaving"]
    )
    assert [t.slug for t in topics] == ["terrorism"]
    assert unknown == ["underwater basket weaving"]


# --- suggesting from the database --------------------------------------------------------


@pytest.mark.django_db
def test_the_seed_gets_its_topics_and_regions_from_the_stored_vocabulary(seed_text):
    load_vocabulary()
    synopsis = seed_text.split("Synopsis", 1)[1].split("Commentary", 1)[0]
    body = seed_text.split("Commentary", 1)[1]
    topics, regions = suggest_tags("Mosul Operation: The Endgame for IS?", synopsis, body)
    topic_slugs = [s.slug for s in topics]
    region_slugs = [s.slug for s in regions]
    assert topic_slugs[0] == "islamic-state"
    assert {"counter-terrorism", "counter-insurgency", "jihadism"} <= set(topic_slugs)
    assert {"iraq", "syria", "mosul"} <= set(region_slugs)
    assert "global" not in region_slugs


@pytest.mark.django_db
def test_the_global_region_is_never_suggested():
    load_vocabulary()
    _, regions = suggest_tags("Global jihad", "A global threat.", "International, worldwide.")
    assert "global" not in [s.slug for s in regions]


@pytest.mark.django_db
def test_suggestions_follow_edits_to_the_stored_vocabulary():
    load_vocabulary()
    text = ("Scam compounds", "", "")
    assert "cybercrime" in [s.slug for s in suggest_tags(*text)[0]]
    Topic.objects.filter(slug="cybercrime").update(aliases=[])
    assert "cybercrime" not in [s.slug for s in suggest_tags(*text)[0]]


def test_loading_a_stored_vocabulary_again_writes_no_row(vocabulary):
    # The suite loads the vocabulary once per session and every test that asks for it
    # loads it again: on PostgreSQL each rewritten row would be a dead row to bloat the
    # tables (see library/catalogue/statistics.py), so a repeat load must only read.
    with CaptureQueriesContext(connection) as queries:
        load_vocabulary()
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert queries.captured_queries, "the loader read nothing: the check above proves nothing"
