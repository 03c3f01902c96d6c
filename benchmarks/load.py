"""Load: 2 gunicorn instances sharing one PostgreSQL vs 1 instance on SQLite, with a writer.

    bash scripts/pg-cluster.sh run -- .venv/bin/python benchmarks/load.py \\
        [--pieces 100000] [--duration 30] [--clients 8] [--workers 2]

(``PG_DURABLE=1`` in front keeps PostgreSQL's fsync on, as SQLite's is.) The PostgreSQL
database comes from DATABASE_URL; the SQLite one is a scratch file. Each gets the same
synthetic catalogue (benchmarks/search.py's generator, bulk-inserted) and an editor
account. Then, per configuration, gunicorn instances run with DEBUG=0 on loopback, and
for ``--duration`` seconds:

* ``--clients`` reader threads, each with a keep-alive connection per instance (requests
  alternate between instances, like a round-robin balancer), fetch a mix of the home page,
  ``/pieces/`` pages, filtered browse (topic, year, type), searches (benchmarks/search.py's
  query mix: common and rare words, 2-3 words, phrases, field filters, prefixes,
  misspellings; snippets and facets) and random piece pages;
* one editor, signed in through the real login form, creates pieces and edits earlier
  ones (synopsis) through the real forms, CSRF and all.

Both configurations search with SEARCH_BACKEND=database (FTS5 on SQLite, the tsvector
dialect on PostgreSQL); the catalogue is indexed before the run (or kept, when a reused
PostgreSQL database already holds the same pieces and their index). It prints requests/s
and p50/p95 per endpoint, counts 5xx answers, and verifies in the database: pieces after =
pieces before + pieces created, every edit visible, and ``check_index`` clean (every
piece, the editor's included, indexed with its current text). The load generator shares
the 2 cores with the servers, so absolute figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
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


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            if status >= 500:
                self.errors[endpoint] += 1


def reader(ports: list[int], data: dict, stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    connections = {
        port: http.client.HTTPConnection("127.0.0.1", port, timeout=60) for port in ports
    }
    turn = 0
    while not stop.is_set():
        endpoint, path = pick(rng, data)
        port = ports[turn % len(ports)]
        turn += 1
        started = time.perf_counter()
        try:
            connections[port].request("GET", path)
            response = connections[port].getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connections[port].close()
            connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status = 599
        stats.record(endpoint, time.perf_counter() - started, status)


def pick(rng: random.Random, data: dict) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.10:
        return "home", "/"
    if roll < 0.25:
        return "browse", f"/pieces/?page={rng.randint(1, 50)}"
    if roll < 0.45:
        return "search", "/search/?" + urllib.parse.urlencode({"q": rng.choice(data["queries"])})
    if roll < 0.65:
        choice = rng.random()
        if choice < 0.5:
            query = {"topic": rng.choice(data["topics"])}
        elif choice < 0.8:
            query = {"year": rng.randint(1990, 2025)}
        else:
            query = {"type": "commentary", "year": rng.randint(1990, 2025)}
        return "browse_filtered", "/pieces/?" + urllib.parse.urlencode(query)
    return "piece", f"/pieces/{rng.choice(data['keys'])}/"


class FormParser(HTMLParser):
    """The named fields of the form whose action matches, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif (
            tag == "option"
            and self._select
            and ("selected" in attrs or self._select not in self.fields)
        ):
            self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


