"""Search speed: index build rate, query latency with snippets and facets, update latency, size.

``python benchmarks/search.py [--pieces 10000 100000] [--engines database whoosh]
[--queries 210] [--sorts relevance title author] [--db-dir DIR]``

For each catalogue size it generates a deterministic synthetic catalogue (seeded RNG) of
commentary-sized pieces -- a title, 1-3 authors, a 50-word synopsis, a ~1,000-word body with
Zipf-distributed words, 3-6 topics from the real vocabulary and a year -- into a scratch
SQLite database (never the project's own), then for each engine prints:

* build: pieces indexed per second by ``rebuild_index``'s code path (reading the pieces
  and their tags from the database included), and its ratio to a bare Python tokenisation
  pass (``re.findall(r"\\w+", text.lower())``) over the same text;
* query latency p50/p95 over a fixed mix of queries (common word, rare word, 2-3 words,
  phrase, field filter, prefix, misspelling), through ``library.search.service.search``,
  i.e. with snippets, facets, "did you mean" and the page's piece rows;
* single-piece update latency (the index write for one changed piece, with and without its
  commit; 200 samples by default, ``--saves``), and the commits split by whether a WAL
  checkpoint ran in them;
* single-save latency: ``services.save_piece`` for an existing piece with a changed title,
  its byline and tags (what the edit form does), and how many index writes it caused, with
  ``manage.py db_worker`` running beside it as deployed (``--no-worker``: without; tasks
  queued before the run started are deleted first), and on SQLite how long its BEGIN
  IMMEDIATE waited for the write lock;
* index size on disk.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deployed import django_as_deployed
from figures import percentile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEED = 2016
SYLLABLES = ("ka ri to ma ne su lo vi da ze pa qu in or al et um es an ur ol ex ab ic").split()
REAL_WORDS = (
    "security state insurgency insurgents militant attack border maritime strategy policy "
    "government military terrorism terrorist network regional conflict violence islamic "
    "cyber nuclear deterrence alliance coast guard fleet election protest refugee crisis "
    "mosul iraq syria asean china singapore indonesia philippines vietnam thailand"
).split()


def build_lexicon(rng: random.Random, size: int = 30_000) -> list[str]:
    """Real words at the top of the Zipf ranking, then pseudo-words made of syllables."""
    words = list(REAL_WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_weights(n: int, s: float = 1.07) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def generate(count: int, rng: random.Random, lexicon: list[str]) -> None:
    """Create ``count`` pieces with authors and tags by bulk inserts (signals bypassed)."""
    from library.catalogue.models import Author, Authorship, Piece, Topic

    weights = zipf_weights(len(lexicon))
    cum = list(_accumulate(weights))
    topics = list(Topic.objects.values_list("pk", flat=True))
    authors = Author.objects.bulk_create(
        Author(given=w(rng, lexicon[:3000]).title(), family=w(rng, lexicon[50:]).title(),
               slug=f"author-{i}")
        for i in range(max(50, count // 5))
    )  # fmt: skip
    through = Piece.topics.through
    batch = 2000
    for start in range(0, count, batch):
        pieces = []
        for i in range(start, min(count, start + batch)):
            title = " ".join(rng.choices(lexicon[:5000], k=rng.randint(4, 9))).capitalize()
            synopsis = " ".join(rng.choices(lexicon, cum_weights=cum, k=50))
            paragraphs = [" ".join(rng.choices(lexicon, cum_weights=cum, k=100)) for _ in range(10)]
            year = rng.randint(1990, 2025)
            pieces.append(
                Piece(
                    title=title,
                    citation_key=f"bench{i}",
                    date=datetime.date(year, rng.randint(1, 12), 1),
                    synopsis=synopsis,
                    body="\n\n".join(paragraphs),
                )
            )
        created = Piece.objects.bulk_create(pieces)
        rows, tags = [], []
        for piece in created:
            for position, author in enumerate(rng.sample(authors, rng.randint(1, 3))):
                rows.append(Authorship(piece=piece, author=author, position=position))
            for topic in rng.sample(topics, rng.randint(3, 6)):
                tags.append(through(piece_id=piece.pk, topic_id=topic))
        Authorship.objects.bulk_create(rows)
        through.objects.bulk_create(tags)


def w(rng: random.Random, words: list[str]) -> str:
    return rng.choice(words)


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def query_mix(rng: random.Random, lexicon: list[str], n: int) -> list[tuple[str, str]]:
    """A fixed mix of query kinds, in equal shares, shuffled deterministically."""
    from library.catalogue.models import Author, Piece, Topic

    authors = list(Author.objects.values_list("family", flat=True)[:500])
    topics = list(Topic.objects.values_list("slug", flat=True))
    # Phrases come from 50 bodies chosen by the seeded generator (not ORDER BY RANDOM()),
    # so every run times the same queries.
    pks = list(Piece.objects.order_by("pk").values_list("pk", flat=True))
    chosen = rng.sample(pks, min(50, len(pks)))
    bodies = list(Piece.objects.filter(pk__in=chosen).order_by("pk").values_list("body", flat=True))
    # Pieces other benchmarks added (short or empty bodies) have no 4-word phrase to take;
    # on a generated catalogue every body has, and the queries are the same as before.
    bodies = [body for body in bodies if len(body.split()) >= 4]
    kinds = {
        "common word": lambda: rng.choice(lexicon[:20]),
        "rare word": lambda: rng.choice(lexicon[5000:20000]),
        "2-3 words": lambda: " ".join(rng.sample(lexicon[:2000], rng.randint(2, 3))),
        "phrase": lambda: '"' + " ".join(_phrase(rng, bodies)) + '"',
        "field filter": lambda: rng.choice(
            [
                f"author:{rng.choice(authors)}",
                f"{rng.choice(lexicon[:200])} topic:{rng.choice(topics)}",
                f"{rng.choice(lexicon[:200])} year:2014..2017",
            ]
        ),
        "prefix": lambda: rng.choice(lexicon[:3000])[:4] + "*",
        "misspelling": lambda: _misspell(rng, rng.choice(lexicon[:40])),
    }
    queries = [(kind, make()) for kind, make in kinds.items() for _ in range(n // len(kinds))]
    rng.shuffle(queries)
    return queries


def _phrase(rng: random.Random, bodies: list[str]) -> list[str]:
    words = rng.choice(bodies).split()
    start = rng.randrange(0, len(words) - 3)
    return words[start : start + rng.randint(2, 3)]


def _misspell(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word))
    return word[:i] + rng.choice("aeiou") + word[i + 1 :]


def tokenise_rate(sample_ids: list[int]) -> float:
    from library.search.documents import documents_for

    documents = documents_for(sample_ids)
    pattern = re.compile(r"\w+")
    started = time.perf_counter()
    for _ in range(3):
        for d in documents:
            for text in d.fields():
                pattern.findall(text.lower())
    return 3 * len(documents) / (time.perf_counter() - started)


def bench_engine(name: str, args, rng: random.Random, lexicon: list[str], count: int) -> None:
    from django.conf import settings
    from django.db import transaction

    from library.catalogue.models import Piece
    from library.search import service
    from library.search.backends import get_backend
    from library.search.documents import build_document
    from library.search.maintenance import rebuild

    settings.SEARCH_BACKEND = name
    settings.WHOOSH_INDEX_DIR = Path(args.db_dir) / f"whoosh-{count}"
    backend = get_backend()

    if args.reuse_index and backend.indexed_digests():
        build_rate = float("nan")  # index kept from an earlier run: not rebuilt, not timed
    else:
        started = time.perf_counter()
        built = rebuild(chunk=1000)
        build_rate = built / (time.perf_counter() - started)
    ids = list(Piece.objects.values_list("pk", flat=True))
    bare = tokenise_rate(rng.sample(ids, min(2000, len(ids))))

    queries = query_mix(random.Random(SEED + count), lexicon, args.queries)
    cache = getattr(backend, "cache", None)
    for _, text in queries[:10]:  # load the vocabulary and facet data, as a server would
        service.search(text)
    runs = {}
    for sort in args.sorts:
        for label, cache_size in (("cold", 0), ("cached", 128)):
            if cache is None and label == "cached":
                continue
            if cache is not None:
                cache.size = cache_size
            repeats = []
            for _ in range(args.repeat):
                wall: dict[str, list[float]] = {}
                cpu: list[float] = []
                for kind, text in queries:
                    t0, c0 = time.perf_counter(), time.process_time()
                    service.search(text, sort=sort)
                    wall.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                every = [t for values in wall.values() for t in values]
                repeats.append((percentile(every, 95), wall, cpu, os.getloadavg()[0]))
            if args.repeat > 1:  # the run with the median p95 is printed in full below
                each = ", ".join(f"{p95:.1f} ms (load {load:.1f})" for p95, *_, load in repeats)
                print(f"{label}, by {sort}: p95 per run {each}")
            _, wall, cpu, _ = sorted(repeats, key=lambda run: run[0])[len(repeats) // 2]
            runs[label if sort == "relevance" else f"{label}, by {sort}"] = (wall, cpu)

    updates, index_writes, restarts = [], [], []
    try:
        from library.search.tasks import request_upkeep
    except ImportError:  # code from before the upkeep task (a "before" run)
        request_upkeep = None
    log = WalLog()
    with upkeep_worker(args.worker):
        for pk in rng.sample(ids, args.saves):
            before = log.salt()  # before this sample's first write, as for the saves
            title = Piece.objects.values_list("title", flat=True).get(pk=pk)
            Piece.objects.filter(pk=pk).update(title=f"{title} revised")  # no signal: timed below
            document = build_document(Piece(pk=pk))
            t0 = time.perf_counter()
            with transaction.atomic():
                backend.add(document)
                if request_upkeep is not None:
                    request_upkeep(backend)  # as library.search.sync does after its writes
                # Without the commit, which a piece's own save pays anyway (with FTS5's
                # segment flush, and on SQLite any automatic WAL checkpoint).
                index_writes.append((time.perf_counter() - t0) * 1000)
            updates.append((time.perf_counter() - t0) * 1000)
            restarts.append(before)
    restarts.append(log.salt())

    from django.conf import settings

    print(f"\n== {name} engine, {count:,} pieces (DEBUG={settings.DEBUG:d}) ==")
    if build_rate != build_rate:  # NaN: --reuse-index kept the index
        print("build:   not measured (--reuse-index kept the index)")
    else:
        print(f"build:   {build_rate:,.0f} pieces/s  (bare tokenisation {bare:,.0f} pieces/s, "
              f"ratio {build_rate / bare:.3f})")  # fmt: skip
    for label, (wall, cpu) in runs.items():
        every = [t for values in wall.values() for t in values]
        print(f"queries ({label}): p50 {percentile(every, 50):.1f} ms, "
              f"p95 {percentile(every, 95):.1f} ms wall; p95 {percentile(cpu, 95):.1f} ms CPU; "
              f"{len(every)} queries with snippets and facets")  # fmt: skip
        for kind, values in wall.items():
            print(f"  {kind:<13} p50 {percentile(values, 50):7.1f} ms   "
                  f"p95 {percentile(values, 95):7.1f} ms")  # fmt: skip
    print(f"update:  p50 {percentile(updates, 50):.2f} ms, p95 {percentile(updates, 95):.2f} ms "
          f"with commit; index write alone p50 {percentile(index_writes, 50):.2f} ms, "
          f"p95 {percentile(index_writes, 95):.2f} ms (one changed piece, {len(updates)} "
          f"samples)")  # fmt: skip
    print_commits("  commit of the update:", updates, index_writes, restarts)
    saves, writes = save_latency(rng, ids, args.saves, args.worker)
    print(f"save:    p50 {percentile(saves, 50):.2f} ms, p95 {percentile(saves, 95):.2f} ms "
          f"(save_piece with byline and tags; {writes:.1f} index writes per save; "
          f"{len(saves)} samples; upkeep worker {'on' if args.worker else 'off'})")  # fmt: skip
    print(f"size:    {backend.size_bytes() / 1e6:,.1f} MB index")
    print(f"load:    {os.getloadavg()[0]:.1f} (1-minute load average on {os.cpu_count()} cores)")


class WalLog:
    """Tells whether SQLite started its WAL over (after a complete checkpoint) between two
    readings: the salt in the WAL file's header changes. Nothing on PostgreSQL."""

    def __init__(self) -> None:
        from django.db import connection

        self.path = None
        if connection.vendor == "sqlite":
            self.path = Path(connection.settings_dict["NAME"] + "-wal")

    def salt(self) -> bytes:
        # The -wal file only (SQLite holds no POSIX locks on it; never open the -shm file:
        # closing it would drop this process's locks there).
        if self.path is None or not self.path.exists():
            return b""
        with self.path.open("rb") as wal:
            return wal.read(24)[16:24]


