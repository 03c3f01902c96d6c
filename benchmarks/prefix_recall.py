"""Prefix recall on real words: how often ``word[:k]*`` finds ``word``, per engine.

``python benchmarks/prefix_recall.py [--bib-root DIR] [--min-count 2] [--search-db FILE]``
``DATABASE_URL=postgres://… python benchmarks/prefix_recall.py --postgres [--search]``

The words are every word of five or more letters in the TeX Live ``.bib`` files (titles,
abstracts and notes that nobody on this team wrote) and in the RSIS commentary of
``tests/fixtures``, kept if they occur at least ``--min-count`` times. For each word and
each prefix of it from 4 letters to all but its last, the prefix finds the word when its
stem is one the engine's prefix match reaches (FTS5 and PostgreSQL stem the typed
prefix first; Whoosh matches it as typed), before, or one of the prefix's completions
(``library/search/prefixes.py``) has the word's stem, now; now, a prefix the SQLite engine
carries (its FTS5 stem is under three letters: ``ines`` is ``in``) reaches the stems that
begin with the prefix as typed, and no longer those beginning with its stem. Every stem
is the engine's own:
FTS5's tokenizer, the index's Whoosh analyzer, PostgreSQL's ``dossier_english_stem``
(``--postgres``, on a migrated database). It prints, per engine, the share of prefixes
that find their word before and now, the completions a prefix gets on average, and the
most common endings still missed.

With ``--search-db FILE`` (a catalogue ``benchmarks/search.py`` generated) or ``--postgres
--search`` (the catalogue in ``DATABASE_URL``), it then searches the catalogue for prefixes
of security-studies words a reader types (``SEARCHED``) through ``service.search``, and
prints each one's total and median time of 5 (result cache off).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from deployed import django_as_deployed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEED = ROOT / "tests" / "fixtures" / "mosul-operation.txt"
# Prefixes a reader of security studies types; the synthetic catalogue's titles and
# bodies use these words ("insurgency", "security", "terrorism", "proliferation", ...).
SEARCHED = (
    "insurgen*", "terroris*", "securit*", "proliferat*", "negotiat*", "militar*",
    "maritim*", "ines*",
)  # fmt: skip


def real_words(bib_root: Path, min_count: int) -> list[str]:
    """Lower-case words of 5-20 letters in the .bib files and the seed commentary."""
    counts: collections.Counter[str] = collections.Counter()
    files = [*sorted(bib_root.rglob("*.bib")), SEED]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        counts.update(word.lower() for word in re.findall(r"[A-Za-z]{5,20}", text))
    print(f"{len(files)} files under {bib_root} and {SEED.name}")
    return sorted(word for word, count in counts.items() if count >= min_count)


def recall(
    name: str, words: list[str], stems, prefix_is_stemmed: bool, carried: bool = False
) -> None:
    from library.search.prefixes import Completions

    completions = Completions(prefix_is_stemmed=prefix_is_stemmed, carried=carried)
    started = time.perf_counter()
    stem_of = dict(zip(words, stems(words), strict=True))
    prefixes = sorted({word[:k] for word in words for k in range(4, len(word))})
    reached = dict(zip(prefixes, stems(prefixes), strict=True)) if prefix_is_stemmed else {}
    # Each prefix's completions and their stems, once (many words share a prefix), and
    # the prefixes whose stem is under three letters, matched through their carrier
    # (prefixes.py): the engine's match then reaches the stems beginning with the prefix
    # as typed. (One after the other: the second comes from the entry the first remembered.)
    carriers: dict[str, str | None] = {}
    completed: dict[str, tuple[str, ...]] = {}
    for prefix in prefixes:
        carriers[prefix] = completions.carrier(prefix, stems)
        completed[prefix] = completions(prefix, stems)
    completed_stems = {
        p: set(stems(list(extra))) if extra else set() for p, extra in completed.items()
    }
    carried_to = {prefix for prefix, carrier in carriers.items() if carrier is not None}
    total = before = now = added = 0
    missed: collections.Counter[str] = collections.Counter()
    for word in words:
        for k in range(4, len(word)):
            prefix = word[:k]
            reach = reached.get(prefix, prefix)
            found_before = stem_of[word].startswith(reach)
            reach_now = prefix if prefix in carried_to else reach
            found_now = stem_of[word].startswith(reach_now) or (
                stem_of[word] in completed_stems[prefix]
            )
            total += 1
            before += found_before
            now += found_now
            added += len(completed[prefix])
            if not found_now:
                missed[word[k:]] += 1
    print(
        f"{name:<22} {total:>8,} prefixes: found before {before / total:.2%}, now "
        f"{now / total:.2%}; {added / total:.2f} completions a prefix; "
        f"{len(carried_to)} of {len(prefixes):,} distinct prefixes carried; "
        f"{time.perf_counter() - started:.0f} s"
    )
    print(f"{'':<22} endings still missed (count): {missed.most_common(10)}")
    if carried_to:
        shown = ", ".join(f"{p}* as {carriers[p]}*" for p in sorted(carried_to)[:8])
        print(f"{'':<22} carried: {shown}")


def search_catalogue() -> None:
    """Each SEARCHED prefix's total and median time (of 5) on the configured catalogue,
    with the completions off (the prefix alone, as before them) and on."""
    import statistics
    from unittest import mock

    from django.conf import settings

    from library.search import service
    from library.search.backends import get_backend
    from library.search.prefixes import Completions

    settings.SEARCH_BACKEND = "database"
    backend = get_backend()
    if hasattr(backend, "cache"):
        backend.cache.size = 0  # SQLite's result cache: every search runs
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"searching {engine}'s catalogue: pieces found and median ms, before -> now")
    figures: dict[str, list[tuple[int, float]]] = {text: [] for text in SEARCHED}
    for off in (True, False):
        with mock.patch.object(Completions, "__call__", return_value=()) if off else nullcontext():
            for text in SEARCHED:
                service.search(text)  # the completions' stems, once per process
                times = []
                for _ in range(5):
                    started = time.perf_counter()
                    total = service.search(text).total
                    times.append((time.perf_counter() - started) * 1000)
                figures[text].append((total, statistics.median(times)))
    for text, ((total0, ms0), (total1, ms1)) in figures.items():
        print(f"  {text:<14} {total0:>8,} -> {total1:>8,} pieces  {ms0:6.1f} -> {ms1:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bib-root", type=Path, default=Path("/usr/share/texlive/texmf-dist"))
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="also DATABASE_URL's stems")
    parser.add_argument("--search", action="store_true", help="with --postgres: search it too")
    parser.add_argument("--search-db", type=Path, help="then search this SQLite catalogue")
    args = parser.parse_args()
    if args.postgres and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("--postgres needs DATABASE_URL=postgres://…")
    if not args.postgres:
        memory = "sqlite://:memory:"
        os.environ["DATABASE_URL"] = (
            f"sqlite:///{args.search_db.resolve()}" if args.search_db else memory
        )
    django_as_deployed()
    from library.search.backends.database.sqlite.stems import fts5_stems
    from library.search.backends.whoosh import _stems as whoosh_stems

    words = real_words(args.bib_root, args.min_count)
    print(f"{len(words):,} distinct words; load {os.getloadavg()[0]:.1f}")
    recall("SQLite (FTS5 porter)", words, fts5_stems, prefix_is_stemmed=True, carried=True)
    recall("Whoosh (its Porter)", words, whoosh_stems, prefix_is_stemmed=False)
    if args.postgres:
        from library.search.backends.database.postgres.backend import _stems as pg_stems

        cached: dict[str, str] = {}

        def postgres_stems(batch: list[str]) -> list[str]:
            new = [word for word in dict.fromkeys(batch) if word not in cached]
            for start in range(0, len(new), 10_000):
                chunk = new[start : start + 10_000]
                cached.update(zip(chunk, pg_stems(chunk), strict=True))
            return [cached[word] for word in batch]

        recall("PostgreSQL (Snowball)", words, postgres_stems, prefix_is_stemmed=True)
    if args.search_db or (args.postgres and args.search):
        search_catalogue()


if __name__ == "__main__":
    main()
