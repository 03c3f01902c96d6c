"""Precision of the keyword suggestions on the demo content, against hand marks.

``python benchmarks/keyword_precision.py [--count 100]``

Takes the demo catalogue's entries in order (``library/catalogue/data/demo.json``), asks
:func:`library.ingest.keywords.suggest_keywords` for up to 3 phrases per entry from its title
and synopsis (the authors' names excluded, as ingest does), and stops at ``--count``
suggestions. Each is looked up in ``benchmarks/keyword_marks.tsv``, where a person marked it
good (a complete noun phrase naming a topic, concept, place or group) or not (a clause
fragment, a name, a phrase cut short, the title repeated). The marks file also holds the
marks for main's suggester before issue 14, for comparison. Prints precision over the
marked suggestions and lists any the file does not mark yet, to be marked by hand.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MARKS = Path(__file__).with_name("keyword_marks.tsv")


def suggestions(count: int) -> list[tuple[str, str]]:
    """The first ``count`` (entry title, phrase) pairs, three at most per entry."""
    from library.ingest.keywords import suggest_keywords

    entries = json.loads((ROOT / "library/catalogue/data/demo.json").read_text("utf-8"))
    found: list[tuple[str, str]] = []
    for entry in entries:
        names = [
            f"{a.get('given', '')} {a.get('family', '')}".strip() for a in entry.get("authors", [])
        ]
        phrases = suggest_keywords(
            entry["title"], entry["synopsis"], "", exclude=names, names=names, limit=3
        )
        found += [(entry["title"][:40].strip(), phrase) for phrase in phrases]
        if len(found) >= count:
            break
    return found[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    with MARKS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for code in ("main", "branch"):
        marked = [row for row in rows if row["code"] == code][: args.count]
        good = sum(int(row["good"]) for row in marked)
        print(f"marks for {code:6}: {good}/{len(marked)} good ({100 * good / len(marked):.0f} %)")
    marks = {(r["entry"], r["phrase"]): int(r["good"]) for r in rows if r["code"] == "branch"}
    current = suggestions(args.count)
    known = [marks[item] for item in current if item in marks]
    unmarked = [item for item in current if item not in marks]
    print(
        f"current code: {sum(known)}/{len(known)} marked suggestions good "
        f"({100 * sum(known) / max(len(known), 1):.0f} %), {len(unmarked)} not marked yet"
    )
    for entry, phrase in unmarked:
        print(f"  unmarked: {entry} | {phrase}")


if __name__ == "__main__":
    main()
