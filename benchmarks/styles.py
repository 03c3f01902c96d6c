"""The style chooser's costs: the index of bundled CSL styles, a search, formatting.

Standalone (no Django): ``python benchmarks/styles.py [--runs R]``. Prints, with the load
average: listing the style ids (all a request that only validates ``?style=`` pays), building
the full index of ~10,800 ``<info>`` blocks (once per process, on the first search), the
median of R searches, and one entry formatted in a default, an independent and a dependent
style (each style's first use parses it; later uses hit the cache).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from library.citations import style_index
from library.citations.records import CitationRecord, Name
from library.citations.styles import format_bibliography

RECORD = CitationRecord(
    key="franco2017marawi",
    type="web_article",
    title="The Battle for Marawi: Three Months On",
    authors=(Name(family="Franco", given="Joseph"),),
    container_title="The Asia Dialogue",
    year=2017,
)
QUERIES = ["chicago", "nature biotechnology", "harvard", "universitat", "journal of"]


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ids = timed(style_index._ids)
    print(f"list style ids ({len(style_index._ids())} files): {ids * 1000:.0f} ms")
    build = timed(style_index.all_styles)
    styles = style_index.all_styles()
    dependent = sum(info.dependent for info in styles)
    print(
        f"build the index: {build:.2f} s for {len(styles)} styles with a bibliography "
        f"({dependent} dependent, {len(style_index._ids()) - len(styles)} without one)"
    )
    timed(style_index._haystacks)  # folded titles, built with the first search
    for query in QUERIES:
        times = [timed(lambda q=query: style_index.search_styles(q)) for _ in range(runs)]
        total = style_index.search_styles(query)[1]
        print(f"search {query!r}: {statistics.median(times) * 1000:.1f} ms median, {total} found")
    for style_id in ("chicago-author-date", "nature", "nature-biotechnology"):
        first = timed(lambda s=style_id: format_bibliography([RECORD], s))
        later = [timed(lambda s=style_id: format_bibliography([RECORD], s)) for _ in range(runs)]
        median = statistics.median(later)
        print(
            f"format one entry in {style_id}: first {first * 1000:.0f} ms, then "
            f"{median * 1000:.1f} ms median ({first / median:.1f}x)"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
