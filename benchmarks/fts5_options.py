"""FTS5's own table options compared on one catalogue: build rate, size, per-class query time.

``python benchmarks/fts5_options.py --db FILE [--variants full columnsize0 ...] [--runs 3]
[--ids-pass] [--side-copy]``

FILE is a catalogue benchmarks/search.py generated and indexed (``bench-100000.sqlite3``).
Each variant is an FTS5 table over the same five columns (title, authors, tags, synopsis,
body; the engine's tokenizer), built in a scratch database next to FILE from the indexed
text (``INSERT … SELECT`` from ``search_piece_fts``, with the bulk settings
``rebuild_index`` uses), so the build rate is FTS5's own share of a rebuild (no Python
document building), comparable between variants, not with ``rebuild_index``'s figure.

Queries are benchmarks/search.py's 210-query mix compiled by the engine's compiler; per
class the script times, median of ``--runs`` runs per query, the two statements every
search runs on the full table: every matching id (the count and facets) and the top 20 by
BM25 (weights as the engine's), plus snippets of those 20 where the variant keeps its
text. A variant that cannot run a query (``detail=column``/``none`` and phrases) says so
and counts the candidates an AND of the phrase's words gives, which a recheck would read.
The 1-minute load average is printed with every figure.

``--ids-pass`` times only the engine's ids pass (``backend._match_ids``: every matching id,
as one ``group_concat`` parsed by numpy) per query, on today's table and on each variant,
process time and wall, median of ``--runs``; it checks that the variant gives the same ids
for every query it can answer, and counts per class the queries it cannot (phrases and
aliases of several words for ``detail=none``/``column``; column filters such as
``author:`` for ``detail=none``), which would fall back to today's table. The ``ids_*``
variants are ids-only tables (contentless, no column sizes, no ranking) meant to sit beside
today's table for that pass. ``--side-copy`` measures what the indexed text would take
compressed (zlib, zstd) as a side table a contentless or external-content FTS table could
read snippets from: each row's five columns, digest and fold flag as one compressed value.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import re
import sqlite3
import statistics
import sys
import time
import zlib
from pathlib import Path

import numpy as np
from deployed import django_as_deployed
from figures import percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLUMNS = "title, authors, tags, synopsis, body"
TOKENIZER = "tokenize='porter unicode61 remove_diacritics 2'"
WEIGHTS = "10.0, 5.0, 4.0, 2.0, 1.0"
VARIANTS = {
    "full": "",
    "columnsize0": ", columnsize=0",
    "detail_column": ", detail=column",
    "detail_none": ", detail=none",
    "prefix4": ", prefix='4'",
    "prefix23": ", prefix='2 3'",
    "contentless": ", content=''",
    "contentless_column": ", content='', detail=column",
    "pgsz16k": "",
    "pgsz64k": "",
    # ids-only tables for the ids pass, beside today's table (--ids-pass).
    "ids_none": ", content='', detail=none, columnsize=0",
    "ids_none_prefix4": ", content='', detail=none, columnsize=0, prefix='4'",
    # porter stems some 4-letter query prefixes to 3 letters (``ines*`` -> ``ine``)
    "ids_none_prefix34": ", content='', detail=none, columnsize=0, prefix='3 4'",
    "ids_column": ", content='', detail=column, columnsize=0",
}
# Options FTS5 keeps in its config table (set before the load): ``pgsz`` is the size of
# a leaf page of the inverted index (default 4,050 bytes, one database page): a common
# word's doclist then spans fewer rows of ``%_data``, each read with one b-tree seek.
CONFIG = {"pgsz16k": {"pgsz": 16_000}, "pgsz64k": {"pgsz": 64_000}}
TRIGRAM = "trigram_head"  # a trigram table over the short fields, for prefixes
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')  # one FTS5 string, as the compiler writes them


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def build(db: sqlite3.Connection, name: str, options: str) -> tuple[float, float, float, float]:
    """Create, fill and optimize variant ``name``.

    Returns the load's documents per second (wall, and of process CPU), the ``optimize``
    (one segment, as ``rebuild_index`` leaves its tables) in seconds, and the size in MB.
    """
    db.execute(f"DROP TABLE IF EXISTS v.{name}")
    if name == TRIGRAM:
        columns = f"CREATE VIRTUAL TABLE v.{name} USING fts5(title, authors, tags, synopsis"
        try:
            db.execute(f"{columns}, content='', tokenize='trigram remove_diacritics 1')")
        except sqlite3.OperationalError:
            # The trigram tokenizer's remove_diacritics came in SQLite 3.45.
            print(f"  (SQLite {sqlite3.sqlite_version}: trigram without remove_diacritics)")
            db.execute(f"{columns}, content='', tokenize='trigram')")
        source = "rowid, title, authors, tags, synopsis"
        target = "rowid, title, authors, tags, synopsis"
    else:
        db.execute(f"CREATE VIRTUAL TABLE v.{name} USING fts5({COLUMNS}, {TOKENIZER}{options})")
        source = target = f"rowid, {COLUMNS}"
    bulk = {"hashsize": 64 * 1024 * 1024, "automerge": 16, **CONFIG.get(name, {})}
    for option, value in bulk.items():
        db.execute(f"INSERT INTO v.{name}({name}, rank) VALUES (?, ?)", [option, value])
    started, cpu = time.perf_counter(), time.process_time()
    with db:
        count = db.execute(
            f"INSERT INTO v.{name}({target}) SELECT {source} FROM main.search_piece_fts"
        ).rowcount
    rate = count / (time.perf_counter() - started)
    cpu_rate = count / (time.process_time() - cpu)
    started = time.perf_counter()
    with db:
        db.execute(f"INSERT INTO v.{name}({name}) VALUES ('optimize')")
    optimized = time.perf_counter() - started
    size = db.execute(
        "SELECT sum(pgsize) FROM dbstat('v') WHERE name = ? OR name LIKE ? ESCAPE '\\'",
        [name, f"{name}\\_%"],
    ).fetchone()[0]
    return rate, cpu_rate, optimized, (size or 0) / 1e6


def timed(db: sqlite3.Connection, sql: str, params: list) -> tuple[float, list]:
    started = time.perf_counter()
    rows = db.execute(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000, rows


def run_queries(db, name: str, options: str, compiled: list, runs: int) -> dict:
    """Per class: list of per-query median ms (ids + top 20 + snippets), and notes."""
    snippets = "content=''" not in options and name != TRIGRAM
    per_class: dict[str, list[float]] = {}
    notes: dict[str, str] = {}
    refused: dict[str, int] = {}
    for kind, match, _ in compiled:
        if match is None:
            continue
        expression = match
        if "detail=" in options and any(" " in q.strip() for q in _QUOTED.findall(match)):
            # No positions: every phrase (a quoted string of several words, aliases
            # included) becomes the AND of its words, which a recheck would then read.
            expression = _QUOTED.sub(_words_and, match)
            notes[kind] = "phrases (aliases too) timed as the AND of their words, before a recheck"
        times = []
        for _ in range(runs):
            rank = f"bm25({name}, {WEIGHTS})"
            try:
                t_ids, ids = timed(
                    db, f"SELECT rowid FROM v.{name} WHERE {name} MATCH ?", [expression]
                )
                t_top, top = timed(
                    db,
                    f"SELECT rowid FROM v.{name} WHERE {name} MATCH ? ORDER BY {rank} LIMIT 20",
                    [expression],
                )
            except sqlite3.OperationalError as exc:
                # e.g. detail=none refuses column filters (author:): named, not timed.
                refused[kind] = refused.get(kind, 0) + 1
                notes[f"{kind} refused"] = f"{refused[kind]} not run: {exc}"
                break
            t_snip = 0.0
            if snippets and top:
                marks = ", ".join("?" * len(top))
                t_snip, _ = timed(
                    db,
                    f"SELECT snippet({name}, -1, '[', ']', '…', 24) FROM v.{name} "
                    f"WHERE {name} MATCH ? AND rowid IN ({marks})",
                    [expression, *[r[0] for r in top]],
                )
            times.append(t_ids + t_top + t_snip)
            if len(ids) == 0 and not top:
                break
        if times:
            per_class.setdefault(kind, []).append(statistics.median(times))
    return {"classes": per_class, "notes": notes}


def _ids(db: sqlite3.Connection, table: str, expression: str) -> tuple[float, float, np.ndarray]:
    """The engine's ids pass on ``table`` (schema-qualified): (wall ms, CPU ms, ids)."""
    name = table.split(".")[-1]
    started, cpu = time.perf_counter(), time.process_time()
    text = db.execute(
        f"SELECT group_concat(m.id) FROM (SELECT rowid AS id FROM {table} WHERE {name} MATCH ?) m",
        [expression],
    ).fetchone()[0]
    ids = np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, np.int64)
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, ids


