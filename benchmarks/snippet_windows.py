"""PostgreSQL snippets: body headlines from a window against headlines of whole bodies.

``DATABASE_URL=postgres://… python benchmarks/snippet_windows.py [--pieces 100000] [--runs 3]``

Runs the 210-query mix of ``benchmarks/search.py`` (same seed, so the same queries as a
``search.py --pieces N`` run) through ``library.search.service.search`` on a database whose
index is built. Each search's snippets are also made the way they were before the window
(backends/database/postgres/snippets.py): the synopsis's headline, else the whole body's,
else the title's. The two are timed on the same page, alternately first, and compared
piece by piece: a piece with a snippet before must have one now, with a marked word (the
"lost" count must be 0); how many now mark fewer distinct words; how many are the same
text. Prints the 1-minute load average.
"""

from __future__ import annotations

import argparse
import statistics
import time

from deployed import django_as_deployed
from figures import load_average, percentile
from search_profile_postgres import warmed_query_mix

MARK_START, MARK_END = "\x02", "\x03"


def marked_words(snippet: str) -> set[str]:
    """The distinct words a headline marked, lower-cased."""
    return {part.split(MARK_END, 1)[0].lower() for part in snippet.split(MARK_START)[1:]}


def whole_body_snippets(backend, cursor, highlight: str | None, ids: list[int]) -> dict:
    """The snippets as made before the window: synopsis, else whole body, else title."""
    if not highlight or not ids:
        return {}
    snippets: dict[int, str] = {}
    remaining = list(ids)
    for column in ("synopsis", "body", "title"):
        if column == "body":
            headlines = backend._headlines_of(cursor, highlight, backend._bodies(cursor, remaining))
        else:
            headlines = backend._field_headlines(cursor, column, highlight, remaining)
        for pk, _, marked in headlines:
            if marked and MARK_START in marked:
                snippets[pk] = marked
        remaining = [pk for pk in remaining if pk not in snippets]
    return snippets


class Comparison:
    """Stands in for the backend's ``_snippets``: runs both ways, returns today's."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.today = backend.PostgresBackend._snippets
        self.ms: dict[str, list[float]] = {"window": [], "whole": []}
        self.counts = dict.fromkeys(("pieces", "lost", "fewer words", "same text"), 0)
        self.turn = 0

    def __call__(self, cursor, highlight, ids):
        results = {}
        order = ("window", "whole") if self.turn % 2 == 0 else ("whole", "window")
        self.turn += 1
        for name in order:
            started = time.perf_counter()
            if name == "window":
                results[name] = self.today(cursor, highlight, ids)
            else:
                results[name] = whole_body_snippets(self.backend, cursor, highlight, ids)
            self.ms[name].append((time.perf_counter() - started) * 1000)
        now, before = results["window"], results["whole"]
        for pk in ids:
            self.counts["pieces"] += 1
            old, new = before.get(pk, ""), now.get(pk, "").replace("<", "\ue000")
            if old and not new:
                self.counts["lost"] += 1
            if len(marked_words(new)) < len(marked_words(old)):
                self.counts["fewer words"] += 1
            if new == old:
                self.counts["same text"] += 1
        return now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pieces", type=int, default=100_000, help="the size search.py used")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    django_as_deployed()
    from library.search import service
    from library.search.backends.database.postgres import backend

    queries = warmed_query_mix(parser, args.pieces)
    comparison = Comparison(backend)
    backend.PostgresBackend._snippets = staticmethod(comparison)
    try:
        for _ in range(args.runs):
            for _, text in queries:
                service.search(text)
    finally:
        backend.PostgresBackend._snippets = staticmethod(comparison.today)
    pages = len(comparison.ms["window"])
    print(f"{pages} pages with snippets over {args.runs} runs of the 210-query mix")
    for name, values in comparison.ms.items():
        print(
            f"  {name:6} p50 {statistics.median(values):6.2f} ms  "
            f"p95 {percentile(values, 95):6.2f} ms  sum {sum(values):8.1f} ms"
        )
    print("  " + ", ".join(f"{name} {value}" for name, value in comparison.counts.items()))
    print(f"load average (1, 5, 15 min): {load_average()}")


if __name__ == "__main__":
    main()
