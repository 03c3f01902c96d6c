"""Load: 2 gunicorn instances sharing one PostgreSQL vs 1 instance on SQLite, with a writer.

    bash scripts/pg-cluster.sh run -- .venv/bin/python benchmarks/load.py \\
        [--pieces 100000] [--duration 30] [--clients 8] [--workers 2] [--sqlite-db FILE]

(``PG_DURABLE=1`` in front keeps PostgreSQL's fsync on, as SQLite's is.) The PostgreSQL
database comes from DATABASE_URL; the SQLite one is a scratch file, or ``--sqlite-db``
(a database benchmarks/search.py generated, used in place: the run adds pieces to it).
Each gets the same synthetic catalogue (benchmarks/search.py's generator, bulk-inserted)
and an editor account. Then, per configuration, gunicorn instances run with DEBUG=0 on
127.0.0.1 and `locust <https://locust.io>`_ (benchmarks/locustfile.py, headless, bounded
by ``--duration``) runs against them:

* ``--clients`` reader users (closed loop, no wait; requests alternate between instances,
  like a round-robin balancer) fetch a mix of the home page, ``/pieces/`` pages, filtered
  browse (topic, year, type), searches (benchmarks/search.py's query mix: common and rare
  words, 2-3 words, phrases, field filters, prefixes, misspellings; snippets and facets)
  and random piece pages;
* one editor, signed in through the real login form, creates pieces and edits earlier
  ones (synopsis) through the real forms, CSRF and all;
* one background worker (``manage.py db_worker``), as a deployment runs: it stores the
  Cite box texts each save queues and, on SQLite, does the index upkeep saves defer.

Both configurations search with SEARCH_BACKEND=database (FTS5 on SQLite, the tsvector
dialect on PostgreSQL); the catalogue is indexed before the run (or kept, when a reused
database already holds the same pieces and their index). It prints locust's requests/s
and p50/p95 per endpoint (locust rounds times over 100 ms to two significant digits),
its failures (any 4xx/5xx, or a form that did not redirect), the CPU the locust process
took (its rusage: cores = CPU seconds / wall seconds), and verifies in the database:
pieces after = pieces before + pieces created, every edit visible, and ``check_index``
clean (every piece, the editor's included, indexed with its current text). The load
generator shares the 2 cores with the servers, so absolute figures are a floor.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import importlib.util
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LOCUST = str(Path(sys.executable).with_name("locust"))
EDITOR = ("bench-editor", "bench password 4 load")
SECRET_KEY = "load-benchmark-only-q8Vz-3mL_pW9rT2xN7bK4cY6hJ1dF5gS0aE8uI3oP2lZ7vX9nM4b"


# --- run inside a configuration's environment (subprocess) ------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings")
    import django

    django.setup()


def prepare(count: int) -> dict:
    """Migrate, load the vocabulary, generate ``count`` pieces, ensure the editor account."""
    _django()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from library.catalogue.models import Piece, Topic
    from library.catalogue.vocabulary import load_vocabulary

    spec = importlib.util.spec_from_file_location("search_bench", ROOT / "benchmarks/search.py")
    search_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(search_bench)

    call_command("migrate", verbosity=0)
    load_vocabulary()
    started = time.perf_counter()
    if not Piece.objects.exists():
        rng = random.Random(search_bench.SEED)
        search_bench.generate(count, rng, search_bench.build_lexicon(rng))
    generated = time.perf_counter() - started
    from library.search.backends import get_backend
    from library.search.maintenance import check, rebuild

    started = time.perf_counter()
    status = check(get_backend())
    if status.missing or status.extra or status.stale:
        rebuild(chunk=1000)
    indexed = time.perf_counter() - started
    user, _ = User.objects.get_or_create(username=EDITOR[0])
    user.set_password(EDITOR[1])
    user.save()
    user.groups.add(Group.objects.get(name="Editors"))
    rng = random.Random(7)
    keys = list(Piece.objects.values_list("citation_key", flat=True))
    queries = search_bench.query_mix(
        random.Random(search_bench.SEED),
        search_bench.build_lexicon(random.Random(search_bench.SEED)),
        210,
    )
    return {
        "pieces": len(keys),
        "generated_s": round(generated, 1),
        "indexed_s": round(indexed, 1),
        "queries": [text for _, text in queries],
        "keys": rng.sample(keys, min(2000, len(keys))),
        "topics": list(
            Topic.objects.filter(pieces__isnull=False)
            .distinct()
            .values_list("slug", flat=True)[:40]
        ),
    }


def verify(edits: dict[str, str]) -> dict:
    """The piece count now, and which edited pieces do not show their last synopsis."""
    _django()
    from library.catalogue.models import Piece

    found = dict(
        Piece.objects.filter(citation_key__in=edits).values_list("citation_key", "synopsis")
    )
    lost = [key for key, synopsis in edits.items() if found.get(key) != synopsis]
    from library.search.backends import get_backend
    from library.search.maintenance import check

    status = check(get_backend())
    index = {name: len(getattr(status, name)) for name in ("missing", "extra", "stale")}
    return {"pieces": Piece.objects.count(), "lost_edits": lost, "index": index}


# --- the orchestrator ----------------------------------------------------------------


def in_env(env: dict[str, str], command: str, *args: str) -> dict:
    done = subprocess.run(
        [PYTHON, __file__, command, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"{command} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_instances(env: dict[str, str], count: int, workers: int, logs: Path) -> list:
    servers = []
    for number in range(count):
        port = free_port()
        log = (logs / f"gunicorn-{port}.log").open("w")
        process = subprocess.Popen(
            [GUNICORN, "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={**env, "LOG_LEVEL": "warning"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        servers.append((port, process, log))
        print(f"  instance {number + 1}: gunicorn, {workers} workers, port {port}")
    for port, process, _ in servers:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/health/")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"instance on port {port} did not become healthy")
            time.sleep(0.2)
    return servers


def stop_instances(servers: list) -> None:
    for _, process, _log in servers:
        process.terminate()
    for _, process, log in servers:
        process.wait(timeout=60)
        log.close()


def run_locust(ports: list[int], data: dict, args, logs: Path) -> dict:
    """Run benchmarks/locustfile.py headless for ``--duration`` s; its stats and its CPU.

    Locust runs in its own process (gevent patches everything it imports), so its CPU time
    is exactly that child's rusage from ``os.wait4``: how many of the 2 shared cores the
    load generator itself took.
    """
    if any(not isinstance(port, int) for port in ports):
        raise SystemExit("instances must be loopback ports")
    data_file, result_file = logs / "locust-data.json", logs / "locust-result.json"
    data_file.write_text(json.dumps({**data, "ports": ports}), encoding="utf-8")
    result_file.unlink(missing_ok=True)
    prefix = logs / "locust"
    command = [
        LOCUST, "-f", str(ROOT / "benchmarks/locustfile.py"), "--headless",
        "--users", str(args.clients + 1), "--spawn-rate", str(args.clients + 1),
        "--run-time", f"{args.duration}s", "--stop-timeout", "60",
        "--host", f"http://127.0.0.1:{ports[0]}", "--csv", str(prefix), "--only-summary",
        "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "LOAD_DATA": str(data_file), "LOAD_RESULT": str(result_file)}
    with (logs / "locust.log").open("w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or not result_file.exists():
        tail = (logs / "locust.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"locust failed ({process.returncode}):\n{tail}")
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]
    with open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as handle:
        errors = list(csv.DictReader(handle))  # what each failure was, by endpoint
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "rows": rows,
        "errors": errors,
        "editor": json.loads(result_file.read_text(encoding="utf-8")),
        "cpu_s": cpu,
        "elapsed_s": elapsed,
    }


def report(outcome: dict, duration: int) -> None:
    """Requests/s and percentiles per endpoint, as locust counted them."""
    rows = outcome["rows"]
    total = sum(int(row["Request Count"]) for row in rows)
    failures = {
        row["Name"]: int(row["Failure Count"]) for row in rows if row["Failure Count"] != "0"
    }
    print(
        f"  {total / duration:7.1f} req/s overall over {duration} s; failures: {failures or 0}; "
        f"locust used {outcome['cpu_s']:.1f} CPU-s in {outcome['elapsed_s']:.0f} s = "
        f"{outcome['cpu_s'] / outcome['elapsed_s']:.2f} cores; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  {'endpoint':22} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for row in sorted(rows, key=lambda r: r["Name"]):
        print(
            f"  {row['Name']:22} {int(row['Request Count']):8d} {float(row['Requests/s']):7.1f} "
            f"{row['50%']:>7} {row['95%']:>7}"
        )
    for error in outcome["errors"]:
        print(f"  failed: {error['Name']} × {error['Occurrences']}: {error['Error']}")


def run_load(name: str, env: dict, servers_wanted: int, args, logs: Path) -> dict:
    print(f"\n{name}")
    before = in_env(env, "_prepare", str(args.pieces))
    print(
        f"  catalogue: {before['pieces']:,} pieces (generated in {before['generated_s']} s, "
        f"index checked or built in {before['indexed_s']} s)"
    )
    servers = start_instances(env, servers_wanted, args.workers, logs)
    # The background worker a deployment runs beside the instances: the Cite box texts
    # every save queues, and SQLite's index upkeep (merges, WAL checkpoints).
    worker_log = (logs / "db_worker.log").open("w")
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            [PYTHON, "manage.py", "db_worker", "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        print("  worker: manage.py db_worker")
    try:
        outcome = run_locust([port for port, _, _ in servers], before, args, logs)
    finally:
        stop_instances(servers)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
        worker_log.close()
    editor_result = outcome["editor"]
    after = in_env(env, "_verify", json.dumps(editor_result.get("edits", {})))
    created = len(editor_result.get("created", []))
    report(outcome, args.duration)
    lost_pieces = before["pieces"] + created - after["pieces"]
    print(
        f"  writes: {created} created, {len(editor_result.get('edits', {}))} pieces edited; "
        f"pieces before {before['pieces']:,} + created {created} = {before['pieces'] + created:,}, "
        f"after {after['pieces']:,} -> lost {lost_pieces}; edits not visible: "
        f"{len(after['lost_edits'])}; editor failures: {editor_result.get('failures', [])[:5]}"
    )
    print(f"  check_index: {after['index']} (missing, extra, stale pieces)")
    return {
        "errors": sum(int(row["Failure Count"]) for row in outcome["rows"]),
        "lost": lost_pieces + len(after["lost_edits"]) + len(editor_result.get("failures", [])),
        "index_drift": sum(after["index"].values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pieces", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8, help="locust reader users")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--no-worker", action="store_true", help="no db_worker beside the instances"
    )
    parser.add_argument(
        "--sqlite-db",
        type=Path,
        help="an existing SQLite catalogue (e.g. benchmarks/search.py's bench-100000.sqlite3) "
        "to load instead of generating one; the run adds pieces to it",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the gunicorn and locust logs, and say where"
    )
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if args.only != "sqlite" and not re.match(r"postgres(ql)?://", database_url):
        raise SystemExit(
            "DATABASE_URL must point at PostgreSQL: "
            "bash scripts/pg-cluster.sh run -- .venv/bin/python benchmarks/load.py"
        )
    scratch = Path(tempfile.mkdtemp(prefix="dossier-load-"))
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "LOG_FORMAT", "DATABASE_URL")
    }
    base.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SEARCH_BACKEND="database",
        STATIC_ROOT=str(scratch / "static"),
        MEDIA_ROOT=str(scratch / "media"),
        LOGIN_FAILURE_LIMIT="1000",
    )
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**base, "DATABASE_URL": f"sqlite:///{scratch / 'unused.sqlite3'}"},
        check=True,
    )
    print(
        f"load: {args.pieces:,} pieces, {args.clients} locust reader users + 1 editor, "
        f"{args.duration} s per configuration, {args.workers} gunicorn workers per instance, "
        f"{os.cpu_count()} cores shared with the load generator"
    )
    outcomes = {}
    try:
        if args.only != "postgresql":
            sqlite_file = args.sqlite_db.resolve() if args.sqlite_db else scratch / "load.sqlite3"
            env = {**base, "DATABASE_URL": f"sqlite:///{sqlite_file}"}
            outcomes["sqlite"] = run_load("1 instance + SQLite", env, 1, args, scratch)
        if args.only != "sqlite":
            env = {**base, "DATABASE_URL": database_url}
            outcomes["postgresql"] = run_load("2 instances + PostgreSQL", env, 2, args, scratch)
    finally:
        if args.keep_logs:
            print(f"logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    bad = {name: o for name, o in outcomes.items() if any(o.values())}
    verdict = "no 5xx, no lost writes, index clean"
    print("\nverdict:", "FAILED " + json.dumps(bad) if bad else verdict)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_prepare":
        print(json.dumps(prepare(int(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "_verify":
        print(json.dumps(verify(json.loads(sys.argv[2]))))
    else:
        main()
