"""The PostgreSQL search's facet step alone: wall and CPU per query of the mix, and its share.

``DATABASE_URL=postgres://… python benchmarks/search_facets_postgres.py [--repeat 3]``

Runs the 210-query mix of ``benchmarks/search.py`` (same seed: the same queries as a
``search.py --pieces N`` run) through ``library.search.service.search`` against a database
whose index is built, and times the backend's ``facet_counts`` (the facet arrays brought up
to date, then the count over the matching ids) inside each search, wall and CPU (process
time, which the other work on a shared machine does not inflate). Prints per repeat the
facet step's p50 / p95 and its share of the searches' total time, the whole search's
p50 / p95, the first count of a process (the arrays loaded whole), the ``nbytes`` of the
process's facet arrays (search_after_write.held_bytes) and the load average.

It patches only ``postgres.backend.facet_counts``, which main before the seventh round has
too (fed by its own arrays then), so the same file times that code: copy it with
``search.py`` and ``search_after_write.py`` (and what they import) into a ``benchmarks/``
folder beside that checkout's ``library`` and run it there, back to back on the same
database.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from deployed import django_as_deployed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import percentile
from search import SEED, build_lexicon, query_mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pieces", type=int, default=100_000, help="the size search.py used")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
    from django.db import connection

    from library.catalogue import facet_arrays
    from library.search import service, state
    from library.search.backends.database.postgres import backend

    if connection.vendor != "postgresql":
        parser.error("needs DATABASE_URL=postgres://… with a built index")
    from search_after_write import forget, held_bytes

    timed: list[tuple[float, float]] = []
    original = backend.facet_counts

    def facet_counts(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            timed.append((time.perf_counter() - wall, time.process_time() - cpu))

    backend.facet_counts = facet_counts
    lexicon = build_lexicon(random.Random(SEED))
    queries = query_mix(random.Random(SEED + args.pieces), lexicon, 210)
    service.search(queries[0][1])  # the vocabulary
    forget(facet_arrays, state)
    timed.clear()
    service.search("security")  # a common word: its facets load the arrays whole
    first = timed[-1] if timed else (float("nan"), float("nan"))
    print(
        f"{connection.settings_dict['NAME']}: first count of a process (arrays loaded whole) "
        f"{first[0] * 1000:.1f} ms wall, {first[1] * 1000:.1f} ms CPU; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    for _, text in queries[:10]:
        service.search(text)
    for run in range(args.repeat):
        timed.clear()
        searches: list[float] = []
        for _, text in queries:
            started = time.perf_counter()
            service.search(text)
            searches.append((time.perf_counter() - started) * 1000)
        walls = [w * 1000 for w, _ in timed]
        cpus = [c * 1000 for _, c in timed]
        print(
            f"run {run + 1}: facet step ({len(timed)} of {len(queries)} searches count "
            f"facets) p50 {percentile(walls, 50):.2f} / p95 {percentile(walls, 95):.2f} ms "
            f"wall, CPU p50 {percentile(cpus, 50):.2f} / p95 {percentile(cpus, 95):.2f} ms; "
            f"{sum(walls) / sum(searches):.1%} of the searches' time; searches p50 "
            f"{percentile(searches, 50):.1f} / p95 {percentile(searches, 95):.1f} ms; "
            f"load {os.getloadavg()[0]:.1f}"
        )
    print(f"memory of the facet arrays: {held_bytes(facet_arrays, state) / 1e6:.1f} MB (nbytes)")


if __name__ == "__main__":
    main()
