"""Every benchmark script runs to its end on a small SQLite catalogue and prints its figures.

The benchmarks are how the README's speed targets are measured, and nothing else runs
them: ``firstview_profile.py`` stopped at its first query from the commit that added that
query (it filtered the stored citations by a foreign key they do not have), unnoticed until
the script was next needed. Each script runs here as a reader runs it, in its own process,
on a few hundred pieces; the tests check that it finished and printed the line that
carries its figures. They measure nothing: timings at this size mean nothing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.benchmarking import PIECES, run_benchmark

pytestmark = pytest.mark.sqlite  # the scripts choose their own SQLite files


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """search.py's catalogue of PIECES pieces, indexed (its own run is search.py's test)."""
    folder = tmp_path_factory.mktemp("bench")
    output = run_benchmark(
        "search.py", "--pieces", PIECES, "--engines", "database", "--queries", 10,
        "--db-dir", folder,
    )  # fmt: skip
    assert "save:    p50" in output
    assert "size:" in output
    return folder / f"bench-{PIECES}.sqlite3"


@pytest.fixture
def catalogue_copy(catalogue: Path, tmp_path: Path) -> Path:
    """A copy of the catalogue, for the scripts that write to the file they are given."""
    return Path(shutil.copy(catalogue, tmp_path / catalogue.name))


def test_firstview_profile(catalogue_copy: Path) -> None:
    output = run_benchmark(
        "firstview_profile.py", "--sqlite", catalogue_copy, "--views", 5, "--statements"
    )
    assert "request CPU" in output
    assert "statements: times run" in output
    stored = run_benchmark(
        "firstview_profile.py", "--sqlite", catalogue_copy, "--views", 5, "--stored"
    )
    assert "citeproc" in stored


def test_pages(tmp_path: Path) -> None:
    output = run_benchmark(
        "pages.py", "--pieces", PIECES, "--runs", 3, "--repeats", 1, "--after-writes", 2,
        "--saves", 3, "--db-dir", tmp_path,
    )  # fmt: skip
    assert "author page" in output
    assert "first request after a save_piece edit" in output


def test_save_profile(catalogue_copy: Path) -> None:
    assert "SQLiteFTS5Backend.add" in run_benchmark(
        "save_profile.py", "--db", catalogue_copy, "--saves", 10
    )


def test_rebuild(catalogue: Path, tmp_path: Path) -> None:
    output = run_benchmark("rebuild.py", "--db", catalogue, "--runs", 1, "--copy-to", tmp_path)
    assert "search_word:" in output


def test_prefix_recall(catalogue: Path) -> None:
    output = run_benchmark("prefix_recall.py", "--min-count", 300, "--search-db", catalogue)
    assert "SQLite (FTS5 porter)" in output
    assert "Whoosh (its Porter)" in output
    # Every piece's body says "security" (stem "secur"): "securit*" found none of them.
    found = re.search(r"securit\*\s+([\d,]+) -> +([\d,]+) pieces", output)
    assert found is not None, output
    assert found[1] == "0" != found[2]


def test_search_profile_sqlite(catalogue: Path) -> None:
    output = run_benchmark(
        "search_profile_sqlite.py", "--db", catalogue, "--runs", 1, "--queries", 10
    )
    assert "word table" in output


def test_search_after_write(catalogue: Path, tmp_path: Path) -> None:
    output = run_benchmark(
        "search_after_write.py", "--db", catalogue, "--copy-to", tmp_path,
        "--writes", 3, "--loads", 1,
    )  # fmt: skip
    assert "the same search again" in output


def test_upkeep(catalogue: Path, tmp_path: Path) -> None:
    output = run_benchmark("upkeep.py", "--db", catalogue, "--copy-to", tmp_path, "--saves", 20)
    assert "upkeep runs" in output


def test_worker_locks(catalogue_copy: Path) -> None:
    output = run_benchmark(
        "worker_locks.py", "--db-dir", catalogue_copy.parent, "--pieces", PIECES, "--saves", 10
    )
    assert "the worker's write transactions" in output


def test_fts5_options(catalogue: Path) -> None:
    output = run_benchmark(
        "fts5_options.py", "--db", catalogue, "--runs", 1, "--queries", 10,
        "--variants", "full", "contentless",
    )  # fmt: skip
    assert "docs/s" in output


def test_known_item(tmp_path: Path) -> None:
    output = run_benchmark("known_item.py", "--pieces", 300, "--known", 10, "--db-dir", tmp_path)
    assert "success@1" in output


def test_readinglists() -> None:
    output = run_benchmark("readinglists.py", "--entries", "5,10", "--threads", 2, "--ops", 3)
    assert "positions dense: True" in output


def test_import_bib() -> None:
    assert "entries/s" in run_benchmark("import_bib.py", "--entries", 100)


def test_exports() -> None:
    assert "records" in run_benchmark("export.py", "--records", 100, "--runs", 1)
    output = run_benchmark("export_catalogue.py", "--pieces", 100, "--runs", 1)
    assert "peak traced memory" in output


def test_citation_styles() -> None:
    assert "median" in run_benchmark("styles.py", "--runs", 1)
    assert "entries that differ: 0" in run_benchmark("citeproc_lookups.py", "--rounds", 1)


def test_ingest_pdf() -> None:
    output = run_benchmark("ingest_pdf.py", "--specimens", 1, "--files", 4)
    assert "PDFs/s" in output


def test_keyword_precision() -> None:
    assert "marked suggestions good" in run_benchmark("keyword_precision.py", "--count", 5)


def test_load() -> None:
    """gunicorn, the worker and locust, for five seconds: nothing lost, the index clean."""
    output = run_benchmark(
        "load.py", "--only", "sqlite", "--pieces", PIECES, "--duration", 5, "--clients", 2,
        "--workers", 1,
    )  # fmt: skip
    assert "verdict: no 5xx, no lost writes, index clean" in output