def print_commits(label: str, totals: list[float], writes: list[float], salts: list[bytes]) -> None:
    """The commit's share of each sample, split by whether a checkpoint ran in it.

    A commit after which the WAL started over (its salt changed before the next sample's
    write; the sample after that one started it over) ran a checkpoint: SQLite's automatic
    one, or the upkeep worker's, which ran beside it.
    """
    commits = [total - write for total, write in zip(totals, writes, strict=True)]
    restarted = [salts[i + 1] != salts[i + 2] if i + 2 < len(salts) else False
                 for i in range(len(commits))]  # fmt: skip
    plain = [c for c, r in zip(commits, restarted, strict=True) if not r]
    marked = [c for c, r in zip(commits, restarted, strict=True) if r]
    line = (f"{label} p50 {percentile(commits, 50):.2f} ms, p95 {percentile(commits, 95):.2f} ms; "
            f"without a WAL restart p95 {percentile(plain, 95):.2f} ms")  # fmt: skip
    if marked:
        line += f"; {len(marked)} followed by a WAL restart, mean {statistics.mean(marked):.2f} ms"
    print(line)


# This run's own tasks (a rebuild's upkeep, the saves' Cite box texts) are the worker's work.
_STARTED = datetime.datetime.now(datetime.UTC)


@contextmanager
def upkeep_worker(on: bool) -> Iterator[None]:
    """``manage.py db_worker`` beside the timed writes, as deployed (it runs the index
    upkeep the saves enqueue: library/search/tasks.py); nothing when ``on`` is false."""
    if not on:
        yield
        return
    from django_tasks_db.models import DBTaskResult

    # Tasks queued by earlier runs on this catalogue (a copy keeps its queue: 1,320 left
    # by the generating run's saves) would run beside the timed writes, each a turn of
    # SQLite's write lock; issue18.sh empties PostgreSQL's queue for the same reason.
    earlier = DBTaskResult.objects.filter(status="READY", enqueued_at__lt=_STARTED)
    left, _ = earlier.delete()
    if left:
        print(f"  removed {left} tasks queued by earlier runs before starting the worker")
    root = Path(__file__).resolve().parents[1]
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload",
         "--interval", "1", "-v", "0"],
        cwd=root, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(2)  # its start-up, not the timed writes, pays for importing Django
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


