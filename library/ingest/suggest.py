"""Suggest controlled-vocabulary tags for a text: plain Python, no Django.

A vocabulary entry (:class:`Term`) is found in a text when its name or one of its aliases
occurs there as a whole word or phrase. Matching works on word tokens, so it ignores case,
diacritics (“Da Nang” finds “Đà Nẵng”) and the punctuation between words (“counter-terrorism”
finds “counter terrorism”), and it tolerates a simple English plural or possessive on the last
word (“insurgencies”, “Syria's”).

Short all-capital acronyms are the exception: a token of two to five capital letters in an
alias (IS, CT, COIN, US, UK, AQ) matches only the same capitals, so the word “is” never finds
Islamic State while “IS’ propaganda” and “the IS group” do. A bare acronym is also ignored
inside a run of shouted capitals (“WHAT IS TERRORISM?”).

At each position the longest phrase wins and matches never overlap, so “South Sudanese” counts
for South Sudan and not also for Sudan. Matches in the title weigh 3, in the synopsis 2 and in
the body 1; a term is suggested when its summed score reaches ``min_score``. The default of 2
means a single passing mention in the body is not enough, while a mention in the title or
synopsis, or two in the body, is.

The compiled index of a vocabulary is cached, keyed on the vocabulary itself, so repeated calls
with the same terms cost only the scan of the text (about 10 ms for 10,000 words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from library.text import strip_diacritics

TITLE_WEIGHT = 3.0
SYNOPSIS_WEIGHT = 2.0
BODY_WEIGHT = 1.0
DEFAULT_LIMIT = 8
DEFAULT_MIN_SCORE = 2.0
ACRONYM_MAX_LETTERS = 5

# Capitalised words that may stand next to an acronym without meaning the text is shouting.
COMMON_ACRONYMS = frozenset(
    "UN EU AU NATO ASEAN GCC SCO OSCE IAEA ICC ICJ NGO NGOs FBI CIA NSA MI5 MI6 PLA IDF IRGC "
    "PMU PMF SDF YPG PKK AFP TNI PNP".split()
)

_TOKEN = re.compile(r"[^\W_]+")
_APOSTROPHE_LETTERS = str.maketrans(dict.fromkeys("ʼʻʾʿ", "'"))
_VOWELS = frozenset("aeiou")


@dataclass(frozen=True)
class Term:
    """What the suggester needs to know about a vocabulary entry."""

    slug: str
    name: str
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.aliases, tuple):  # accept a list from JSON or the database
            object.__setattr__(self, "aliases", tuple(self.aliases))


@dataclass(frozen=True)
class Suggestion:
    """A suggested term, its score and the phrases found, for the editor to confirm."""

    slug: str
    name: str
    score: float
    matches: tuple[str, ...]


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFC", text).translate(_APOSTROPHE_LETTERS)


def tokens(text: str) -> list[str]:
    """The words of ``text``, diacritics folded, case kept; punctuation separates words."""
    return [strip_diacritics(t) for t in _TOKEN.findall(_prepare(text))]


def normalise_label(text: str) -> str:
    """A comparison key for labels: ``"Al-Qa'ida"`` → ``"al qa ida"``.

    Case, diacritics and the punctuation between words are ignored.
    """
    return " ".join(tokens(text)).lower()


def _is_acronym(token: str, *, whole_phrase_upper: bool) -> bool:
    letters = [c for c in token if c.isalpha()]
    if not letters or len(letters) > ACRONYM_MAX_LETTERS:
        return False
    if not all(c.isupper() for c in letters):
        return False
    return len(letters) >= 2 or whole_phrase_upper


def _plural_forms(word: str) -> list[str]:
    """Regular English plurals of a lower-case word (possessives need nothing: 's is a token)."""
    if len(word) < 3 or not word.isalpha():
        return []
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return [word + "es"]
    if word.endswith("y") and word[-2] not in _VOWELS:
        return [word[:-1] + "ies"]
    return [word + "s"]


@dataclass(frozen=True)
class _Pattern:
    """One phrase: per token its lower-case form and, for acronym tokens, the exact form."""

    parts: tuple[tuple[str, str | None], ...]
    term: int
    variant: bool
    acronym_only: bool


class VocabularyMatcher:
    """A compiled vocabulary: finds every term mention in a text in one pass over its words."""

    def __init__(self, terms: Sequence[Term]) -> None:
        self.terms: tuple[Term, ...] = tuple(terms)
        # Phrases are indexed by their first word, or first two words, so that a scan looks
        # at a handful of candidates per word however large the vocabulary.
        self._single: dict[str, list[_Pattern]] = {}
        self._multi: dict[tuple[str, str], list[_Pattern]] = {}
        self._acronyms: set[str] = set(COMMON_ACRONYMS)
        seen: set[tuple[tuple[str, str | None], ...]] = set()
        exact: list[_Pattern] = []
        variants: list[_Pattern] = []
        for number, term in enumerate(self.terms):
            for phrase in dict.fromkeys((term.name, *term.aliases)):
                words = tokens(phrase)
                if not words:
                    continue
                upper = all(c.isupper() for w in words for c in w if c.isalpha())
                parts = tuple(
                    (w.lower(), w if _is_acronym(w, whole_phrase_upper=upper) else None)
                    for w in words
                )
                self._acronyms.update(exact_form for _, exact_form in parts if exact_form)
                acronym_only = all(
                    exact_form is not None for low, exact_form in parts if not low.isdigit()
                )
                exact.append(_Pattern(parts, number, False, acronym_only))
                last_low, last_exact = parts[-1]
                forms: list[tuple[str, str | None]]
                if last_exact is not None:
                    forms = [(last_low + "s", last_exact + "s")]
                else:
                    forms = [(p, None) for p in _plural_forms(last_low)]
                variants.extend(
                    _Pattern((*parts[:-1], form), number, True, acronym_only) for form in forms
                )
        for pattern in (*exact, *variants):  # an exact phrase beats another term's plural form
            if pattern.parts in seen:
                continue
            seen.add(pattern.parts)
            if len(pattern.parts) == 1:
                self._single.setdefault(pattern.parts[0][0], []).append(pattern)
            else:
                key = (pattern.parts[0][0], pattern.parts[1][0])
                self._multi.setdefault(key, []).append(pattern)
        for candidates in (*self._single.values(), *self._multi.values()):
            candidates.sort(key=lambda p: (-len(p.parts), p.variant))

    def scan(self, text: str) -> list[tuple[Term, str]]:
        """Every mention in ``text``, in order, as (term, the phrase as written)."""
        text = _prepare(text)
        spans = [m.span() for m in _TOKEN.finditer(text)]
        words = [strip_diacritics(text[start:end]) for start, end in spans]
        lowers = [w.lower() for w in words]
        found: list[tuple[Term, str]] = []
        count, i = len(words), 0
        while i < count:
            candidates = self._single.get(lowers[i], ())
            if i + 1 < count:
                longer = self._multi.get((lowers[i], lowers[i + 1]))
                if longer:
                    candidates = (*longer, *candidates)
            width = 0
            for pattern in candidates:
                size = len(pattern.parts)
                if i + size > count or not self._fits(pattern, words, lowers, i):
                    continue
                if pattern.acronym_only and self._shouting(words, i, size):
                    continue
                phrase = " ".join(text[spans[i][0] : spans[i + size - 1][1]].split())
                found.append((self.terms[pattern.term], phrase))
                width = size
                break
            i += width or 1
        return found

    @staticmethod
    def _fits(pattern: _Pattern, words: list[str], lowers: list[str], start: int) -> bool:
        for offset, (low, exact) in enumerate(pattern.parts):
            if lowers[start + offset] != low:
                return False
            if exact is not None and words[start + offset] != exact:
                return False
        return True

    def _shouting(self, words: list[str], start: int, size: int) -> bool:
        """True when an acronym sits among capitalised words, as in an all-caps heading."""
        around = words[max(0, start - 2) : start] + words[start + size : start + size + 2]
        loud = [
            w
            for w in around
            if len(w) >= 2 and w.isalpha() and w.isupper() and w not in self._acronyms
        ]
        return len(loud) >= 2


@lru_cache(maxsize=16)
def _cached_matcher(terms: tuple[Term, ...]) -> VocabularyMatcher:
    return VocabularyMatcher(terms)


def build_matcher(terms: Iterable[Term]) -> VocabularyMatcher:
    """The compiled matcher for ``terms``, reused while the vocabulary is unchanged."""
    return _cached_matcher(tuple(terms))


def suggest_terms(
    *,
    title: str,
    synopsis: str,
    body: str,
    terms: Iterable[Term],
    limit: int = DEFAULT_LIMIT,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[Suggestion]:
    """Terms of ``terms`` that the text is about, best first (score, then name).

    ``limit`` caps the list (0 or less: no cap); ``min_score`` is the least summed weight.
    """
    matcher = build_matcher(terms)
    scores: dict[Term, float] = {}
    phrases: dict[Term, dict[str, str]] = {}
    for text, weight in ((title, TITLE_WEIGHT), (synopsis, SYNOPSIS_WEIGHT), (body, BODY_WEIGHT)):
        if not text:
            continue
        for term, phrase in matcher.scan(text):
            scores[term] = scores.get(term, 0.0) + weight
            phrases.setdefault(term, {}).setdefault(phrase.casefold(), phrase)
    suggestions = [
        Suggestion(term.slug, term.name, score, tuple(phrases[term].values()))
        for term, score in scores.items()
        if score >= min_score
    ]
    suggestions.sort(key=lambda s: (-s.score, s.name.casefold(), s.slug))
    return suggestions[:limit] if limit > 0 else suggestions
