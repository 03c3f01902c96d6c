"""Suggest free keywords for a text with YAKE, offline, for an editor to accept or reject.

YAKE scores candidate phrases from statistics of the text alone (no model, no download), so
it suits a catalogue of specialised vocabulary that a general-purpose model would not know.
The suggestions drop what the piece already says elsewhere: author names, terms that the
controlled vocabulary already suggests, and phrases that only repeat a longer suggestion.
No Django; yake (and numpy, which it pulls in) is imported on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_LIMIT = 8
MAX_WORDS = 20_000
NGRAM = 3
_NOISE = re.compile(r"(?i)^(?:synopsis|commentary|rsis|ntu|page)\b|\b(?:synopsis|commentary)$")


def suggest_keywords(
    title: str,
    synopsis: str,
    body: str,
    *,
    exclude: Iterable[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> list[str]:
    """Up to ``limit`` key phrases, best first; ``exclude`` lists phrases not to suggest."""
    text = "\n\n".join(part for part in (title, synopsis, body) if part.strip())
    words = text.split()
    if len(words) < 5 or limit <= 0:
        return []
    text = " ".join(words[:MAX_WORDS]) if len(words) > MAX_WORDS else text
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=NGRAM, dedup_lim=0.7, top=limit * 3)
    excluded = {_fold(item) for item in exclude if item.strip()}
    chosen: list[str] = []
    for phrase, _score in extractor.extract_keywords(text):
        phrase = re.sub(r"\s+", " ", phrase).strip(" -–—'\"’")
        folded = _fold(phrase)
        if (
            len(folded) < 3
            or folded.isdigit()
            or _NOISE.search(phrase)
            or any(_overlaps(folded, item) for item in excluded)
            or any(_overlaps(folded, _fold(kept)) for kept in chosen)
            or (" " not in folded and not _is_name(phrase, f"{synopsis}\n{body}"))
        ):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def _is_name(word: str, text: str) -> bool:
    """A lone word is worth suggesting only as an acronym or a proper name (ASEAN, Mosul),
    not as a common noun that happens to be capitalised in the title ("Deal", "Patrols")."""
    if len(word) >= 2 and word.isupper():
        return True
    found = re.findall(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE)
    return len(found) >= 2 and all(w[:1].isupper() for w in found)


def _overlaps(a: str, b: str) -> bool:
    """One phrase contains the other as whole words, a plural "s" aside."""
    a, b = (" " + " ".join(w.removesuffix("s") for w in x.split()) + " " for x in (a, b))
    return a in b or b in a


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()
