"""Round trips on real files: every TeX Live ``.bib`` file, exported in each format and read back.

For each file of the corpus ``test_texlive_corpus`` imports (the installed TeX Live tree and
Debian's gzipped documentation copies), the entries the import makes are

* exported in BibTeX, BibLaTeX, RIS and CSL-JSON, read back by our readers and exported
  again: the two exports must be identical, entry by entry;
* exported in BibLaTeX, BibTeX and CSL-JSON and read by pandoc (``-t csljson``), which must
  find the title, authors, year, DOI, URL, volume, pages and venue of every entry.

"Import" here is the reader plus ``fit_record``, the step that moves what the catalogue
cannot hold into the note: exactly what the importer saves. The database step of a real
import (``save_piece`` -> ``record_from_piece``) is covered, for every piece type and every
format, by ``test_round_trip.py`` on the nasty corpus and the demo catalogue.

**Bounded**: the first ``ENTRIES_PER_FILE`` entries of each file (the file is cut before its
next entry; ``@string`` definitions come first in real files). Reading LaTeX is slow
(pylatexenc, about 300 entries/s on this 2-core machine), and the whole tree, 17,223
entries read five times over, took about four minutes; 30 entries per file is 2,522
entries, every file, every entry type the tree uses. ``benchmarks``-style figures are in
the report of the change that added this test; run the full corpus with
``DOSSIER_ROUND_TRIP_ENTRIES=0`` (no limit).

Losses a format imposes by its nature are named in ``pandoc_losses``; nothing else may
differ.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import unicodedata
from dataclasses import replace
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest
from anyascii import anyascii

from library.citations.formats import get_writer
from library.citations.readers import read_citations
from library.citations.records import CitationRecord
from library.imports.pieces import fit_record
from tests.citations.toolchain import need, run
from tests.imports.test_texlive_corpus import FILES, _id

ENTRIES_PER_FILE = int(os.environ.get("DOSSIER_ROUND_TRIP_ENTRIES", "30"))
FORMATS = {"bibtex": "bib", "biblatex": "bib", "ris": "ris", "csljson": "json"}
_ENTRY_LINE = re.compile(rb"^[ \t]*@[ \t]*(?!(?:string|preamble|comment)\b)[A-Za-z]", re.I | re.M)


def source(path: Path) -> bytes:
    """The file's bytes (decompressed), cut before its entry number ENTRIES_PER_FILE + 1."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if ENTRIES_PER_FILE:
        starts = [m.start() for m in _ENTRY_LINE.finditer(data)]
        if len(starts) > ENTRIES_PER_FILE:
            data = data[: starts[ENTRIES_PER_FILE]]
    return data


def imported(data: bytes, filename: str) -> list[CitationRecord]:
    """The records an import of ``data`` would save."""
    result = read_citations(data, filename=filename)
    return [fit_record(e.record, filename, e.line, e.original_type)[0] for e in result.entries]


@cache
def records_of(path: Path) -> tuple[CitationRecord, ...]:
    return tuple(imported(source(path), path.name.removesuffix(".gz")))


def export(fmt: str, records) -> list[str]:
    """One chunk per entry (CSL-JSON's array punctuation stripped)."""
    chunks = list(get_writer(fmt).write(records))
    if fmt == "csljson":
        chunks = [c.lstrip("[,\n") for c in chunks[:-1]] if records else []
    return chunks


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_export_import_export_is_identical_in_every_format(path: Path):
    records = records_of(path)
    if not records:
        pytest.skip("no entry of this file imports (test_texlive_corpus says why)")
    differences = []
    for fmt, extension in FORMATS.items():
        first = export(fmt, records)
        again = imported("".join(get_writer(fmt).write(records)).encode(), f"x.{extension}")
        second = export(fmt, again)
        assert len(second) == len(first), f"{fmt}: {len(first)} entries became {len(second)}"
        differences += [(fmt, a, b) for a, b in zip(first, second, strict=True) if a != b]
    assert differences == []


# --- pandoc ------------------------------------------------------------------------------

PANDOC_FORMATS = {
    "biblatex": ("biblatex", "bib"),
    "bibtex": ("bibtex", "bib"),
    "csljson": ("csljson", "json"),
}