def ids_pass(db: sqlite3.Connection, name: str, compiled: list, runs: int) -> dict:
    """Per class: each query's ids pass on today's table and on variant ``name``.

    The two statements alternate within each run (same cache state for both). A query the
    variant refuses (FTS5: "… queries are not supported") falls back to today's table and
    is counted with FTS5's reason; for every other query the two id sets must be equal,
    else the script stops naming the query.
    """
    per_class: dict[str, list[dict]] = {}
    for kind, match, _ in compiled:
        if match is None:
            per_class.setdefault(kind, []).append({"no match": True})
            continue
        full, variant, refused = [], [], ""
        for _ in range(runs):
            wall, cpu, expected = _ids(db, "main.search_piece_fts", match)
            full.append((wall, cpu))
            if refused:
                continue
            try:
                v_wall, v_cpu, got = _ids(db, f"v.{name}", match)
            except sqlite3.OperationalError as exc:
                if "not supported" not in str(exc):
                    raise
                refused = str(exc).removeprefix("fts5: ")
                continue
            if not np.array_equal(np.sort(expected), np.sort(got)):
                raise SystemExit(
                    f"{name}: {kind} query {match!r} gave {len(got):,} ids, "
                    f"today's table {len(expected):,}"
                )
            variant.append((v_wall, v_cpu))
        row = {
            "ids": len(expected),
            "full": statistics.median(w for w, _ in full),
            "full cpu": statistics.median(c for _, c in full),
        }
        if refused:
            row["refused"] = refused
        else:
            row["variant"] = statistics.median(w for w, _ in variant)
            row["variant cpu"] = statistics.median(c for _, c in variant)
        per_class.setdefault(kind, []).append(row)
    return per_class


