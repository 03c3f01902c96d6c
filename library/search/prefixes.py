"""Prefix searches on a stemmed index: the words a prefix match on stems would miss.

Every engine indexes stems ("proliferation" as ``prolifer``) and matches ``proliferat*``
against the stems, so a word whose stem is shorter than what the reader typed was never
found: ``proliferat*`` missed "proliferation", ``negotiat*`` "negotiations",
``insurgen*`` "insurgency". Over the words of TeX Live's ``.bib`` files, about one prefix in
ten of a word (4 letters up to all but its last) did not find it
(``python benchmarks/prefix_recall.py``).

:class:`Completions` lists the prefix followed by each English ending a stemmer cuts off
(``-ion``, ``-ing``, ``-ism``, ``-ency``…, and every tail of one, since the reader may have
typed part of the ending), keeping one word for each stem the engine's own prefix match
does not already reach. Each engine ORs them, as exact words, into the prefix term and
stems them itself, so a completion finds exactly the pieces the whole word would. The
stems are the engine's own (its tokenizer or dictionary), never a Python imitation: two
Porter implementations disagree on words such as "sympathizers".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from library.search.text import fold

# Stems of the given words, in order, as the engine stems them ("" for no stem).
Stems = Callable[[Sequence[str]], list[str]]

# The English endings Porter's algorithms remove or rewrite, whole and compounded.
_ENDINGS = (
    "s es e ed ing ings ion ions ation ations ate ated ates ating ative atives atively ator "
    "ators ism isms ist ists ity ities ility ilities ability ibility ive ives ively iveness "
    "al als ally alism alist ance ances ence ences ancy ency ant ants ent ents ment ments ness "
    "er ers or ors y ies ied ize ized izes izing ization izations ise ised ises ising isation "
    "isations able ably ible ly ful fulness ous ously ousness ic ical ically ician ional "
    "ionally ionalism iser izer"
).split()
# Each ending and every tail of it ("ation", "tion", "ion", "on", "n").
TAILS = tuple(sorted({ending[i:] for ending in _ENDINGS for i in range(len(ending))}))
# Stems shorter than this are not added: "ines" stems to "in", the word "in".
_MIN_STEM = 3
# Prefixes remembered per engine and process (each costs the engine one stemming call).
_CACHE_SIZE = 4096


class Completions:
    """The completions of prefixes for one engine, remembered per process.

    ``prefix_is_stemmed``: whether the engine stems the typed prefix before matching it
    (FTS5 and PostgreSQL do: ``ines*`` is ``in*`` to FTS5), so that its match reaches the
    stems beginning with the prefix's stem; Whoosh matches the prefix as typed.
    ``carried``: whether the engine matches a prefix whose stem is under three letters
    through its *carrier* instead (``carrier``), as the SQLite engine does.
    """

    def __init__(self, *, prefix_is_stemmed: bool, carried: bool = False) -> None:
        self.prefix_is_stemmed = prefix_is_stemmed
        self.carried = carried and prefix_is_stemmed
        self._known: dict[str, tuple[str | None, tuple[str, ...]]] = {}

    def __call__(self, prefix: str, stems: Stems) -> tuple[str, ...]:
        """Words of ``prefix`` plus an ending whose stems the prefix match misses.

        The prefix is folded as the indexes fold it ("Sécurit" is "securit"); one that is
        then not plain ASCII letters gets none: the endings are English.
        """
        return self._known_for(prefix, stems)[1]

    def carrier(self, prefix: str, stems: Stems) -> str | None:
        """A word the engine stems to the (folded) prefix itself, where the prefix's own
        stem is shorter than three letters; None elsewhere, and unless ``carried``.

        FTS5 stems the typed prefix before matching it, and Porter stems "ines" to "in",
        so ``ines*`` matched every word beginning "in": all 100,000 pieces of the
        benchmark's catalogue, in 0.4 s. The prefix match of a word stemmed to "ines"
        ("inesing") reaches exactly the stems beginning "ines", and the completions add
        the words whose stems are shorter, as for any prefix. Stems under three letters
        ("in", the stem of "ines" itself) are not reached, as no completion reaches them.
        """
        return self._known_for(prefix, stems)[0]

    def _known_for(self, prefix: str, stems: Stems) -> tuple[str | None, tuple[str, ...]]:
        prefix = fold(prefix)
        if not (prefix.isascii() and prefix.isalpha()):
            return None, ()
        found = self._known.get(prefix)
        if found is None:
            found = self._complete(prefix, stems)
            if len(self._known) >= _CACHE_SIZE:
                self._known.clear()
            self._known[prefix] = found
        return found

    def _complete(self, prefix: str, stems: Stems) -> tuple[str | None, tuple[str, ...]]:
        words = [prefix + tail for tail in TAILS]
        stemmed = stems([prefix, *words])
        reached = stemmed[0] if self.prefix_is_stemmed else prefix
        carrier = None
        if self.carried and len(reached) < _MIN_STEM:
            carrier = next(
                (w for w, s in zip(words, stemmed[1:], strict=True) if s == prefix), None
            )
            reached = prefix if carrier is not None else reached
        chosen: dict[str, str] = {}
        for word, stem in zip(words, stemmed[1:], strict=True):
            if len(stem) >= _MIN_STEM and not stem.startswith(reached):
                chosen.setdefault(stem, word)
        return carrier, tuple(chosen.values())
