"""manage.py search / rebuild_index / check_index."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def pieces(database_engine, make_piece):
    return [
        make_piece("Mosul's Coin", synopsis="Gold dinars minted in Mosul."),
        make_piece("Mosul after the Battle", authors=("Rohan Gunaratna",)),
        make_piece("Unrelated", body="nothing here"),
    ]


def test_search_prints_json_with_keys_titles_scores_and_snippets(pieces, capsys):
    call_command("search", "mosul", "coin", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [row["citation_key"] for row in rows] == [pieces[0].citation_key]
    assert set(rows[0]) >= {"citation_key", "title", "score", "snippet"}
    assert "\x02" not in rows[0]["snippet"]
    assert "Mosul" in rows[0]["snippet"]


def test_search_limit_and_plain_output(pieces, capsys):
    call_command("search", "mosul", "--limit", "1")
    out = capsys.readouterr().out
    assert out.startswith("2 piece(s)")
    assert "  1. [" in out
    assert "  2. [" not in out


def test_search_reports_hints_on_stderr(pieces, capsys):
    call_command("search", '"mosul', "--json")
    captured = capsys.readouterr()
    assert "missing closing quote" in captured.err
    assert json.loads(captured.out)


@pytest.mark.parametrize("limit", ["0", "501", "-1"])
def test_search_rejects_a_bad_limit(pieces, limit):
    with pytest.raises(CommandError, match="--limit"):
        call_command("search", "mosul", "--limit", limit)


def test_rebuild_index_reports_progress_and_counts(pieces, capsys):
    call_command("rebuild_index", "--chunk-size", "2", "--progress")
    captured = capsys.readouterr()
    assert "3/3 [" in captured.err  # the bar (tests/test_progress.py)
    assert "Indexed 3 pieces." in captured.out
    call_command("check_index")
    assert "matches the catalogue" in capsys.readouterr().out


@pytest.mark.sqlite
def test_rebuild_index_loads_in_bulk_then_sets_the_index_back_for_single_saves(pieces, monkeypatch):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("FTS5 settings")
    from library.search.backends.database.sqlite import backend as sqlite_fts5

    seen = []
    optimize = sqlite_fts5.SQLiteFTS5Backend.optimize

    def spy(backend):
        seen.append(_fts5_config(connection))
        optimize(backend)

    monkeypatch.setattr(sqlite_fts5.SQLiteFTS5Backend, "optimize", spy)
    call_command("rebuild_index", "--verbosity", "0")
    assert seen == [{"automerge": 16, "hashsize": 64 * 1024 * 1024}]
    assert _fts5_config(connection) == {"automerge": 0, "hashsize": 1024 * 1024}


@pytest.mark.sqlite
@pytest.mark.parametrize("before", [0, 1, 2])
def test_rebuild_frees_only_the_index_pages_without_zeroing_them(pieces, before):
    """Dropping the old index and optimize's merges run under secure_delete FAST (a freed
    page is not overwritten); the chunks, and the connection afterwards, keep its own."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's secure_delete")
    from library.search.backends.database.sqlite import backend as sqlite_fts5

    names = sqlite_fts5._SECURE_DELETE  # the setting's name for each answer
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        built_with = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA secure_delete = {names[before]}")
    seen: dict[str, set[int]] = {}

    def record(execute, sql, params, many, context):
        kind = next(
            (
                k
                for k in ("DROP TABLE", "'optimize'", "INSERT INTO search_piece_fts(rowid")
                if k in sql
            ),
            None,
        )
        if kind:
            value = connection.connection.execute("PRAGMA secure_delete").fetchone()[0]
            seen.setdefault(kind, set()).add(value)
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(record):
            call_command("rebuild_index", "--verbosity", "0")
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete")
            after = cursor.fetchone()[0]
    finally:  # the connection outlives the test
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA secure_delete = {names[built_with]}")
    assert seen == {
        "DROP TABLE": {2},
        "'optimize'": {2},
        "INSERT INTO search_piece_fts(rowid": {before},
    }
    assert after == before


@pytest.mark.sqlite
def test_rebuild_index_works_where_fts5_lacks_a_bulk_option(pieces, monkeypatch, capsys):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("FTS5 settings")
    from library.search.backends.database.sqlite import backend as sqlite_fts5

    monkeypatch.setattr(sqlite_fts5, "_BULK", {"nosuchoption": 1, **sqlite_fts5._BULK})
    call_command("rebuild_index", "--verbosity", "0")
    call_command("check_index")
    assert "matches the catalogue" in capsys.readouterr().out
    assert _fts5_config(connection) == {"automerge": 0, "hashsize": 1024 * 1024}


def _fts5_config(connection) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k, v FROM search_piece_fts_config WHERE k IN ('automerge', 'hashsize')"
        )
        return dict(cursor.fetchall())


def test_check_index_on_a_missing_whoosh_index_fails_with_advice(settings, tmp_path, db):
    settings.SEARCH_BACKEND = "whoosh"
    settings.WHOOSH_INDEX_DIR = tmp_path / "missing"
    with pytest.raises(CommandError, match="rebuild_index"):
        call_command("check_index")


def test_rebuild_builds_a_whoosh_index_from_nothing(settings, tmp_path, pieces, capsys):
    settings.SEARCH_BACKEND = "whoosh"
    settings.WHOOSH_INDEX_DIR = tmp_path / "fresh"
    call_command("rebuild_index")
    call_command("check_index")
    capsys.readouterr()
    call_command("search", "mosul", "coin", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [row["citation_key"] for row in rows] == [pieces[0].citation_key]
