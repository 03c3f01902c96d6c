"""The first minute after PostgreSQL restarts, with and without autoprewarm (pg_prewarm).

``python benchmarks/restart.py --cluster DIR --pieces 100000 [--runs 3] [--drop-os-cache]``

DIR is a cluster kept by ``scripts/pg-cluster.sh start DIR`` (e.g. with
``PG_SHARED_BUFFERS=1GB``) holding search.py's catalogue and index (``search.py
--postgres``). After a restart PostgreSQL's cache is empty, and a search reads the index's
blocks from the operating system's page cache or, after a reboot, from disk. pg_prewarm's
autoprewarm worker records which blocks the cache held at shutdown and reads them back
right after the start.

First one untimed pass: a start with pg_prewarm and the query mix, so the recorded blocks
are a searching server's. Then each run, for each setting in turn (without pg_prewarm,
with it): stop the server (``--drop-os-cache``: also empty the operating system's page
cache, as a reboot does; root only), start it, run search.py's query mix once in a new
process; then the same restart again and ``--views`` first views of pieces
(firstview_profile.py: it deletes their stored Cite box texts, so use a benchmark
database). Prints each trial's p95 and how long after the start it ended, then the
medians of the runs and their ratios. Leaves the server running, with pg_prewarm.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from figures import load_average

ROOT = Path(__file__).resolve().parents[1]
CLUSTER_SCRIPT = ROOT / "scripts" / "pg-cluster.sh"
SETTINGS = {"without pg_prewarm": "0", "with pg_prewarm": "1"}

#: search.py's summary line and phrase class; firstview_profile.py's request row.
MIX_P95 = re.compile(r"^queries \(cold\): p50 [\d.]+ ms, p95 ([\d.]+) ms", re.MULTILINE)
PHRASE_P95 = re.compile(r"^\s+phrase\s+p50\s+[\d.]+ ms\s+p95\s+([\d.]+) ms", re.MULTILINE)
REQUEST_P95 = re.compile(r"^request\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s", re.MULTILINE)
#: Seconds to wait for autoprewarm's report after a trial (it normally came seconds before).
REPORT_WAIT = 30
#: What autoprewarm writes to the server's log once it has read the blocks back.
PREWARMED = re.compile(
    r"autoprewarm successfully prewarmed (\d+) of (\d+) previously-loaded blocks"
)


@dataclass
class Trials:
    """One setting's figures, a value per run."""

    search_p95: list[float] = field(default_factory=list)
    phrase_p95: list[float] = field(default_factory=list)
    view_p95: list[float] = field(default_factory=list)
    prewarmed: list[str] = field(default_factory=list)


def cluster(command: str, directory: Path, prewarm: str) -> str:
    """``pg-cluster.sh COMMAND DIR`` with PG_AUTOPREWARM; its output (restart: the URL)."""
    env = {**os.environ, "PG_AUTOPREWARM": prewarm}
    done = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), command, str(directory)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"pg-cluster.sh {command} {directory} failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def drop_os_cache() -> None:
    """Empty the page cache as a reboot would (``sync`` first, so nothing dirty is lost)."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as exc:
        sys.exit(f"--drop-os-cache needs root (writing /proc/sys/vm/drop_caches: {exc})")


def restart(directory: Path, prewarm: str, drop: bool) -> tuple[str, float, int]:
    """Stop, optionally empty the OS cache, start: the URL, the moment it answered and
    where the server's log stood at the start."""
    cluster("stop", directory, prewarm)
    if drop:
        drop_os_cache()
    log_start = (directory / "server.log").stat().st_size
    url = cluster("restart", directory, prewarm)
    return url, time.monotonic(), log_start


def prewarmed(directory: Path, log_start: int, expected: bool) -> str:
    """What autoprewarm reported since ``log_start``: "N of M blocks", or "none".

    Read after the trial's timing. Where it ran, it has long finished by then; it is given up
    to REPORT_WAIT seconds more all the same, so a slow machine cannot report "none".
    """
    give_up = time.monotonic() + (REPORT_WAIT if expected else 0)
    while True:
        with (directory / "server.log").open("rb") as log:
            log.seek(log_start)
            found = PREWARMED.findall(log.read().decode(errors="replace"))
        if found or time.monotonic() >= give_up:
            break
        time.sleep(0.5)
    return ", ".join(f"{int(n):,} of {int(m):,} blocks" for n, m in found) or "none"