def print_ids_pass(per_class: dict[str, list[dict]]) -> None:
    """Per class and for the whole mix: today's table, the variant over the queries it
    answers, and the mix as routed (the variant where it answers, today's table else)."""
    every: dict[str, list[float]] = {"full": [], "routed": [], "full cpu": [], "routed cpu": []}
    answered_all = timed_all = 0
    print(
        "  ids pass alone, ms, median of runs per query (wall; CPU p95 in brackets):\n"
        f"  {'class':13} answered  {'today p50 / p95':>22}  {'variant p50 / p95':>22}"
        f"  {'routed p50 / p95':>22}"
    )
    for kind, rows in per_class.items():
        timed = [r for r in rows if "full" in r]
        answered = [r for r in timed if "variant" in r]
        routed = [r.get("variant", r["full"]) for r in timed]
        routed_cpu = [r.get("variant cpu", r["full cpu"]) for r in timed]
        answered_all += len(answered)
        timed_all += len(timed)
        every["full"] += [r["full"] for r in timed]
        every["full cpu"] += [r["full cpu"] for r in timed]
        every["routed"] += routed
        every["routed cpu"] += routed_cpu

        def cell(values: list[float], cpu: list[float]) -> str:
            if not values:
                return f"{'-':>22}"
            text = f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f}"
            return f"{text} ({percentile(cpu, 95):.1f})".rjust(22)

        print(
            f"  {kind:13} {len(answered):3} of {len(timed):2}"
            f"  {cell([r['full'] for r in timed], [r['full cpu'] for r in timed])}"
            f"  {cell([r['variant'] for r in answered], [r['variant cpu'] for r in answered])}"
            f"  {cell(routed, routed_cpu)}"
        )
        reasons: dict[str, int] = {}
        for r in timed:
            if "refused" in r:
                reasons[r["refused"]] = reasons.get(r["refused"], 0) + 1
        for reason, n in reasons.items():
            print(f"  {'':13} {n} fall back: {reason}")
        if len(timed) < len(rows):
            print(f"  {'':13} {len(rows) - len(timed)} with no MATCH (no ids pass)")
    full, routed = every["full"], every["routed"]
    print(
        f"  all: {answered_all} of {timed_all} answered (same ids as today's table for each); "
        f"today p50 / p95 {percentile(full, 50):.1f} / {percentile(full, 95):.1f} ms "
        f"(CPU p95 {percentile(every['full cpu'], 95):.1f}), routed "
        f"{percentile(routed, 50):.1f} / {percentile(routed, 95):.1f} ms "
        f"(CPU p95 {percentile(every['routed cpu'], 95):.1f}); {load()}"
    )