# Only the tags pandoc writes: any ``<word ...>`` would also eat guillemets typed as
# ``<<Голос и феномен>>`` (biblatex-gost), which pandoc keeps as text.
_MARKUP = re.compile(r"</?(?:i|b|sup|sub|span)(?: [^<>]*)?>")
# pandoc's LaTeX reader drops these commands of our BibTeX output (checked with pandoc
# 3.x, ``-f bibtex``): \textordmasculine, \textordfeminine, \textnumero (º, ª, №),
# \textendash in text (–), \textperiodcentered (·, the CJK name separator), and
# ``{\fontencoding{T1}\selectfont\dh}`` / ``\TH`` (ð, þ; T1 letters, see latex.py).
_DROPPED_BY_PANDOC = str.maketrans("", "", "ºª№–·ðþÐÞ")
# pandoc's CSL-JSON reader applies smart quotes to every string, URLs included.
_QUOTES = str.maketrans("", "", "'\"`‘’“”")


def _letters(text: object, *, ascii_only: bool = False) -> str:
    # pandoc's CSL-JSON marks formatting with HTML (<i>, <sup>, <span class="nocase">).
    text = _MARKUP.sub("", str(text or ""))
    if ascii_only:
        text = text.translate(_DROPPED_BY_PANDOC)
    text = unicodedata.normalize("NFKC", text)
    if ascii_only:
        text = anyascii(text)
    return "".join(c for c in text.casefold() if c.isalnum())


def _words(*parts: object, ascii_only: bool) -> list[str]:
    """A name's words, letters only, sorted: which part a reader files a word in varies."""
    text = " ".join(str(p or "") for p in parts)
    if ascii_only:
        text = anyascii(text.translate(_DROPPED_BY_PANDOC))
    # Periods split too: initials written "W.D." and "W. D." are the same name, and
    # pandoc puts the space in.
    words = re.split(r"[\s.'’-]+", text)
    return sorted(w for w in (_letters(w, ascii_only=ascii_only) for w in words) if w)


def _their_name(name: dict, *, ascii_only: bool) -> list[str]:
    keys = ("literal", "given", "dropping-particle", "non-dropping-particle", "family", "suffix")
    return _words(*(name.get(k) for k in keys), ascii_only=ascii_only)


def pandoc_losses(record: CitationRecord, item: dict, fmt: str) -> list[str]:
    """What pandoc did not find of the record in our export, as ``field: ours != pandoc's``.

    Compared as the formats require, not as raw text:

    * titles, names, venue, volume and pages by their letters and digits, case-folded
      (pandoc applies no title case, but keeps the words); in BibTeX after transliteration
      (anyascii), because BibTeX output is ASCII: scripts pdflatex cannot set
      (Cyrillic, Greek, CJK) are written transliterated, by design (``latex.to_latex``);
    * URLs percent-decoded: our BibTeX and BibLaTeX write URLs as URIs (non-ASCII, braces
      and spaces percent-encoded, ``latex.safe_url``), which is the same address;
    * the venue of a ``@misc`` or ``@online`` entry (biblatex's ``howpublished`` and
      ``organization``) is read by pandoc as the publisher, not the container title, and
      a book's venue not at all (``_venue_found``);
    * names by their words, whichever part (given, particle, family) a reader files them in;
    * pandoc's LaTeX reader drops some commands of our BibTeX (º ª № – · ð þ,
      ``_DROPPED_BY_PANDOC``), so BibTeX is compared without those characters;
    * initials by their letters: "W.D." and pandoc's "W. D." are the same name;
    * DOIs percent-decoded on both sides; CSL-JSON URLs without quote marks, because
      pandoc's CSL-JSON reader turns straight quotes into curly ones even in a URL.
    """
    ascii_only = fmt == "bibtex"

    def same(ours: object, theirs: object) -> bool:
        return _letters(ours, ascii_only=ascii_only) == _letters(theirs, ascii_only=ascii_only)

    problems = []
    if not same(record.full_title, item.get("title")):
        problems.append(f"title: {record.full_title!r} != {item.get('title')!r}")
    # Every word of every name, whichever part it is filed in: pandoc files "van" of "van
    # Leunen" and the "de" ending "Spinoza, Benedictus de" as particles, biber and we do not.
    ours = [
        _words(n.given, n.particle, n.family, n.suffix, ascii_only=ascii_only)
        for n in record.authors
    ]
    theirs = [_their_name(n, ascii_only=ascii_only) for n in item.get("author", [])]
    if ours != theirs:
        problems.append(f"authors: {ours} != {theirs}")
    year = ((item.get("issued") or {}).get("date-parts") or [[None]])[0][0]
    if record.year is not None and str(year) != str(record.year):
        problems.append(f"year: {record.year} != {item.get('issued')}")
    # Both sides decoded: a DOI as written may hold "%3B" (SICI DOIs in beebe's files).
    if record.doi and unquote(item.get("DOI", "")) != unquote(record.doi):
        problems.append(f"DOI: {record.doi!r} != {item.get('DOI')!r}")
    if record.url and not _same_url(record.url, item.get("URL", ""), fmt):
        problems.append(f"URL: {record.url!r} != {item.get('URL')!r}")
    for field, variable in (("volume", "volume"), ("pages", "page")):
        if getattr(record, field) and not same(getattr(record, field), item.get(variable)):
            problems.append(f"{field}: {getattr(record, field)!r} != {item.get(variable)!r}")
    venue = record.container_title
    if venue and not _venue_found(record, item, fmt):
        problems.append(f"venue: {venue!r} != {item.get('container-title')!r}")
    return problems