def script(name: str, url: str, *args: object) -> str:
    """Run a benchmark script against ``url`` in a new process; its output."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *map(str, args)],
        env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def figure(pattern: re.Pattern[str], output: str, what: str) -> float:
    found = pattern.search(output)
    if found is None:
        sys.exit(f"no {what} in this output:\n{output}")
    return float(found.group(1))


def query_mix(url: str, args: argparse.Namespace) -> str:
    return script(
        "search.py", url, "--postgres", "--reuse", "--reuse-index", "--repeat", 1,
        "--engines", "database", "--pieces", args.pieces, "--queries", args.queries,
        "--saves", args.saves, "--no-worker",
    )  # fmt: skip


def median_of(values: list[float]) -> str:
    each = ", ".join(f"{v:.1f}" for v in values)
    return f"{statistics.median(values):.1f} ({each})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", type=Path, required=True, help="a pg-cluster.sh start DIR")
    parser.add_argument("--pieces", type=int, required=True, help="the catalogue's size")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=210, help="search.py's mix size")
    parser.add_argument("--views", type=int, default=60, help="first views of pieces")
    parser.add_argument("--saves", type=int, default=5, help="search.py's writes after its mix")
    parser.add_argument(
        "--drop-os-cache", action="store_true",
        help="also empty the operating system's page cache before each start (root only)",
    )  # fmt: skip
    args = parser.parse_args()
    if not (args.cluster / "port").is_file():
        sys.exit(f"{args.cluster} holds no cluster started by scripts/pg-cluster.sh start")

    os_cache = "dropped" if args.drop_os_cache else "kept"
    print(f"PostgreSQL restarted before each trial, OS page cache {os_cache}; "
          f"{args.pieces:,} pieces; load {load_average()}")  # fmt: skip
    url, _, _ = restart(args.cluster, "1", drop=False)
    query_mix(url, args)  # the blocks autoprewarm records at the next stop: a searcher's
    trials = {name: Trials() for name in SETTINGS}
    for run in range(args.runs):
        for name, prewarm in SETTINGS.items():
            url, started, log_start = restart(args.cluster, prewarm, args.drop_os_cache)
            output = query_mix(url, args)
            mix_after = time.monotonic() - started
            trials[name].prewarmed.append(prewarmed(args.cluster, log_start, prewarm == "1"))
            trials[name].search_p95.append(figure(MIX_P95, output, "query mix p95"))
            trials[name].phrase_p95.append(figure(PHRASE_P95, output, "phrase p95"))
            url, started, _ = restart(args.cluster, prewarm, args.drop_os_cache)
            seed = 1000 + 2 * run + int(prewarm)  # new pieces each trial: first views
            output = script("firstview_profile.py", url, "--views", args.views, "--seed", seed)
            views_after = time.monotonic() - started
            trials[name].view_p95.append(figure(REQUEST_P95, output, "first view p95"))
            figures = trials[name]
            print(
                f"run {run + 1}, {name}: search p95 {figures.search_p95[-1]:.1f} ms (phrase "
                f"{figures.phrase_p95[-1]:.1f}), done {mix_after:.0f} s after the start, "
                f"read back by autoprewarm: {figures.prewarmed[-1]}; piece first view p95 "
                f"{figures.view_p95[-1]:.1f} ms, done {views_after:.0f} s after the start; "
                f"load {load_average()}",
                flush=True,
            )
    print(f"medians of {args.runs} runs (each run's figure in brackets), p95 in ms:")
    for name, values in trials.items():
        print(
            f"  {name}: search {median_of(values.search_p95)}; phrase "
            f"{median_of(values.phrase_p95)}; piece first view {median_of(values.view_p95)}"
        )
    before, after = trials["without pg_prewarm"], trials["with pg_prewarm"]
    ratios = [
        statistics.median(getattr(after, part)) / statistics.median(getattr(before, part))
        for part in ("search_p95", "phrase_p95", "view_p95")
    ]
    print(f"ratio with / without: search {ratios[0]:.2f}, phrase {ratios[1]:.2f}, "
          f"piece first view {ratios[2]:.2f}; load {load_average()}")  # fmt: skip


if __name__ == "__main__":
    main()
