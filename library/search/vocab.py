"""Topics and regions as the search sees them: aliases to expand and filter values to resolve.

Aliases are expanded when a query is compiled, not stored in the index, so editing a
topic's aliases takes effect at once without a rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.utils.text import slugify

from library.catalogue.models import PieceType, Region, Topic
from library.search import state
from library.search.text import WORD, fold

# Short acronyms ("IS", "CT") only expand when typed in capitals ("is" is a word), and
# are never added to another word's expansion.
_SHORT_ALIAS = 3


@dataclass(frozen=True)
class VocabTerm:
    kind: str  # "topic" or "region"
    id: int
    slug: str
    name: str
    aliases: tuple[str, ...]
    parent_id: int | None


class Vocabulary:
    """The controlled vocabulary loaded once per search (a few hundred small rows)."""

    def __init__(self, terms: list[VocabTerm]) -> None:
        self.terms = terms
        self._by_form: dict[str, list[VocabTerm]] = {}
        self._labels = {(t.kind, t.id): (t.slug, t.name) for t in terms}
        for term in terms:
            for form in (term.name, *term.aliases):
                self._by_form.setdefault(fold(form), []).append(term)

    @classmethod
    def load(cls) -> Vocabulary:
        """The current vocabulary, rebuilt only when its rows have changed.

        A fingerprint query (row counts and total text length, well under a millisecond)
        decides; a change made by another process is seen on its next search.
        """
        fingerprint = []
        with connection.cursor() as cursor:
            for model in (Topic, Region):
                cursor.execute(
                    "SELECT count(*), coalesce(max(id), 0), coalesce(sum(length(name) "
                    "+ length(slug) + length(CAST(aliases AS TEXT))), 0), "
                    f"coalesce(sum(coalesce(parent_id, 0)), 0) FROM {model._meta.db_table}"
                )
                fingerprint.append(tuple(cursor.fetchone()))
        cached = state.vocabularies.get(connection.alias)
        if cached is not None and cached[0] == tuple(fingerprint):
            return cached[1]
        vocabulary = cls._read()
        state.vocabularies[connection.alias] = (tuple(fingerprint), vocabulary)
        return vocabulary

    @classmethod
    def _read(cls) -> Vocabulary:
        terms: list[VocabTerm] = []
        for kind, model in (("topic", Topic), ("region", Region)):
            for row in model.objects.values_list("id", "slug", "name", "aliases", "parent_id"):
                pk, slug, name, aliases, parent = row
                clean = tuple(a for a in aliases or [] if isinstance(a, str) and a.strip())
                terms.append(VocabTerm(kind, pk, slug, name, clean, parent))
        return cls(terms)

    def synonyms(self, typed: str) -> list[str]:
        """Other names for ``typed`` when it is a topic or region name or alias.

        A name containing another searched name is left out: with ``terrorist`` in the OR,
        ``terrorist attack`` can add no match, and asking FTS5 for the phrase would make it
        check word positions across most of the catalogue.
        """
        key = fold(typed)
        if len(key) <= _SHORT_ALIAS and not typed.isupper():
            return []
        found: dict[str, None] = {}
        for term in self._by_form.get(key, []):
            for form in (term.name, *term.aliases):
                # Never expand *to* a short acronym: "IS" would match the word "is".
                if fold(form) != key and len(form) > _SHORT_ALIAS:
                    found[form] = None
        words = {form: tuple(WORD.findall(fold(form))) for form in (typed, *found)}
        return [
            form
            for form in found
            if not any(other != form and _contains(words[form], words[other]) for other in words)
        ]

    def resolve(self, kind: str, value: str) -> set[int]:
        """Ids of the topics or regions ``value`` names (slug, name or alias), with children."""
        slug = slugify(value)
        roots = {term.id for term in self._by_form.get(fold(value), []) if term.kind == kind}
        roots |= {term.id for term in self.terms if term.kind == kind and term.slug == slug}
        ids, frontier = set(roots), set(roots)
        while frontier:  # descendants, guarding against cycles
            frontier = {
                t.id for t in self.terms if t.kind == kind and t.parent_id in frontier
            } - ids
            ids |= frontier
        return ids

    def label(self, kind: str, pk: int) -> tuple[str, str]:
        """(slug, name) for a facet value."""
        return self._labels.get((kind, pk), (str(pk), str(pk)))


def resolve_type(value: str) -> str | None:
    """The PieceType value for ``commentary``, ``Journal article``, ``policy_brief`` and so on."""
    key = fold(value).replace("_", " ").replace("-", " ").strip()
    for choice, label in PieceType.choices:
        if key in (choice.replace("_", " "), fold(str(label))):
            return choice
    return None


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    """Whether ``shorter`` (fewer words) occurs as consecutive words of ``longer``."""
    if not shorter or len(shorter) >= len(longer):
        return False
    return any(
        longer[i : i + len(shorter)] == shorter for i in range(len(longer) - len(shorter) + 1)
    )
