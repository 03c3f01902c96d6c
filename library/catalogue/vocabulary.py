"""The controlled vocabulary: loading the shipped starter terms, resolving labels, suggesting tags.

The starter vocabulary lives in the repository as data: ``data/topics.json`` (a list of
topics) and ``data/regions.json`` (``regions``, ``countries`` keyed by ISO 3166-1 alpha-2
code, and ``places``). :func:`load_vocabulary` validates both files completely before it
writes anything, then upserts every term by slug in one transaction, so a bad file changes
nothing and a second run changes nothing either. Terms that editors added and that are not in
the files are left alone.

:func:`resolve_terms` turns typed labels (a slug, a name or any alias, in any case and with or
without accents) into rows, and :func:`suggest_tags` proposes topics and regions for a text
with the pure suggester in :mod:`library.ingest.suggest`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from django.db import IntegrityError, transaction

from library.catalogue.models import Region, RegionKind, Topic, VocabularyTerm
from library.ingest.suggest import (
    DEFAULT_LIMIT,
    DEFAULT_MIN_SCORE,
    Suggestion,
    Term,
    normalise_label,
    suggest_terms,
)

DATA_DIR = Path(__file__).parent / "data"
TOPICS_FILE = "topics.json"
REGIONS_FILE = "regions.json"

# Too general to infer from words such as "international" or "global"; editors add it by hand.
UNSUGGESTED_REGIONS = frozenset({"global"})

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ISO_CODE_PATTERN = re.compile(r"^[A-Z]{2}$")
MAX_LENGTH = 200
TERM_KEYS = {"slug", "name", "aliases", "parent", "description"}
REGION_SECTIONS = ("regions", "countries", "places")

T = TypeVar("T", bound=VocabularyTerm)


class VocabularyError(ValueError):
    """The vocabulary files are unusable; the message names the file, the entry and the problem."""


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class VocabularyReport:
    """What :func:`load_vocabulary` did, per kind of term."""

    topics: KindCounts = field(default_factory=KindCounts)
    regions: KindCounts = field(default_factory=KindCounts)
    countries: KindCounts = field(default_factory=KindCounts)
    places: KindCounts = field(default_factory=KindCounts)

    def lines(self) -> list[str]:
        return [
            f"Topics: {self.topics}",
            f"Regions: {self.regions}",
            f"Countries: {self.countries}",
            f"Places: {self.places}",
        ]

    @property
    def created(self) -> int:
        return sum(c.created for c in (self.topics, self.regions, self.countries, self.places))


@dataclass(frozen=True)
class VocabularyEntry:
    """One validated term from a data file."""

    where: str  # e.g. "regions.json places[3] ('mosul')", for error messages
    slug: str
    name: str
    aliases: tuple[str, ...]
    parent: str | None
    description: str
    kind: str = ""  # region kind; empty for topics
    iso_code: str = ""


# --- reading and validating --------------------------------------------------------------


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VocabularyError(f"{path.name}: file not found in {path.parent}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VocabularyError(f"{path.name}: cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise VocabularyError(f"{path.name}: not valid JSON: {exc}") from None


def _text(data: dict, key: str, where: str, *, required: bool) -> str:
    value = data.get(key, "")
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise VocabularyError(f"{where}: {key!r} must be a string")
    value = value.strip()
    if required and not value:
        raise VocabularyError(f"{where}: {key!r} is missing or empty")
    return value


def _entry(
    data: object,
    where: str,
    *,
    allowed: set[str] = TERM_KEYS,
    kind: str = "",
    iso_code: str = "",
) -> VocabularyEntry:
    if not isinstance(data, dict):
        raise VocabularyError(f"{where}: must be an object, not {type(data).__name__}")
    slug = data.get("slug")
    if isinstance(slug, str) and slug:
        where = f"{where} ({slug!r})"
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise VocabularyError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    slug = _text(data, "slug", where, required=True)
    if not SLUG_PATTERN.match(slug) or len(slug) > MAX_LENGTH:
        raise VocabularyError(
            f"{where}: slug {slug!r} is not lower-case letters, digits and hyphens"
        )
    name = _text(data, "name", where, required=True)
    if len(name) > MAX_LENGTH:
        raise VocabularyError(f"{where}: name is longer than {MAX_LENGTH} characters")
    if "," in name:
        raise VocabularyError(
            f"{where}: name {name!r} contains a comma (tag lists are comma-separated)"
        )
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise VocabularyError(f"{where}: 'aliases' must be a list of non-empty strings")
    parent = data.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent):
        raise VocabularyError(f"{where}: 'parent' must be a slug or null")
    return VocabularyEntry(
        where=where,
        slug=slug,
        name=name,
        aliases=tuple(dict.fromkeys(a.strip() for a in aliases)),
        parent=parent,
        description=_text(data, "description", where, required=False),
        kind=kind,
        iso_code=iso_code,
    )


def _read_topics(path: Path) -> list[VocabularyEntry]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise VocabularyError(f"{path.name}: must be a list of topics")
    return [_entry(item, f"{path.name} [{i}]") for i, item in enumerate(data)]


def _read_regions(path: Path) -> list[VocabularyEntry]:
    data = _read_json(path)
    if not isinstance(data, dict) or set(data) != set(REGION_SECTIONS):
        raise VocabularyError(
            f"{path.name}: must be an object with exactly the keys {', '.join(REGION_SECTIONS)}"
        )
    if not isinstance(data["regions"], list) or not isinstance(data["places"], list):
        raise VocabularyError(f"{path.name}: 'regions' and 'places' must be lists")
    if not isinstance(data["countries"], dict):
        raise VocabularyError(f"{path.name}: 'countries' must map ISO codes to countries")
    entries = [
        _entry(item, f"{path.name} regions[{i}]", kind=RegionKind.REGION)
        for i, item in enumerate(data["regions"])
    ]
    for code, item in data["countries"].items():
        where = f"{path.name} countries[{code}]"
        if not ISO_CODE_PATTERN.match(code):
            raise VocabularyError(f"{where}: {code!r} is not an ISO 3166-1 alpha-2 code")
        entries.append(_entry(item, where, kind=RegionKind.COUNTRY, iso_code=code))
    entries += [
        _entry(item, f"{path.name} places[{i}]", kind=RegionKind.PLACE)
        for i, item in enumerate(data["places"])
    ]
    return entries


def _check(entries: list[VocabularyEntry]) -> None:
    """Slugs and names unique, aliases unambiguous, parents known and acyclic, in one model."""
    by_slug: dict[str, VocabularyEntry] = {}
    owner: dict[str, VocabularyEntry] = {}  # label key -> entry that owns it
    for entry in entries:
        if entry.slug in by_slug:
            raise VocabularyError(
                f"{entry.where}: duplicate slug, also {by_slug[entry.slug].where}"
            )
        by_slug[entry.slug] = entry
    for entry in entries:  # names and slugs first, so an alias clash names the right culprit
        for label in (entry.name, entry.slug):
            key = normalise_label(label)
            other = owner.setdefault(key, entry)
            if other is not entry:
                raise VocabularyError(
                    f"{entry.where}: duplicate name {entry.name!r}, also {other.where}"
                    if label == entry.name
                    else f"{entry.where}: slug {label!r} reads as the name of {other.where}"
                )
    for entry in entries:
        for alias in entry.aliases:
            key = normalise_label(alias)
            if not key:
                raise VocabularyError(f"{entry.where}: alias {alias!r} has no letters or digits")
            other = owner.setdefault(key, entry)
            if other is not entry:
                raise VocabularyError(
                    f"{entry.where}: alias {alias!r} collides with a name or alias of {other.where}"
                )
    for entry in entries:
        if entry.parent is None:
            continue
        if entry.parent not in by_slug:
            raise VocabularyError(f"{entry.where}: unknown parent {entry.parent!r}")
        seen = [entry.slug]
        node = by_slug[entry.parent]
        while True:
            if node.slug in seen:
                cycle = " -> ".join([*seen, node.slug])
                raise VocabularyError(f"{entry.where}: parent cycle {cycle}")
            seen.append(node.slug)
            if node.parent is None:
                break
            node = by_slug[node.parent]


def read_vocabulary(
    data_dir: Path | None = None,
) -> tuple[list[VocabularyEntry], list[VocabularyEntry]]:
    """The validated (topics, regions) of the data files; raises :class:`VocabularyError`."""
    data_dir = data_dir or DATA_DIR
    topics = _read_topics(data_dir / TOPICS_FILE)
    regions = _read_regions(data_dir / REGIONS_FILE)
    _check(topics)
    _check(regions)
    return topics, regions


# --- loading -----------------------------------------------------------------------------


def _fields(entry: VocabularyEntry, model: type[VocabularyTerm]) -> dict:
    values = {"name": entry.name, "aliases": list(entry.aliases), "description": entry.description}
    if model is Region:
        values |= {"kind": entry.kind, "iso_code": entry.iso_code}
    return values


def _upsert(
    model: type[T], entries: list[VocabularyEntry], counts_for: dict[str, KindCounts]
) -> None:
    existing: dict[str, T] = {row.slug: row for row in model.objects.all()}
    slugs = {e.slug for e in entries}
    names = {row.name: row.slug for row in existing.values() if row.slug not in slugs}
    for entry in entries:
        if entry.name in names:
            raise VocabularyError(
                f"{entry.where}: name {entry.name!r} is already used by the "
                f"{model.__name__.lower()} with slug {names[entry.name]!r}"
            )
    field_names = list(_fields(entries[0], model)) if entries else []
    created: list[T] = []
    changed: list[T] = []
    touched: set[str] = set()
    for entry in entries:
        values = _fields(entry, model)
        row = existing.get(entry.slug)
        if row is None:
            created.append(model(slug=entry.slug, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed.append(row)
            touched.add(entry.slug)
    model.objects.bulk_create(created)
    if changed:
        model.objects.bulk_update(changed, field_names)
    rows: dict[str, T] = {row.slug: row for row in model.objects.filter(slug__in=slugs)}
    reparented: list[T] = []
    for entry in entries:  # second pass: every row exists now, so every parent does too
        row = rows[entry.slug]
        parent_id = rows[entry.parent].pk if entry.parent else None
        if row.parent_id != parent_id:
            row.parent_id = parent_id
            reparented.append(row)
            touched.add(entry.slug)
    if reparented:
        model.objects.bulk_update(reparented, ["parent"])
    new = {row.slug for row in created}
    for entry in entries:
        counts = counts_for[entry.kind]
        if entry.slug in new:
            counts.created += 1
        elif entry.slug in touched:
            counts.updated += 1
        else:
            counts.unchanged += 1


def load_vocabulary(data_dir: Path | None = None) -> VocabularyReport:
    """Create or update every topic and region of the data files; idempotent, all or nothing."""
    topics, regions = read_vocabulary(data_dir or DATA_DIR)
    report = VocabularyReport()
    try:
        with transaction.atomic():
            _upsert(Topic, topics, {"": report.topics})
            _upsert(
                Region,
                regions,
                {
                    RegionKind.REGION: report.regions,
                    RegionKind.COUNTRY: report.countries,
                    RegionKind.PLACE: report.places,
                },
            )
    except IntegrityError as exc:
        raise VocabularyError(f"the vocabulary clashes with rows already stored: {exc}") from exc
    return report


# --- resolving and suggesting ------------------------------------------------------------


def _aliases(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(a for a in value if isinstance(a, str) and a.strip())


def resolve_terms(model: type[T], labels: Iterable[str]) -> tuple[list[T], list[str]]:
    """Rows of ``model`` for typed labels, matched by slug, name or alias.

    Case, accents and the punctuation between words are ignored. Returns the terms found, in
    label order without duplicates, and the labels not found.
    The whole vocabulary of ``model`` is read in one query.
    """
    rows = list(model.objects.all())
    index: dict[str, T] = {}
    for row in rows:  # names and slugs win over aliases if stored data ever collides
        index.setdefault(normalise_label(row.name), row)
        index.setdefault(normalise_label(row.slug), row)
    for row in rows:
        for alias in _aliases(row.aliases):
            index.setdefault(normalise_label(alias), row)
    found: dict[int, T] = {}
    unknown: dict[str, None] = {}
    for label in labels:
        key = normalise_label(label)
        if not key:
            continue
        match = index.get(key)
        if match is None and key.startswith("the "):
            match = index.get(key[4:])
        if match is None:
            unknown.setdefault(label.strip(), None)
        else:
            found.setdefault(match.pk, match)
    return list(found.values()), list(unknown)


def vocabulary_terms(
    model: type[VocabularyTerm], *, exclude: Iterable[str] = ()
) -> tuple[Term, ...]:
    """The stored vocabulary of ``model`` as suggester terms (one query)."""
    skip = set(exclude)
    rows = model.objects.order_by("pk").values_list("slug", "name", "aliases")
    return tuple(
        Term(slug, name, _aliases(aliases)) for slug, name, aliases in rows if slug not in skip
    )


def suggest_tags(
    title: str,
    synopsis: str,
    body: str,
    *,
    limit: int = DEFAULT_LIMIT,
    min_score: float = DEFAULT_MIN_SCORE,
) -> tuple[list[Suggestion], list[Suggestion]]:
    """Suggested (topics, regions) for a text, from the stored vocabulary.

    The compiled matcher is cached on the vocabulary's contents, so after the first call the
    cost is two small queries and the scan of the text.
    """
    text = {"title": title, "synopsis": synopsis, "body": body}
    topics = suggest_terms(**text, terms=vocabulary_terms(Topic), limit=limit, min_score=min_score)
    regions = suggest_terms(
        **text,
        terms=vocabulary_terms(Region, exclude=UNSUGGESTED_REGIONS),
        limit=limit,
        min_score=min_score,
    )
    return topics, regions
