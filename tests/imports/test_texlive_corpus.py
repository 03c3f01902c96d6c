"""Every ``.bib`` file the installed TeX Live packages ship, imported with ``--dry-run``.

The oracle is the real bibtex: a one-line style writes ``cite$`` for every entry of
``\\nocite{*}``, so the ``.bbl`` lists the keys bibtex reads (a repeated key is reported in
the ``.blg`` as "Repeated entry" and not listed; the importer reads it and treats it as a
duplicate or renames it, so it is counted too). For each file the import must find exactly
those entries, account for each one as created, duplicate or rejected, and reject only
entries that give no usable record (no title, nor anything that stands in for one).

Debian gzips documentation, so the doc tree's ``.bib.gz`` files are part of the corpus:
they are decompressed next to a copy for both bibtex and the import. Without TeX Live
(or bibtex) the tests skip on a developer's machine and fail under CI.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.citations.toolchain import INSTALL_HINT, need, run
from tests.texlive import ROOTS, corpus, read_bytes

KEYS_STYLE = "ENTRY{}{}{} FUNCTION{w}{cite$ write$ newline$} READ ITERATE{w}\n"
# Entries without a title (or biblatex's @xdata field stores, which are not works): the
# only reasons an entry of a real file may be rejected.
NO_TITLE = re.compile(
    r"(the entry has no title|no title was read before that point|an @xdata entry holds)"
)


FILES = corpus()


def _id(path: Path) -> str:
    return str(path).removeprefix("/usr/share/").replace("/", ":")


def bibtex_keys(folder: Path) -> tuple[list[str], int]:
    """The keys the real bibtex reads from ``folder/refs.bib``, and its repeated entries."""
    (folder / "keys.bst").write_text(KEYS_STYLE, encoding="ascii")
    (folder / "keys.aux").write_text(
        "\\citation{*}\n\\bibdata{refs}\n\\bibstyle{keys}\n", encoding="ascii"
    )
    result = run(["bibtex", "-terse", "keys"], folder)
    bbl = folder / "keys.bbl"
    assert bbl.exists(), result.stdout + result.stderr
    keys = bbl.read_bytes().decode("utf-8", errors="replace").splitlines()
    log = (folder / "keys.blg").read_bytes().decode("utf-8", errors="replace")
    return keys, log.count("Repeated entry")


def dry_run(path: Path) -> dict:
    out = StringIO()
    call_command(
        "import_citations", "--dry-run", "--json", str(path), stdout=out, stderr=StringIO()
    )
    return json.loads(out.getvalue())


def test_the_tex_live_tree_is_installed():
    if FILES:
        return
    message = f"no .bib files under {', '.join(map(str, ROOTS))}: {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.django_db
@pytest.mark.parametrize("source", FILES, ids=_id)
def test_a_tex_live_bib_file_imports_every_entry_bibtex_reads(source: Path, tmp_path):
    need("bibtex")
    data = read_bytes(source)
    (tmp_path / "refs.bib").write_bytes(data)
    keys, repeated = bibtex_keys(tmp_path)
    copy = tmp_path / source.name.removesuffix(".gz")
    copy.write_bytes(data)

    summary = dry_run(copy)
    [plan] = summary["files"]

    assert plan["error"] is None
    assert plan["found"] == len(keys) + repeated
    assert plan["created"] + plan["duplicates"] + len(plan["rejected"]) == plan["found"]
    ours = Counter(
        [p["source_key"] for p in plan["pieces"]]
        + [d["key"] for d in plan["duplicate_entries"]]
        + [r["key"] or "" for r in plan["rejected"]]
    )
    assert not Counter(keys) - ours, "entries bibtex reads that the import does not"
    assert sum((ours - Counter(keys)).values()) == repeated
    unusable = [r for r in plan["rejected"] if not NO_TITLE.search(r["reason"])]
    assert not unusable, "entries rejected although they give a usable record"
