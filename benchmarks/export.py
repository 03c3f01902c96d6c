"""Export throughput: records per second for each citation format, and streaming memory.

Standalone (no Django): ``python benchmarks/export.py [--records N] [--runs R]``.
Generates N synthetic records deterministically (a seeded RNG; names and titles with
diacritics, LaTeX specials and acronyms, every piece type), times each writer over them
R times and prints the median rate, then measures peak traced memory while streaming the
BibTeX export to /dev/null, which should stay flat as N grows.

The writers are given the shipped vocabulary's region and topic names and aliases as proper
nouns, as the catalogue gives them its own (``catalogue/proper_nouns.py``, a few hundred
fewer topics): without them a benchmark missed title protection recompiling ~1,400
patterns per entry. ``--no-vocabulary`` times the writers without.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from library.citations.formats import WRITERS, get_writer
from library.citations.records import PIECE_TYPES, CitationRecord, Name

FAMILIES = ["Basit", "Nguyễn", "Ḥasan", "Wæver", "Marks", "Creveld", "Ó Súilleabháin", "Łukasz"]
GIVENS = ["Abdul", "Thị Minh", "ʿAbd al-Raḥmān", "Ole", "Zoë", "Martin", "Siobhán", "Anna"]
WORDS = ["Mosul", "ASEAN", "COVID-19", "security", "terrorism", "R&D", "100%", "maritime", "the"]


def synthetic_records(count: int, seed: int = 2016) -> Iterator[CitationRecord]:
    """Deterministic records, generated lazily so the generator itself costs no memory."""
    rng = random.Random(seed)
    for index in range(count):
        authors = tuple(
            Name(family=rng.choice(FAMILIES), given=rng.choice(GIVENS))
            for _ in range(rng.randint(0, 3))
        )
        month = rng.choice([None, rng.randint(1, 12)])
        yield CitationRecord(
            key=f"k{index:06d}",
            type=PIECE_TYPES[index % len(PIECE_TYPES)],
            title=" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 10))).capitalize(),
            authors=authors,
            year=rng.randint(1990, 2025),
            month=month,
            day=rng.randint(1, 28) if month else None,
            publisher="S. Rajaratnam School of International Studies",
            place="Singapore",
            series="RSIS Commentaries",
            number=f"{index}/2016",
            container_title="Security Dialogue",
            pages=f"{index % 300}–{index % 300 + 20}",
            url=f"https://example.org/pieces/{index}?a=1&b=_{index}",
            abstract="An abstract with & and % and <b>markup</b>. " * 3,
            keywords=("Islamic State", "Iraq"),
        )


def shipped_vocabulary() -> tuple[str, ...]:
    """Every name and alias in the vocabulary files the catalogue loads."""
    data = Path(__file__).resolve().parents[1] / "library" / "catalogue" / "data"
    entries = json.loads((data / "topics.json").read_text(encoding="utf-8"))
    for group in json.loads((data / "regions.json").read_text(encoding="utf-8")).values():
        entries.extend(group.values() if isinstance(group, dict) else group)  # countries by code
    names = {name for entry in entries for name in (entry["name"], *entry.get("aliases", []))}
    return tuple(sorted(names, key=lambda n: (-len(n), n)))


def export_rate(
    name: str, records: list[CitationRecord], runs: int, vocabulary: tuple[str, ...]
) -> float:
    """Median records per second over ``runs`` complete exports."""
    timings = []
    for _ in range(runs):
        writer = get_writer(name, vocabulary)
        start = time.perf_counter()
        for _chunk in writer.write(records):
            pass
        timings.append(time.perf_counter() - start)
    return len(records) / statistics.median(timings)


def streaming_peak(count: int) -> int:
    """Peak traced bytes while streaming ``count`` lazily made records to /dev/null."""
    writer = get_writer("bibtex")
    next(writer.write(synthetic_records(1)))  # warm caches (encoder tables) before tracing
    tracemalloc.start()
    with open("/dev/null", "w", encoding="utf-8") as sink:
        for chunk in writer.write(synthetic_records(count)):
            sink.write(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-vocabulary", action="store_true", help="no proper nouns")
    args = parser.parse_args()

    records = list(synthetic_records(args.records))
    vocabulary = () if args.no_vocabulary else shipped_vocabulary()
    print(
        f"{args.records} synthetic records, {len(vocabulary)} proper nouns, "
        f"median of {args.runs} runs"
    )
    for name in WRITERS:
        rate = export_rate(name, records, args.runs, vocabulary)
        print(f"  {name:9} {rate:>10,.0f} records/s")
    for count in (args.records // 10, args.records):
        peak = streaming_peak(count)
        print(f"  bibtex streamed to /dev/null: {count:>6} records, peak {peak / 1024:,.0f} KiB")


if __name__ == "__main__":
    main()