def _same_url(ours: str, theirs: str, fmt: str) -> bool:
    """Percent-decoded; from CSL-JSON without quote marks, which pandoc's reader curls."""
    ours, theirs = unquote(ours), unquote(theirs)
    if fmt == "csljson":
        ours, theirs = ours.translate(_QUOTES), theirs.translate(_QUOTES)
    return ours == theirs


def _venue_found(record: CitationRecord, item: dict, fmt: str) -> bool:
    """The venue as pandoc reads it: container-title, else (biblatex's ``howpublished`` and
    ``organization``) the publisher. A book's venue (the proceedings or multi-volume work
    it belongs to, in ``booktitle``) pandoc does not read at all: it takes ``booktitle``
    only for parts of books. Nor a thesis's (the abstracts journal or series it appeared in,
    also in ``booktitle``). There the test checks the export itself carries the venue.
    """
    ascii_only = fmt == "bibtex"
    venue = _letters(record.container_title, ascii_only=ascii_only)
    if venue == _letters(item.get("container-title"), ascii_only=ascii_only):
        return True
    if venue in _letters(item.get("publisher"), ascii_only=ascii_only):
        return True
    if record.type in ("book", "thesis") and fmt in ("bibtex", "biblatex"):
        return "  booktitle = {" in next(iter(get_writer(fmt).write([record])))
    return False


@pytest.fixture(scope="module")
def pandoc_items(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """pandoc's CSL-JSON reading of the whole sample, once per format: {format: {id: item}}."""
    need("pandoc")
    folder = tmp_path_factory.mktemp("pandoc")
    sample = [
        replace(record, key=f"f{index}-{n}")
        for index, path in enumerate(FILES)
        for n, record in enumerate(records_of(path))
    ]
    found: dict[str, dict[str, dict]] = {}
    for fmt, (reader, extension) in PANDOC_FORMATS.items():
        name = f"{fmt}.{extension}"
        (folder / name).write_text("".join(get_writer(fmt).write(sample)), encoding="utf-8")
        result = run(["pandoc", "-f", reader, "-t", "csljson", name], folder)
        assert result.returncode == 0, result.stderr
        found[fmt] = {item["id"]: item for item in json.loads(result.stdout)}
    return found


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_pandoc_reads_title_authors_date_doi_url_volume_pages_and_venue(path: Path, pandoc_items):
    index = FILES.index(path)
    losses = []
    for n, record in enumerate(records_of(path)):
        for fmt, items in pandoc_items.items():
            item = items.get(f"f{index}-{n}")
            if item is None:
                losses.append(f"{fmt} {record.key}: pandoc did not read the entry")
                continue
            losses += [f"{fmt} {record.key}: {p}" for p in pandoc_losses(record, item, fmt)]
    assert losses == []