class Browser:
    """One signed-in session on one instance: cookies, CSRF, forms."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        connection.close()
        return response

    def form(self, path: str) -> dict[str, str]:
        response = self.request("GET", path)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        parser = FormParser()
        parser.feed(response.text)
        return parser.fields

    def login(self) -> None:
        fields = self.form("/accounts/login/")
        fields.update(username=EDITOR[0], password=EDITOR[1])
        response = self.request("POST", "/accounts/login/", fields)
        if response.status != 302:
            raise RuntimeError(f"login failed: {response.status}")


def editor(ports: list[int], stop: threading.Event, stats: Stats, result: dict) -> None:
    """Create a piece, edit an earlier one, repeat; alternating instances."""
    browsers = [Browser(port) for port in ports]
    for browser in browsers:
        browser.login()
    created: list[str] = []
    edits: dict[str, str] = {}
    failures: list[str] = []
    number = 0
    while not stop.is_set():
        browser = browsers[number % len(browsers)]
        number += 1
        started = time.perf_counter()
        if number % 2 or not created:
            fields = browser.form("/pieces/new/")
            fields.update(
                title=f"Load test piece {number} on Đà Nẵng & <b>ports</b>",
                authors_text="Zoë Lefèvre\nAbdul Basit",
                date_text="2024-05",
                synopsis=f"Created by the load benchmark, round {number}.",
                topics_text="",
                regions_text="",
            )
            response = browser.request("POST", "/pieces/new/", fields)
            endpoint = "editor_create"
            if response.status == 302:
                created.append(
                    urllib.parse.unquote(response.getheader("Location").rstrip("/").split("/")[-1])
                )
            else:
                failures.append(f"create {number}: {response.status}")
        else:
            key = random.choice(created)
            fields = browser.form(f"/pieces/{key}/edit/")
            fields["synopsis"] = f"Edited by the load benchmark, round {number}."
            response = browser.request("POST", f"/pieces/{key}/edit/", fields)
            endpoint = "editor_edit"
            if response.status == 302:
                edits[key] = fields["synopsis"]
            else:
                failures.append(f"edit {key}: {response.status}")
        stats.record(endpoint, time.perf_counter() - started, response.status)
    result.update(created=created, edits=edits, failures=failures)


def run_load(name: str, env: dict, servers_wanted: int, args, logs: Path) -> dict:
    print(f"\n{name}")
    before = in_env(env, "_prepare", str(args.pieces))
    print(
        f"  catalogue: {before['pieces']:,} pieces (generated in {before['generated_s']} s, "
        f"index checked or built in {before['indexed_s']} s)"
    )
    servers = start_instances(env, servers_wanted, args.workers, logs)
    ports = [port for port, _, _ in servers]
    stats, stop, editor_result = Stats(), threading.Event(), {}
    threads = [
        threading.Thread(target=reader, args=(ports, before, stop, stats, seed))
        for seed in range(args.clients)
    ]
    threads.append(threading.Thread(target=editor, args=(ports, stop, stats, editor_result)))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started
    stop_instances(servers)
    after = in_env(env, "_verify", json.dumps(editor_result.get("edits", {})))
    created = len(editor_result.get("created", []))
    report(stats, elapsed)
    lost_pieces = before["pieces"] + created - after["pieces"]
    print(
        f"  writes: {created} created, {len(editor_result.get('edits', {}))} pieces edited; "
        f"pieces before {before['pieces']:,} + created {created} = {before['pieces'] + created:,}, "
        f"after {after['pieces']:,} -> lost {lost_pieces}; edits not visible: "
        f"{len(after['lost_edits'])}; editor failures: {editor_result.get('failures', [])[:5]}"
    )
    print(f"  check_index: {after['index']} (missing, extra, stale pieces)")
    return {
        "errors": sum(stats.errors.values()),
        "lost": lost_pieces + len(after["lost_edits"]) + len(editor_result.get("failures", [])),
        "index_drift": sum(after["index"].values()),
    }


def report(stats: Stats, elapsed: float) -> None:
    total = sum(len(v) for v in stats.latencies.values())
    errors = dict(stats.errors) or 0
    print(f"  {total / elapsed:7.1f} req/s overall over {elapsed:.0f} s; 5xx: {errors}")
    print(f"  {'endpoint':16} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for endpoint in sorted(stats.latencies):
        values = sorted(stats.latencies[endpoint])
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(
            f"  {endpoint:16} {len(values):8d} {len(values) / elapsed:7.1f} "
            f"{statistics.median(values) * 1000:7.1f} {p95 * 1000:7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pieces", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
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
        f"load: {args.pieces:,} pieces, {args.clients} reader threads + 1 editor, "
        f"{args.duration} s per configuration, {args.workers} gunicorn workers per instance, "
        f"{os.cpu_count()} cores shared with the load generator"
    )
    outcomes = {}
    try:
        if args.only != "postgresql":
            env = {**base, "DATABASE_URL": f"sqlite:///{scratch / 'load.sqlite3'}"}
            outcomes["sqlite"] = run_load("1 instance + SQLite", env, 1, args, scratch)
        if args.only != "sqlite":
            env = {**base, "DATABASE_URL": database_url}
            outcomes["postgresql"] = run_load("2 instances + PostgreSQL", env, 2, args, scratch)
    finally:
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
