"""Where a body's snippet is cut from: a window around the query's first matches.

``ts_headline`` parses all the text it is given, about 1 ms for a typical 8 KB body, and a
page whose pieces matched only in their bodies gave it 20 whole bodies. The query's words,
stemmed as the text configuration stems them (Snowball's English stemmer, Porter2: Whoosh's
copy, already a dependency for the Whoosh engine), say where they first occur; the headline
is cut from a window there. The guess only narrows the text, and the backend makes it
safe: a window that shows no match (a word the parser reads differently, such as a part of
an e-mail address) is headlined again whole, and a long body where the guess finds nothing
(a letter ``unaccent`` folds, a stem Porter2 writes differently) is headlined whole when
the index says its body matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh.lang.porter2 import stem

from library.search.text import WORD

# Characters kept before the first likely match and after it. ts_headline shows at most
# two fragments of 30 words, so a second fragment can still come from the window.
WINDOW_BEFORE = 300
WINDOW_AFTER = 2_000

# A tsquery string literal as compiler.quote writes it ('' and \\ escaped), with its weights
# and prefix star if any.
_LITERAL = re.compile(r"'((?:[^'\\]|''|\\.)*)'(:[A-D]*\*?)?")


@dataclass(frozen=True)
class Term:
    """A word or phrase of the query, stemmed: words of the text match it when their own
    stems are the same, in order (or, for a prefix, begin with them)."""

    stems: tuple[str, ...]
    prefix: bool

    @property
    def key(self) -> str:
        """What a match begins with, lower-cased. A stem's last letter is dropped when it has
        four or more: Porter2 writes "polici" for "policy" and "hope" for "hoping", but the
        inflections share what comes before it."""
        first = self.stems[0]
        return first[:-1] if len(first) > 3 else first

    def matches_at(self, lowered: str, at: int) -> bool:
        """Whether the words starting at ``at`` match this term's stems."""
        words = WORD.finditer(lowered, at)
        for number, wanted in enumerate(self.stems):
            word = next(words, None)
            if word is None or (number == 0 and word.start() != at):
                return False
            stemmed = stem(word.group())
            if not (stemmed.startswith(wanted) if self.prefix else stemmed == wanted):
                return False
        return True


def query_terms(highlight: str) -> tuple[Term, ...]:
    """The words and phrases of ``highlight`` (compiler.Compiled.highlight), stemmed."""
    terms = set()
    for literal, suffix in _LITERAL.findall(highlight):
        text = literal.replace("''", "'").replace("\\\\", "\\")
        stems = tuple(stem(word) for word in WORD.findall(text.lower()))
        if stems:
            terms.add(Term(stems, "*" in suffix))
    return tuple(sorted(terms, key=lambda term: (term.stems, term.prefix)))


def without_weights(highlight: str) -> str:
    """``highlight`` with each literal's weights dropped (``'name':B*`` -> ``'name':*``)."""
    return _LITERAL.sub(lambda m: f"'{m[1]}'" + (":*" if "*" in (m[2] or "") else ""), highlight)


def window(text: str, terms: tuple[Term, ...]) -> str | None:
    """The part of ``text`` to headline: all of it when it is short; None when it is long and
    nothing matches; else a window, cut at spaces, from a little before a term's first
    match, the one whose window holds the first matches of the most terms (then the
    earliest), since the headline shows fragments that hold more of the query's words."""
    if len(text) <= WINDOW_BEFORE + WINDOW_AFTER:
        return text
    lowered = text.lower()  # the same offsets but for a few letters ("İ"): a worse guess
    firsts = sorted(at for term in terms if (at := first_match(lowered, term)) is not None)
    if not firsts:
        return None
    found = max(firsts, key=lambda at: (sum(at <= o < at + WINDOW_AFTER for o in firsts), -at))
    start = text.rfind(" ", 0, max(0, found - WINDOW_BEFORE)) + 1
    end = text.find(" ", found + WINDOW_AFTER)
    return text[start : len(text) if end == -1 else end]


def first_match(lowered: str, term: Term) -> int | None:
    """Where the first match of ``term`` starts in the lower-cased text.

    Candidates come from ``str.find`` of the term's key, not a regular expression: an
    alternation with a word boundary tried every position of an 8 KB body in Python's
    engine (~0.15 ms a body); only a candidate at a word's start is stemmed.
    """
    at = lowered.find(term.key)
    while at != -1:
        if (at == 0 or not lowered[at - 1].isalnum()) and term.matches_at(lowered, at):
            return at
        at = lowered.find(term.key, at + 1)
    return None