def side_copy(db: sqlite3.Connection) -> None:
    """What the indexed text takes compressed, as a side table for snippets.

    One row per piece: the digest and fold flag (which ``check_index`` and the snippets
    read today from the FTS table's own content) and the five columns joined by U+001F,
    compressed as one value (zlib level 6, zstd level 3 and 9), written to a scratch table
    whose ``dbstat`` size is the figure (pages and overflow included), beside the bare sum
    of the compressed values. Also the median time to decompress one row (a page of
    snippets decompresses 20).
    """
    import zstandard  # requirements-dev.txt: this measurement only

    codecs = {
        "zlib6": lambda data: zlib.compress(data, 6),
        "zstd3": zstandard.ZstdCompressor(level=3).compress,
        "zstd9": zstandard.ZstdCompressor(level=9).compress,
    }
    inflate = {
        "zlib6": zlib.decompress,
        "zstd3": zstandard.ZstdDecompressor().decompress,
        "zstd9": zstandard.ZstdDecompressor().decompress,
    }
    raw = 0
    summed = dict.fromkeys(codecs, 0)
    spent = dict.fromkeys(codecs, 0.0)
    for codec in codecs:
        db.execute(f"DROP TABLE IF EXISTS v.side_{codec}")
        db.execute(
            f"CREATE TABLE v.side_{codec} (id INTEGER PRIMARY KEY, digest TEXT NOT NULL, "
            "folded INTEGER NOT NULL, text BLOB NOT NULL)"
        )
    rows = db.execute(
        "SELECT rowid, digest, folded, title, authors, tags, synopsis, body "
        "FROM main.search_piece_fts ORDER BY rowid"
    )
    with db:
        while batch := rows.fetchmany(2_000):
            texts = [(r[:3], "\x1f".join(c or "" for c in r[3:]).encode()) for r in batch]
            raw += sum(len(data) for _, data in texts)
            for codec, compress in codecs.items():
                cpu = time.process_time()
                packed = [(*head, compress(data)) for head, data in texts]
                spent[codec] += time.process_time() - cpu
                summed[codec] += sum(len(p[3]) for p in packed)
                db.executemany(f"INSERT INTO v.side_{codec} VALUES (?, ?, ?, ?)", packed)
    print("\n== side copy of the indexed text (five columns, digest, fold flag) ==")
    print(f"  uncompressed text {raw / 1e6:,.1f} MB (the FTS table's content stores it as columns)")
    for codec in codecs:
        size = db.execute(
            "SELECT sum(pgsize) FROM dbstat('v') WHERE name = ?", [f"side_{codec}"]
        ).fetchone()[0]
        sample = [
            row[0]
            for row in db.execute(f"SELECT text FROM v.side_{codec} ORDER BY random() LIMIT 200")
        ]
        times = []
        for blob in sample:
            started = time.perf_counter()
            inflate[codec](blob)
            times.append((time.perf_counter() - started) * 1e6)
        print(
            f"  {codec}: table {size / 1e6:,.1f} MB (values {summed[codec] / 1e6:,.1f} MB, "
            f"{raw / summed[codec]:.2f}x), compressing {spent[codec]:.1f} s CPU, "
            f"one row back {statistics.median(times):.0f} µs; {load()}"
        )
        db.execute(f"DROP TABLE v.side_{codec}")
    db.commit()


def _words_and(quoted: re.Match) -> str:
    words = quoted.group(1).split()
    return quoted.group(0) if len(words) < 2 else "(" + " AND ".join(f'"{w}"' for w in words) + ")"


