"""Every long command draws the same progress bar on stderr, and none when it is not a terminal.

Logs, pipes and ``--json`` output stay clean by default; ``--progress`` forces the bar
(as on a terminal) and ``--no-progress`` hides it.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
SEED = Path(__file__).resolve().parents[1] / "library" / "catalogue" / "data" / "seed"

COMMANDS = {
    "import_citations": (["import_citations", str(FIXTURES / "jabref.bib")], "pieces"),
    "ingest": (["ingest", "--dry-run", str(SEED / "mosul-operation.txt")], "files"),
    "rebuild_index": (["rebuild_index", "--chunk-size", "2"], "pieces"),
    "load_demo": (["load_demo"], "works"),
}


def run(args: list[str], *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def catalogue(vocabulary, make_piece):
    for title in ("Mosul's Coin", "Mosul after the Battle", "Unrelated"):
        make_piece(title)


@pytest.mark.parametrize("name", COMMANDS)
def test_no_bar_when_stderr_is_not_a_terminal(catalogue, name):
    args, unit = COMMANDS[name]
    out, err = run(args)
    assert f"{unit}/s" not in out + err  # tqdm's rate
    assert not re.search(rf"\d+/\d+ {unit}", out + err)  # the bars these commands drew before
    assert "\r" not in out + err


@pytest.mark.parametrize("name", COMMANDS)
def test_the_same_bar_when_asked_for(catalogue, name):
    args, unit = COMMANDS[name]
    _, err = run(args, "--progress")
    last = err.rsplit("\r", 1)[-1]
    done, total = last.split("|")[-1].split()[0].split("/")
    assert done == total, last
    assert int(total) > 0
    assert f" {unit}" in last
    _, quiet = run(args, "--no-progress")
    assert f" {unit}" not in quiet
