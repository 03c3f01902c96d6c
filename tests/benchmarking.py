"""Running a benchmark script as a reader runs it, for the tests that check each one runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The catalogue size the tests run the scripts at: enough for every page and query class.
PIECES = 200


def run_benchmark(script: str, *args: object, database_url: str = "") -> str:
    """Run ``benchmarks/SCRIPT`` with ``args`` (and ``DATABASE_URL``, when given); its
    output, or a failure showing the end of it."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{output[-3000:]}"
    return output
