"""The PostgreSQL benchmarks run to their end on a small catalogue and print their figures.

As test_benchmarks.py does for SQLite: each script in its own process, as a reader runs it,
against databases of its own made in the test cluster (the scripts fill and write to the
database they are given), dropped afterwards. They measure nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.benchmarking import PIECES, ROOT, run_benchmark
from tests.servers import require_postgresql

pytestmark = pytest.mark.postgresql


@pytest.fixture(scope="module")
def new_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Makes empty databases in DATABASE_URL's cluster (each's URL); drops them at the end."""
    # A module's fixtures run before conftest's _postgresql_only, which would check this.
    require_postgresql(request.node.nodeid)
    server = os.environ["DATABASE_URL"]
    made: list[str] = []

    def make() -> str:
        name = f"dossier_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))

    yield make
    with psycopg.connect(server, autocommit=True) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def catalogue(new_database: Callable[[], str]) -> str:
    """A database holding search.py's catalogue of PIECES pieces, indexed."""
    url = new_database()
    output = run_benchmark(
        "search.py", "--postgres", "--pieces", PIECES, "--engines", "database",
        "--queries", 10, database_url=url,
    )  # fmt: skip
    assert "save:    p50" in output
    return url


def test_pages(catalogue: str) -> None:
    output = run_benchmark(
        "pages.py", "--postgres", "--reuse", "--pieces", PIECES, "--runs", 3, "--repeats", 1,
        "--after-writes", 2, "--saves", 3, database_url=catalogue,
    )  # fmt: skip
    assert "author page" in output


def test_firstview_profile(catalogue: str) -> None:
    output = run_benchmark("firstview_profile.py", "--views", 5, database_url=catalogue)
    assert "request CPU" in output
    stored = run_benchmark("firstview_profile.py", "--views", 5, "--stored", database_url=catalogue)
    assert "citeproc" in stored


def test_save_profile(catalogue: str) -> None:
    output = run_benchmark("save_profile.py", "--postgres", "--saves", 10, database_url=catalogue)
    assert "PostgresBackend.add" in output


def test_search_profiles(catalogue: str) -> None:
    output = run_benchmark(
        "search_facets_postgres.py", "--pieces", PIECES, "--repeat", 1, database_url=catalogue
    )
    assert "facet step" in output
    output = run_benchmark("search_profile_postgres.py", "--pieces", PIECES, database_url=catalogue)
    assert "Buffers: shared" in output
    output = run_benchmark(
        "snippet_windows.py", "--pieces", PIECES, "--runs", 1, database_url=catalogue
    )
    assert ", lost 0, " in output  # no piece lost its snippet to the window
    output = run_benchmark(
        "prefix_recall.py", "--postgres", "--search", "--min-count", 300, database_url=catalogue
    )
    assert "PostgreSQL (Snowball)" in output
    assert "securit*" in output


def test_search_after_write(catalogue: str) -> None:
    output = run_benchmark(
        "search_after_write.py", "--postgres", "--writes", 3, "--loads", 1, database_url=catalogue
    )
    assert "the same search again" in output


def test_rebuild(catalogue: str) -> None:
    output = run_benchmark("rebuild.py", "--postgres", "--runs", 1, database_url=catalogue)
    assert "pieces/s" in output


def test_readinglists(catalogue: str) -> None:
    # On PostgreSQL it times the page costs only (no concurrency run), and removes its lists.
    output = run_benchmark(
        "readinglists.py", "--postgres", "--entries", "5,10", database_url=catalogue
    )
    assert "first view ms, per style" in output


def test_known_item(new_database: Callable[[], str]) -> None:
    output = run_benchmark(
        "known_item.py", "--postgres", "--pieces", 300, "--known", 10,
        database_url=new_database(),
    )  # fmt: skip
    assert "success@1" in output


def test_load(new_database: Callable[[], str]) -> None:
    """Two gunicorn instances on one database, the worker and locust, for five seconds."""
    output = run_benchmark(
        "load.py", "--only", "postgresql", "--pieces", PIECES, "--duration", 5,
        "--clients", 2, "--workers", 1, database_url=new_database(),
    )  # fmt: skip
    assert "verdict: no 5xx, no lost writes, index clean" in output


@pytest.fixture
def own_cluster(request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    """A cluster of its own (``pg-cluster.sh start``), which restart.py stops and starts:
    its directory and URL."""
    require_postgresql(request.node.nodeid)
    # Under /tmp: as root the server runs as ``postgres``, which must reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="dossier-restart-", dir="/tmp"))
    script = str(ROOT / "scripts" / "pg-cluster.sh")
    try:
        started = subprocess.run(
            ["bash", script, "start", str(directory)],
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        yield directory, started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", script, "stop", str(directory)], check=False, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)


def test_restart(own_cluster: tuple[Path, str]) -> None:
    directory, url = own_cluster
    run_benchmark(
        "search.py", "--postgres", "--pieces", PIECES, "--engines", "database",
        "--queries", 14, "--saves", 2, database_url=url,
    )  # fmt: skip
    output = run_benchmark(
        "restart.py", "--cluster", directory, "--pieces", PIECES, "--runs", 1,
        "--queries", 14, "--views", 5, "--saves", 2,
    )  # fmt: skip
    assert "ratio with / without" in output
    # The server really read its cache back with pg_prewarm, and only then.
    without = re.search(r"without pg_prewarm: .*autoprewarm: (.*?); piece", output)
    with_it = re.search(r", with pg_prewarm: .*autoprewarm: ([\d,]+) of [\d,]+ blocks", output)
    assert without is not None, output
    assert without.group(1) == "none", output
    assert with_it is not None, output
    assert int(with_it.group(1).replace(",", "")) > 0, output
