"""What a search pays right after a write: the facet arrays brought up to date.

``python benchmarks/search_after_write.py --db FILE --copy-to SCRATCH [--writes 60] [--loads 5]``
``DATABASE_URL=postgres://… python benchmarks/search_after_write.py --postgres [--writes 60]``

FILE is a catalogue benchmarks/search.py (or pages.py) generated, its index built; the copy
in SCRATCH is written, never the original. With ``--postgres`` the database of
``DATABASE_URL`` (one ``search.py --postgres`` filled, its index built) is written itself:
use a copy (``CREATE DATABASE … TEMPLATE …``). The search engine's facet arrays are per
process and follow every commit (library/search/README.md, "Issue 18, fifth round"), so
the first search after a write pays for bringing them up to date (main's code: for loading
them whole). This prints, with the result cache off (every search counts its facets) and
the load average:

* **cold**: a search with this process's arrays forgotten (the full load a new process
  pays), against the same search warm, ``--loads`` times each, medians;
* **after a write**: ``--writes`` writes (in turn: a synopsis edit, a topic change, a new
  piece, a deleted piece; each ``save_piece`` or ``delete`` commits with its index write),
  each followed by one search (a common word: facets over most of the catalogue) timed
  right after it, then the same search again with nothing changed. p50 / p95, wall and CPU;
  with ``--browse``, the browse page's facets (``/pieces/``' counts) timed right after each
  write and before the search, as a process serving both pages and search does;
* **memory**: the ``nbytes`` of every numpy array the process holds for facets (the
  catalogue's arrays and the search's layout, and the PostgreSQL search's own arrays where
  there are any: main before the seventh round; an array two of them share counted once),
  once a browse and a search have used them.

It uses only what main has too (``service.search``, ``save_piece``, ``state``,
``facet_arrays``, ``browse.facets``, and older mains' other copies, ``state.sqlite_facets``
and ``state.postgres_facets``, where there are), so the same file times main's code: copy
it with ``pages.py``, ``rebuild.py`` and ``search.py`` into a ``benchmarks/`` folder beside
main's ``library`` and ``manage.py`` (it imports the ``library`` next to its own folder)
and run it there, back to back on a copy of the same catalogue.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
from pathlib import Path

from deployed import django_as_deployed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import percentile
from pages import clocked
from rebuild import django_on
from search import SEED, build_lexicon


def figures(samples: list[tuple[float, float]]) -> str:
    walls, cpus = [w for w, _ in samples], [c for _, c in samples]
    return (
        f"p50 {percentile(walls, 50):.1f} / p95 {percentile(walls, 95):.1f} ms wall, "
        f"CPU p50 {percentile(cpus, 50):.1f} / p95 {percentile(cpus, 95):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="a SQLite catalogue (or --postgres)")
    parser.add_argument(
        "--postgres", action="store_true", help="the PostgreSQL database in DATABASE_URL"
    )
    parser.add_argument("--copy-to", type=Path, help="work on a copy in this directory")
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument(
        "--browse", action="store_true", help="a browse page's facets after each write"
    )
    args = parser.parse_args()
    if args.postgres:
        django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
        name = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1]
    elif args.db is None:
        parser.error("--db FILE or --postgres")
    else:
        name = django_on(args.db, args.copy_to).name
    from django.conf import settings
    from django.core.management import call_command

    from library.catalogue import facet_arrays
    from library.catalogue.authors import AuthorSpec
    from library.catalogue.browse import Filters, facets
    from library.catalogue.models import Piece, Topic
    from library.catalogue.services import PieceContributors, PieceTags, save_piece
    from library.search import service, state
    from library.search.backends import get_backend

    call_command("migrate", verbosity=0)  # a catalogue from an older checkout
    settings.SEARCH_RESULT_CACHE_SIZE = 0
    cache = getattr(get_backend(), "cache", None)  # SQLite's; PostgreSQL has none
    if cache is not None:
        cache.size = 0  # every search counts its facets
    count = Piece.objects.count()
    common = build_lexicon(random.Random(SEED))[:20]  # the mix's "common word" queries
    print(f"{name}: {count:,} pieces; load average {os.getloadavg()[0]:.1f}")
    for word in common[:3]:
        service.search(word)  # the vocabulary, pages of SQLite's cache

    cold, warm = [], []
    for n in range(args.loads):
        word = common[n % len(common)]
        forget(facet_arrays, state)
        cold.append(clocked(lambda w=word: service.search(w)))
        warm.append(clocked(lambda w=word: service.search(w)))
    print(
        f"cold (arrays loaded whole), median of {args.loads}: "
        f"{statistics.median(w for w, _ in cold):.1f} ms wall, "
        f"{statistics.median(c for _, c in cold):.1f} ms CPU; warm, the same search: "
        f"{statistics.median(w for w, _ in warm):.1f} ms wall, "
        f"{statistics.median(c for _, c in warm):.1f} ms CPU"
    )

    rng = random.Random(SEED + 5)
    topics = list(Topic.objects.all()[:50])
    ids = list(Piece.objects.order_by("pk").values_list("pk", flat=True))
    made: list[int] = []

    def tags_of(piece: Piece) -> tuple[PieceContributors, PieceTags]:
        return (
            PieceContributors(
                authors=[AuthorSpec(given=a.given, family=a.family) for a in piece.authors]
            ),
            PieceTags(topics=list(piece.topics.all()), regions=list(piece.regions.all())),
        )

    def write(n: int) -> None:
        kind = n % 4
        if kind == 3 and made:
            Piece.objects.get(pk=made.pop()).delete()
            return
        if kind == 2:
            piece = Piece(title=f"Written by the benchmark {n}", synopsis="security policy")
            tags = PieceTags(topics=rng.sample(topics, 2), regions=[])
            made.append(save_piece(piece, PieceContributors(authors=[]), tags).pk)
            return
        piece = Piece.objects.get(pk=rng.choice(ids))
        contributors, tags = tags_of(piece)
        if kind == 0:
            piece.synopsis = f"{piece.synopsis} (edited {n})"
        else:
            tags = PieceTags(topics=[rng.choice(topics)], regions=tags.regions)
        save_piece(piece, contributors, tags)

    facets(Filters())
    service.search(common[0])
    print(f"memory, a browse and a search served: {held_bytes(facet_arrays, state) / 1e6:.1f} MB")
    after, between, writes, browsed = [], [], [], []
    for n in range(args.writes):
        word = common[n % len(common)]
        writes.append(clocked(lambda n=n: write(n)))
        if args.browse:
            browsed.append(clocked(lambda: facets(Filters())))
        after.append(clocked(lambda w=word: service.search(w)))
        between.append(clocked(lambda w=word: service.search(w)))
    print(f"{args.writes} writes: {figures(writes)}")
    if args.browse:
        print(f"  the browse page's facets right after each: {figures(browsed)}")
    print(f"  the search right after each: {figures(after)}")
    print(f"  the same search again, nothing changed: {figures(between)}")
    print(f"load average {os.getloadavg()[0]:.1f}")


def forget(facet_arrays, state) -> None:
    """This process's facet arrays forgotten: the catalogue's, and older mains' copies."""
    facet_arrays.reset()
    getattr(state, "sqlite_facets", {}).clear()
    getattr(state, "postgres_facets", {}).clear()


def held_bytes(facet_arrays, state) -> int:
    """The bytes of every numpy array reachable from this process's facet arrays (each
    buffer once, however many objects share it)."""
    import dataclasses

    import numpy as np

    seen: dict[int, int] = {}
    visited: set[int] = set()
    stack: list[object] = [
        facet_arrays._loaded,
        getattr(state, "sqlite_facets", {}),
        getattr(state, "postgres_facets", {}),
    ]
    while stack:
        item = stack.pop()
        if id(item) in visited:
            continue
        visited.add(id(item))
        if isinstance(item, np.ndarray):
            owner = item if item.base is None else item.base
            seen[id(owner)] = getattr(owner, "nbytes", item.nbytes)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif dataclasses.is_dataclass(item):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return sum(seen.values())


if __name__ == "__main__":
    main()
