"""Search speed as unmerged FTS5 segments pile up, and after the upkeep task merges them.

``python benchmarks/upkeep.py --db DIR/bench-10000.sqlite3 --copy-to SCRATCH [--saves 1000]``

FILE is a catalogue benchmarks/search.py generated (its index built). The copy is written,
never the original. Saves no longer merge segments (automerge 0, library/search/README.md
"Saves and upkeep"): the worker's ``maintain_index`` does. This prints the 210-query mix's
p50/p95 (search.py's queries, result cache off) three times: on the index as built; after
``--saves`` ``save_piece`` calls with no worker (only FTS5's crisis merges); and after the
upkeep has run until nothing is left to merge (each run's merge steps are counted). With
the load average and the index's page count.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import percentile
from rebuild import django_on
from search import SEED, build_lexicon, query_mix


def mix(queries: list[tuple[str, str]]) -> str:
    from library.search import service

    times = []
    for _, text in queries:
        t0 = time.perf_counter()
        service.search(text)
        times.append((time.perf_counter() - t0) * 1000)
    return f"p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms"


def pages() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_piece_fts_data")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--copy-to", required=True, type=Path)
    parser.add_argument("--saves", type=int, default=1000)
    args = parser.parse_args()
    django_on(args.db, args.copy_to)
    from django.conf import settings
    from django.core.management import call_command

    from library.catalogue.authors import AuthorSpec
    from library.catalogue.models import Piece
    from library.catalogue.services import PieceContributors, PieceTags, save_piece
    from library.search.backends import get_backend

    call_command("migrate", verbosity=0)
    settings.SEARCH_RESULT_CACHE_SIZE = 0
    backend = get_backend()
    backend.cache.size = 0
    count = Piece.objects.count()
    lexicon = build_lexicon(random.Random(SEED))
    queries = query_mix(random.Random(SEED + count), lexicon, 210)
    mix(queries[:10])  # warm the vocabulary and facet arrays, as a server would
    load = lambda: f"load {os.getloadavg()[0]:.1f}"  # noqa: E731
    print(f"{count:,} pieces; as built: {mix(queries)}; {pages():,} index pages; {load()}")

    backend.optimize()  # single-save settings (automerge 0), as rebuild_index leaves them
    rng = random.Random(SEED + 3)
    ids = list(Piece.objects.values_list("pk", flat=True))
    t0 = time.perf_counter()
    for pk in rng.sample(ids, args.saves):
        piece = Piece.objects.get(pk=pk)
        piece.title = f"{piece.title} edited"
        contributors = PieceContributors(
            authors=[AuthorSpec(given=a.given, family=a.family) for a in piece.authors]
        )
        tags = PieceTags(topics=list(piece.topics.all()), regions=list(piece.regions.all()))
        save_piece(piece, contributors, tags)
    took = time.perf_counter() - t0
    print(f"after {args.saves} saves without upkeep ({took:.1f} s): {mix(queries)}; "
          f"{pages():,} index pages; {load()}")  # fmt: skip

    runs = steps = 0
    t0 = time.perf_counter()
    while (done := backend.upkeep())["merge_steps"]:
        runs += 1
        steps += done["merge_steps"]
    took = time.perf_counter() - t0
    print(f"after {runs} upkeep runs ({steps} merge steps, {took:.1f} s): {mix(queries)}; "
          f"{pages():,} index pages; {load()}")  # fmt: skip


if __name__ == "__main__":
    main()
