"""Formatting one entry at a time, with and without ``library/citations/citeproc_lookups.py``.

Standalone (no database): ``python benchmarks/citeproc_lookups.py [--bib FILE] [--rounds 5]
[--styles ID ...]``. Reads the entries of a real ``.bib`` file with our reader (by default
TeX Live's ``biblatex-examples.bib``, found with ``kpsewhich``), then formats each entry on
its own, as the Cite box and a reading list do, in each style, the two codes alternating
round by round in this process:

* ``citeproc's own``: citeproc-py's XPath search and ``CitationItem.reference``, and a
  style whose elements are not pinned (the code before ``citeproc_lookups``);
* ``remembered``: the library as it is.

Each style is parsed and used once before timing, in each code. Prints per style and code
the CPU p50 / p95 / mean per entry over every round, the ratio of the p50s, how many
entries came out different between the two codes (none, or it is a bug), and the load.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citeproc import CitationItem
from citeproc import model as citeproc_model
from figures import load_average, percentile

from library.citations import citeproc_lookups, styles
from library.citations.readers.bibtex import read_bibtex
from library.citations.styles import STYLES, format_bibliography

#: The styles citeproc's own code keeps between rounds, parsed once like the library's.
_own_styles: OrderedDict = OrderedDict()


@contextlib.contextmanager
def citeproc_own() -> Iterator[None]:
    """citeproc-py's own look-ups, styles kept per thread but not pinned."""
    saved = (
        citeproc_model.CitationStylesElement.xpath_search,
        CitationItem.__dict__["reference"],
        citeproc_lookups.pin_elements,
        getattr(styles._parsed, "styles", None),
    )
    citeproc_model.CitationStylesElement.xpath_search = citeproc_lookups.citeproc_xpath_search
    CitationItem.reference = citeproc_lookups.citeproc_reference
    citeproc_lookups.pin_elements = lambda style: None  # type: ignore[assignment]
    styles._parsed.styles = _own_styles
    try:
        yield
    finally:
        citeproc_model.CitationStylesElement.xpath_search = saved[0]
        CitationItem.reference = saved[1]
        citeproc_lookups.pin_elements = saved[2]
        styles._parsed.styles = saved[3]


def format_each(records, style_id: str) -> tuple[list[str], list[float]]:
    texts, times = [], []
    for record in records:
        started = time.process_time()
        texts.extend(format_bibliography([record], style_id, "html", numbered=False))
        times.append((time.process_time() - started) * 1000)
    return texts, times


def default_bib() -> str:
    found = subprocess.run(
        ["kpsewhich", "biblatex-examples.bib"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bib", default=None, help="a .bib file (default: biblatex-examples)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--styles", nargs="+", default=list(STYLES))
    args = parser.parse_args()
    path = args.bib or default_bib()
    if not path:
        parser.error("no --bib given and kpsewhich found no biblatex-examples.bib")
    records = [entry.record for entry in read_bibtex(Path(path).read_text("utf-8")).entries]
    if not records:
        parser.error(f"{path} has no entry our reader imports")
    print(f"{len(records)} entries of {path}; {args.rounds} rounds; load {load_average()}")
    codes = {"citeproc's own": citeproc_own, "remembered": contextlib.nullcontext}
    times: dict[tuple[str, str], list[float]] = {}
    texts: dict[tuple[str, str], list[str]] = {}
    for code, context in codes.items():  # each style parsed and used once, untimed
        with context():
            for style_id in args.styles:
                texts[(code, style_id)] = format_each(records, style_id)[0]
    order = list(codes)
    for round_number in range(args.rounds):
        for code in order if round_number % 2 == 0 else reversed(order):
            with codes[code]():
                for style_id in args.styles:
                    text, spent = format_each(records, style_id)
                    assert text == texts[(code, style_id)], (code, style_id)
                    times.setdefault((code, style_id), []).extend(spent)
    print(f"{'style':<30} {'code':<15} {'p50':>6} {'p95':>6} {'mean':>6}  ms CPU an entry")
    for style_id in args.styles:
        p50 = {}
        for code in codes:
            spent = times[(code, style_id)]
            p50[code] = percentile(spent, 50)
            print(
                f"{style_id:<30} {code:<15} {p50[code]:6.2f} {percentile(spent, 95):6.2f} "
                f"{statistics.mean(spent):6.2f}"
            )
        different = sum(
            a != b
            for a, b in zip(
                texts[("citeproc's own", style_id)], texts[("remembered", style_id)], strict=True
            )
        )
        ratio = p50["citeproc's own"] / p50["remembered"]
        print(f"{'':<30} {'p50 ratio':<15} {ratio:6.2f}   entries that differ: {different}")
    print(f"load average (1, 5, 15 min): {load_average()}")


if __name__ == "__main__":
    main()
