"""Run mypy (configured in pyproject.toml) and hold it to a baseline that only shrinks.

The baseline, ``mypy-baseline.txt``, lists the errors known when type checking began, one per
line as ``path: [code] message`` (no line numbers, so unrelated edits do not disturb it).
The run fails on any error not in the baseline, and on any baseline line mypy no longer
reports: remove it (``--update`` does, and refuses to add lines), so a fixed error cannot
come back unnoticed.

    python scripts/mypy-baseline.py            # check
    python scripts/mypy-baseline.py --update   # drop fixed errors from the baseline
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

BASELINE = Path(__file__).resolve().parent.parent / "mypy-baseline.txt"
_ERROR = re.compile(
    r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)


def current_errors() -> Counter[str]:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty"],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(run.stdout + run.stderr)
        raise SystemExit(run.returncode)
    errors: Counter[str] = Counter()
    for line in run.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            errors[f"{match['path']}: [{match['code'] or 'misc'}] {match['message']}"] += 1
    return errors


def baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line.strip() and not line.startswith("#"))


def main() -> int:
    update = "--update" in sys.argv[1:]
    now, known = current_errors(), baseline()
    new, fixed = now - known, known - now
    for line in sorted(new.elements()):
        print(f"new mypy error: {line}")
    if new:
        print(f"{sum(new.values())} new error(s); fix them (the baseline only shrinks).")
        return 1
    if fixed and update:
        header = [
            line
            for line in BASELINE.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        ]
        BASELINE.write_text("\n".join([*header, *sorted(now.elements())]) + "\n", encoding="utf-8")
        print(f"Removed {sum(fixed.values())} fixed error(s) from {BASELINE.name}.")
        return 0
    for line in sorted(fixed.elements()):
        print(f"fixed, still in the baseline: {line}")
    if fixed:
        print(f"Remove them from {BASELINE.name} (python scripts/mypy-baseline.py --update).")
        return 1
    print(f"mypy: no new errors ({sum(known.values())} known in {BASELINE.name}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
