"""Suggest free keywords for a text with YAKE, offline, for an editor to accept or reject.

YAKE scores candidate phrases from statistics of the text alone (no model, no download), so
it suits a catalogue of specialised vocabulary that a general-purpose model would not know.
The suggestions drop what the piece already says elsewhere: author names (and any phrase
with an author's surname), the title itself, terms that the controlled vocabulary already
suggests, and phrases that only repeat a longer suggestion.

YAKE knows no grammar, so it offers fragments that cross a clause: "Iraqi Sunnis political"
(a modifier without its noun), "Raqqa depends" (subject and verb), "Kilcullen argues",
"members developed norms", "traces the Islamic". Without a part-of-speech model, the text
itself is the evidence: a phrase is kept only if it reads as a noun phrase — no article,
pronoun or preposition inside it (only "of", "and", "for" join nouns), no adverb, no
past-tense verb after its first word, not starting with a verb in -s, not ending in an
adjectival suffix ("-ical", "-ous", …), and not ending in a word the text uses as a verb
(after a name and before "that", "the", "on", …). Precision on the demo content, hand-marked:
``library/ingest/README.md``.
No Django; yake (and numpy, which it pulls in) is imported on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_LIMIT = 8
MAX_WORDS = 20_000
NGRAM = 3
_NOISE = re.compile(r"(?i)^(?:synopsis|commentary|rsis|ntu|page)\b|\b(?:synopsis|commentary)$")


# Words that join nouns inside a noun phrase ("Roots of Terrorism", "Arms and Influence").
_JOINERS = frozenset({"of", "and", "for"})
_FUNCTION_WORDS = frozenset(
    "a an the to in on at by with from into onto through over under about against between "
    "among during without within across after before than as or but nor if so because while "
    "that this these those which who whom whose what how why when where whether it its they "
    "them their he him his she her we our you your i not no also however thus only very "
    "is are was were be been being has have had do does did can could will would may might "
    "must shall should including".split()
)
_ADJECTIVE_ENDINGS = ("ical", "ional", "ous", "ful", "less", "able", "ible", "ive")
# Nouns with those endings that a security catalogue needs ("a new initiative").
_NOUNS_LIKE_ADJECTIVES = frozenset(
    "initiative narrative offensive explosive objective directive incentive alternative "
    "representative perspective executive motive detective collective".split()
)
# Plural nouns that modify the next noun ("arms control"); other -s first words are verbs.
_PLURAL_MODIFIERS = frozenset("arms news customs sports goods savings means series".split())
# What follows a verb and not a noun: "depends on", "argues that", "traces the".
_AFTER_VERBS = frozenset(
    "that the a an how what whether on upon its their his her them it itself".split()
)


def suggest_keywords(
    title: str,
    synopsis: str,
    body: str,
    *,
    exclude: Iterable[str] = (),
    names: Iterable[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> list[str]:
    """Up to ``limit`` key phrases, best first; ``exclude`` lists phrases not to suggest,
    ``names`` people whose names (any word of them, "Hoffman") a phrase must not contain."""
    # A full stop after the title keeps YAKE from running it into the synopsis's first words.
    title = title.strip()
    if title and not title.endswith((".", "?", "!")):
        title += "."
    text = "\n\n".join(part for part in (title, synopsis, body) if part.strip())
    words = text.split()
    if len(words) < 5 or limit <= 0:
        return []
    text = " ".join(words[:MAX_WORDS]) if len(words) > MAX_WORDS else text
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=NGRAM, dedup_lim=0.7, top=limit * 3)
    names = [name for name in names if name.strip()]
    excluded = {_fold(item) for item in [*exclude, *names] if item.strip()}
    name_words = {
        word for name in names for word in _fold(name).split() if len(word) > 2 and word != "van"
    }
    prose = f"{synopsis}\n{body}"
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
            or (" " not in folded and not _is_name(phrase, prose))
            or folded == _bare_title(title)
            or name_words.intersection(folded.split())
            or not _is_noun_phrase(phrase, prose)
            or _truncated(phrase, text)
        ):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def _is_noun_phrase(phrase: str, text: str) -> bool:
    """Whether ``phrase`` reads as a noun phrase rather than a clause fragment (see the
    module docstring for the rules and the examples they were drawn from)."""
    words = phrase.split()
    lower = [w.casefold() for w in words]
    if lower[0] in _FUNCTION_WORDS or lower[-1] in _FUNCTION_WORDS | _JOINERS:
        return False
    if any(w in _FUNCTION_WORDS for w in lower[1:-1]):
        return False
    if any(w.endswith("ly") and w[:1].islower() and len(w) > 4 for w in words):
        return False
    if any(w.endswith("ed") and w[:1].islower() for w in words[1:]):
        return False
    first, last = words[0], words[-1]
    if (
        len(words) > 1
        and first[:1].islower()
        and _plural_s(first)
        and lower[0] not in _PLURAL_MODIFIERS
    ):
        return False
    if last[:1].islower():
        if lower[-1].endswith(_ADJECTIVE_ENDINGS) and lower[-1] not in _NOUNS_LIKE_ADJECTIVES:
            return False
        if len(words) > 1 and _plural_s(last) and _used_as_verb(last, text):
            return False
    return True


def _bare_title(title: str) -> str:
    """The title folded, without leading function words ("The ISIS Apocalypse", "How
    Terrorism Ends"): a keyword that only repeats it adds nothing."""
    words = _fold(title).split()
    while words and words[0] in _FUNCTION_WORDS:
        words.pop(0)
    return " ".join(words)


def _truncated(phrase: str, text: str) -> bool:
    """Every time the text prints ``phrase`` it runs on into another word: YAKE cut a longer
    name or noun phrase short ("Tragedy of Great" [Power Politics], "Pakistan and Southeast"
    [Asia])."""
    pattern = r"\s+".join(re.escape(word) for word in phrase.split())
    followers = re.findall(rf"\b{pattern}(?:(\s+[A-Za-z][\w-]*)|\b)", text)
    return bool(followers) and all(
        f and f.strip().casefold() not in _FUNCTION_WORDS | _JOINERS for f in followers
    )


def _plural_s(word: str) -> bool:
    return word.endswith("s") and not word.endswith(("ss", "us", "is", "ics"))


def _used_as_verb(word: str, text: str) -> bool:
    """The text puts ``word`` before what only follows a verb ("depends on", "knows the")."""
    after = re.findall(rf"\b{re.escape(word)}\s+([A-Za-z]+)", text)
    return any(follower.casefold() in _AFTER_VERBS for follower in after)


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
