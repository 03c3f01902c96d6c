"""FTS5's own table options compared on one catalogue: build rate, size, per-class query time.

``python benchmarks/fts5_options.py --db FILE [--variants full columnsize0 ...] [--runs 3]``

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
from pathlib import Path

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
}
# Options FTS5 keeps in its config table (set before the load): ``pgsz`` is the size of
# a leaf page of the inverted index (default 4,050 bytes, one database page): a common
# word's doclist then spans fewer rows of ``%_data``, each read with one b-tree seek.
CONFIG = {"pgsz16k": {"pgsz": 16_000}, "pgsz64k": {"pgsz": 64_000}}
TRIGRAM = "trigram_head"  # a trigram table over the short fields, for prefixes
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')  # one FTS5 string, as the compiler writes them


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def build(db: sqlite3.Connection, name: str, options: str) -> tuple[float, float]:
    """Create and fill variant ``name``; (documents per second, MB)."""
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
    started = time.perf_counter()
    with db:
        count = db.execute(
            f"INSERT INTO v.{name}({target}) SELECT {source} FROM main.search_piece_fts"
        ).rowcount
    rate = count / (time.perf_counter() - started)
    size = db.execute(
        "SELECT sum(pgsize) FROM dbstat('v') WHERE name = ? OR name LIKE ? ESCAPE '\\'",
        [name, f"{name}\\_%"],
    ).fetchone()[0]
    return rate, (size or 0) / 1e6


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


def _words_and(quoted: re.Match) -> str:
    words = quoted.group(1).split()
    return quoted.group(0) if len(words) < 2 else "(" + " AND ".join(f'"{w}"' for w in words) + ")"


def compile_mix(count: int, queries: int) -> list[tuple[str, str | None, list[str]]]:
    """benchmarks/search.py's mix, compiled by the engine (kind, MATCH text, phrase words)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings")
    import django

    django.setup()
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
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db.resolve()}"
    count = int(args.db.stem.split("-")[-1])
    compiled = compile_mix(count, args.queries)
    scratch = args.db.with_name(f"fts5-options-{count}.sqlite3")
    db = sqlite3.connect(args.db)
    db.execute("ATTACH ? AS v", [str(scratch)])
    db.execute("PRAGMA v.journal_mode = WAL")
    print(f"{args.db.name}: {count:,} pieces; scratch tables in {scratch.name}; {load()}")
    for name in args.variants:
        options = VARIANTS.get(name, "")
        rate, size = build(db, name, options)
        described = options.lstrip(", ") or ", ".join(
            f"{k}={v}" for k, v in CONFIG.get(name, {}).items()
        )
        print(f"\n== {name} ({described or 'defaults'}) ==")
        print(f"  build {rate:,.0f} docs/s (FTS5 alone), size {size:,.1f} MB; {load()}")
        if name == TRIGRAM:
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
        else:
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
