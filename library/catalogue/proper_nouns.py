"""The catalogue's proper nouns, for the title protection of BibTeX and BibLaTeX exports.

A sentence-case style (APA, plain's titles, biblatex's ``\\MakeSentenceCase``) lowers every
capital a title does not protect; the exporters protect acronyms and words with inner
capitals by themselves, and names they are told about. The vocabulary tells them:

* every region, country and place name, and their aliases ("Southeast Asia", "Mosul");
* topic names and aliases whose words are all capitalised ("Islamic State", "Boko Haram").
  Topic names are sentence-cased in the vocabulary, so a one-word topic ("Terrorism",
  "Taliban") cannot be told from a common noun and is left out, as are "Political violence"
  and the like.
"""

from __future__ import annotations

from library.catalogue.generation import PageCache
from library.catalogue.models import Region, Topic

# Short words that stay lower case inside a proper noun ("Gulf of Guinea").
_JOINERS = frozenset({"and", "of", "the", "de", "al", "for", "in", "on"})


def _capitalised_phrase(name: str) -> bool:
    """Two or more words, each capitalised bar the joiners: a name, not a subject."""
    words = [w for w in name.replace("-", " ").split() if w.lower() not in _JOINERS]
    return len(words) >= 2 and all(w[:1].isupper() for w in words)


def catalogue_proper_nouns() -> tuple[str, ...]:
    """Region names and aliases, and the topic names and aliases that are proper nouns.

    Cached until the vocabulary changes (every piece page's BibTeX box asks for them, and
    reading ~900 vocabulary rows each time cost more than the rest of the box).
    """
    return PageCache.now().get("proper-nouns", (), _read_proper_nouns)


def _read_proper_nouns() -> tuple[str, ...]:
    nouns: list[str] = []
    for name, aliases in Region.objects.values_list("name", "aliases"):
        nouns.extend([name, *(aliases or [])])
    for name, aliases in Topic.objects.values_list("name", "aliases"):
        nouns.extend(n for n in [name, *(aliases or [])] if _capitalised_phrase(n))
    return tuple(sorted(set(nouns), key=lambda n: (-len(n), n)))