class SaveStats:
    """What ``save_latency`` saw besides the timings: SQL statements per save (the
    transaction's own BEGIN and COMMIT not counted), the process's CPU time per save."""

    def __init__(self) -> None:
        self.statements: list[int] = []
        self.cpu: list[float] = []
        self.begins: list[float] = []  # SQLite: BEGIN IMMEDIATE, i.e. the write lock's wait

    def line(self, timings: list[float]) -> str:
        slowest = max(range(len(timings)), key=timings.__getitem__)
        counts = sorted(set(self.statements))
        begins = ""
        if any(self.begins):
            waited = sum(b >= 1.0 for b in self.begins)
            begins = (
                f"\n  its BEGIN IMMEDIATE (the wait for SQLite's write lock): "
                f"p50 {percentile(self.begins, 50):.2f} ms, p95 {percentile(self.begins, 95):.2f} "
                f"ms, max {max(self.begins):.1f} ms; {waited} of {len(self.begins)} waited 1 ms "
                "or more (the busy handler's first sleep)"
            )
        return (
            f"  statements per save: mean {statistics.mean(self.statements):.1f} "
            f"(from {counts[0]} to {counts[-1]}); this process's CPU "
            f"p50 {percentile(self.cpu, 50):.2f} ms, p95 {percentile(self.cpu, 95):.2f} ms; "
            f"largest save {timings[slowest]:.1f} ms "
            f"(sample {slowest + 1} of {len(timings)}); saves over 50 ms: "
            f"{sum(t > 50 for t in timings)}; load {os.getloadavg()[0]:.1f}{begins}"
        )