def compile_mix(count: int, queries: int) -> list[tuple[str, str | None, list[str]]]:
    """benchmarks/search.py's mix, compiled by the engine (kind, MATCH text, phrase words)."""
    django_as_deployed()  # DEBUG=0: benchmarks/deployed.py
    from library.search.backends.database.sqlite.compiler import compile_query
    from library.search.query import parse_query
    from library.search.vocab import Vocabulary

    spec = importlib.util.spec_from_file_location("search_bench", ROOT / "benchmarks/search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lexicon = bench.build_lexicon(random.Random(bench.SEED))
    mix = bench.query_mix(random.Random(bench.SEED + count), lexicon, queries)
    vocabulary = Vocabulary.load()
    compiled = []
    for kind, text in mix:
        parsed = parse_query(text)
        words = [w.lower() for w in text.strip('"').split()] if kind == "phrase" else []
        compiled.append((kind, compile_query(parsed.root, vocabulary).match, words))
    return compiled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--variants", nargs="+", default=[*VARIANTS, TRIGRAM])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=210)
    parser.add_argument(
        "--ids-pass",
        action="store_true",
        help="time the ids pass alone, today's table against each variant (same ids checked)",
    )
    parser.add_argument(
        "--side-copy",
        action="store_true",
        help="measure the indexed text compressed (zlib, zstd) as a side table, first",
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db.resolve()}"
    count = int(args.db.stem.split("-")[-1])
    compiled = compile_mix(count, args.queries)
    scratch = args.db.with_name(f"fts5-options-{count}.sqlite3")
    db = sqlite3.connect(args.db)
    db.execute("ATTACH ? AS v", [str(scratch)])
    db.execute("PRAGMA v.journal_mode = WAL")
    print(f"{args.db.name}: {count:,} pieces; scratch tables in {scratch.name}; {load()}")
    if args.side_copy:
        side_copy(db)
    for name in args.variants:
        options = VARIANTS.get(name, "")
        rate, cpu_rate, optimized, size = build(db, name, options)
        described = options.lstrip(", ") or ", ".join(
            f"{k}={v}" for k, v in CONFIG.get(name, {}).items()
        )
        print(f"\n== {name} ({described or 'defaults'}) ==")
        print(
            f"  build {rate:,.0f} docs/s wall, {cpu_rate:,.0f} of CPU (FTS5 alone), "
            f"optimize {optimized:.1f} s, size {size:,.1f} MB; {load()}"
        )
        if args.ids_pass and name != TRIGRAM:
            print_ids_pass(ids_pass(db, name, compiled, args.runs))
        elif name == TRIGRAM:
            prefixes = [(k, m, w) for k, m, w in compiled if k == "prefix"]
            times = []
            for _, match, _ in prefixes:
                stem = match.strip('"*').rstrip('"')
                runs = [
                    timed(db, f"SELECT rowid FROM v.{name} WHERE {name} MATCH ?", [f'"{stem}"'])[0]
                    for _ in range(args.runs)
                ]
                times.append(statistics.median(runs))
            print(
                f"  prefix as substring ids: p50 {percentile(times, 50):.1f} ms, "
                f"p95 {percentile(times, 95):.1f} ms (substrings anywhere, unstemmed: "
                f"not the same matches as a prefix); {load()}"
            )
        elif not args.ids_pass:
            result = run_queries(db, name, options, compiled, args.runs)
            every = [t for ts in result["classes"].values() for t in ts]
            print(
                f"  all: p50 {percentile(every, 50):.1f} ms, p95 {percentile(every, 95):.1f} ms "
                f"(ids + top 20 by BM25 + snippets); {load()}"
            )
            for kind, ts in result["classes"].items():
                note = "; ".join(
                    text
                    for key in (kind, f"{kind} refused")
                    if (text := result["notes"].get(key, ""))
                )
                print(
                    f"  {kind:13} p50 {percentile(ts, 50):7.1f}  p95 {percentile(ts, 95):7.1f} ms"
                    + (f"   ({note})" if note else "")
                )
        db.execute(f"DROP TABLE v.{name}")
        db.commit()
    db.close()
    scratch.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