def timed(call, into: list[float]):
    """``call`` with each call's wall time in ms appended to ``into``."""

    def run():
        t0 = time.perf_counter()
        try:
            return call()
        finally:
            into.append((time.perf_counter() - t0) * 1000)

    return run


def save_latency(
    rng: random.Random,
    ids: list[int],
    n: int = 200,
    worker: bool = False,
    stats: SaveStats | None = None,
) -> tuple[list[float], float]:
    """Wall time of ``save_piece`` on existing pieces, and index writes per save."""
    from library.catalogue.authors import AuthorSpec
    from library.catalogue.models import Piece
    from library.catalogue.services import PieceContributors, PieceTags, save_piece
    from library.search import sync

    writes = 0
    original = sync._write

    def counting(backend, piece_ids):
        nonlocal writes
        writes += len(piece_ids)
        return original(backend, piece_ids)

    sync._write = counting
    timings, commits, salts, saved_commits = [], [], [], []
    from django.db import connection

    log = WalLog()
    connection._commit = timed(connection._commit, commits)  # the save's own commit, alone
    begins: list[float] = []
    begin = getattr(connection, "_start_transaction_under_autocommit", None)
    if connection.vendor == "sqlite" and begin is not None:
        connection._start_transaction_under_autocommit = timed(begin, begins)  # the lock's wait
    stats = stats or SaveStats()
    statements = 0

    def counted(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    try:
        with upkeep_worker(worker), connection.execute_wrapper(counted):
            for pk in rng.sample(ids, n):
                piece = Piece.objects.get(pk=pk)
                piece.title = f"{piece.title} edited"
                contributors = PieceContributors(
                    authors=[AuthorSpec(given=a.given, family=a.family) for a in piece.authors]
                )
                topics, regions = list(piece.topics.all()), list(piece.regions.all())
                tags = PieceTags(topics=topics, regions=regions)
                salts.append(log.salt())
                commits.clear()
                begins.clear()
                statements = 0
                t0, c0 = time.perf_counter(), time.process_time()
                save_piece(piece, contributors, tags)
                timings.append((time.perf_counter() - t0) * 1000)
                stats.cpu.append((time.process_time() - c0) * 1000)
                stats.statements.append(statements)
                stats.begins.append(sum(begins))
                saved_commits.append(sum(commits))
        salts.append(log.salt())
    finally:
        sync._write = original
        del connection._commit
        connection.__dict__.pop("_start_transaction_under_autocommit", None)
    print_commits(
        "  commit of the save:",
        timings,
        [t - c for t, c in zip(timings, saved_commits, strict=True)],
        salts,
    )
    print(stats.line(timings))
    return timings, writes / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pieces", type=int, nargs="+", default=[10_000])
    parser.add_argument("--engines", nargs="+", default=["database", "whoosh"])
    parser.add_argument("--queries", type=int, default=210)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time the query mix this many times and print the run with the median p95",
    )
    parser.add_argument(
        "--sorts",
        nargs="+",
        default=["relevance"],
        choices=["relevance", "newest", "oldest", "title", "author"],
        help="time the query mix in each of these orders (the search page's sort=)",
    )
    parser.add_argument(
        "--save-only", action="store_true", help="only time save_piece (index must exist)"
    )
    parser.add_argument(
        "--saves", type=int, default=200, help="samples for the update: and save: lines"
    )
    parser.add_argument(
        "--worker",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run manage.py db_worker beside the timed writes, as deployed: it merges the "
        "index (SQLite) or its GIN pending lists (PostgreSQL) when saves ask, and formats "
        "the saved pieces' citations (default: on for SQLite, off with --postgres, whose "
        "database other work may share: its queued tasks would run too)",
    )
    parser.add_argument("--db-dir", default=tempfile.mkdtemp(prefix="dossier-search-bench-"))
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="use the PostgreSQL database in DATABASE_URL instead of a scratch SQLite file "
        "(bash scripts/pg-cluster.sh run -- .venv/bin/python benchmarks/search.py --postgres "
        "--engines database); one --pieces value, and the database must be empty "
        "unless --reuse",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --postgres: keep the pieces already in the database (from an earlier run "
        "against a cluster kept by `pg-cluster.sh start DIR`) instead of generating them",
    )
    parser.add_argument(
        "--reuse-index",
        action="store_true",
        help="also keep the search index if it has rows (build rate not measured)",
    )
    args = parser.parse_args()
    postgres_url = os.environ.get("DATABASE_URL", "") if args.postgres else ""
    if args.postgres and (not postgres_url.startswith("postgres") or len(args.pieces) != 1):
        parser.error("--postgres needs DATABASE_URL=postgres://… and a single --pieces value")
    Path(args.db_dir).mkdir(parents=True, exist_ok=True)
    if args.worker is None:
        args.worker = not args.postgres

    for count in args.pieces:
        path = Path(args.db_dir) / f"bench-{count}.sqlite3"
        fresh = not args.reuse if args.postgres else not path.exists()
        os.environ["DATABASE_URL"] = postgres_url or f"sqlite:///{path}"
        django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
        from django.core.management import call_command
        from django.db import connections

        connections["default"].close()
        if not args.postgres:
            connections["default"].settings_dict["NAME"] = str(path)
        rng = random.Random(SEED)
        lexicon = build_lexicon(rng)
        if not fresh:
            call_command("migrate", verbosity=0)  # a migration newer than the catalogue
        if fresh:
            t0 = time.perf_counter()
            call_command("migrate", verbosity=0)
            from library.catalogue.vocabulary import load_vocabulary

            load_vocabulary()
            generate(count, rng, lexicon)
            where = "PostgreSQL" if args.postgres else path
            print(f"generated {count:,} pieces in {time.perf_counter() - t0:.0f} s at {where}")
        for engine in args.engines:
            if args.save_only:
                from django.conf import settings

                from library.catalogue.models import Piece

                settings.SEARCH_BACKEND = engine
                saves, writes = save_latency(
                    random.Random(SEED + 2),
                    list(Piece.objects.values_list("pk", flat=True)),
                    args.saves,
                    args.worker,
                )
                p50, p95 = percentile(saves, 50), percentile(saves, 95)
                print(f"{engine}, {count:,} pieces: save p50 {p50:.2f} ms, p95 {p95:.2f} ms; "
                      f"{writes:.1f} index writes per save")  # fmt: skip
                continue
            bench_engine(engine, args, random.Random(SEED + 1), lexicon, count)


if __name__ == "__main__":
    main()
