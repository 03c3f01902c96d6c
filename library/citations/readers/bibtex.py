"""Read BibTeX and BibLaTeX files into citation records, accounting for every entry.

Which entries a file holds, and where each ends, is bibtex's own reading of it
(``bibtex_scanner``, a port of bibtex's reading loop, checked against the real bibtex on
every ``.bib`` of the TeX Live tree); bibtexparser's model objects carry the scanned
blocks through our middlewares, and its name splitting takes authors apart. The
middlewares do what bibtexparser's defaults do not (or only halfway): ``@string`` macros
with ``#`` concatenation and the month macros, ``crossref`` inheritance, and LaTeX ->
Unicode that keeps the name fields raw until they are split, so ``{International Crisis
Group}`` stays one organisation. Every entry bibtex reads has exactly one outcome:

* a syntax error inside an entry (a missing comma, an unclosed brace) -> the fields read
  before it are kept, as bibtex keeps them, and the entry is imported with a warning when
  they make a usable record, else rejected with bibtex's complaint and the line;
* a field given twice -> the first value kept (bibtex's rule), with a warning;
* a key used twice (bibtex compares keys case-blind) -> the entry, flagged for the
  importer, which treats it as a duplicate or gives it a new key;
* an unknown entry type -> imported as the nearest known type, with a warning.

The middlewares live in ``bibtex_middlewares`` and the entry -> record mapping in
``bibtex_fields``; this module turns scanned blocks into entries and accounts for them.
"""

from __future__ import annotations

from bibtexparser.library import Library
from bibtexparser.model import Block, Entry, Field, Preamble, String

from library.citations.readers.bibtex_fields import entry_to_imported
from library.citations.readers.bibtex_middlewares import (
    SYNTAX_ERROR_KEY,
    CrossrefMiddleware,
    LatexDecodingMiddleware,
    ResolveMacrosMiddleware,
    XdataMiddleware,
    block_line,
    warn,
)
from library.citations.readers.bibtex_scanner import ScanResult, count_entries, scan_bibtex
from library.citations.readers.common import ReadResult, Rejection, UnreadableFile

__all__ = ["count_entries", "read_bibtex"]

# --- scanned blocks -> bibtexparser blocks -------------------------------------------------


def _normalise_fields(entry: Entry) -> Entry:
    """Lower-case field names; the first of two same-named fields wins (bibtex's rule)."""
    fields: dict[str, Field] = {}
    for field in entry.fields:
        key = field.key.strip().lower()
        if key in fields:
            warn(entry, f"field {key!r} is given twice; the first value is kept")
            continue
        fields[key] = Field(key, field.value, start_line=field.start_line)
    entry.fields = list(fields.values())
    return entry


def _model_blocks(scan: ScanResult) -> tuple[list[Block], list[Entry], list[str]]:
    """bibtexparser blocks in file order, the entries among them, and file warnings.

    Line numbers are stored 0-based, as bibtexparser does (``block_line`` adds one).
    """
    blocks: list[Block] = []
    entries: list[Entry] = []
    warnings = list(scan.warnings)
    seen: dict[str, int] = {}
    for scanned in scan.blocks:
        if scanned.kind == "entry":
            entry = Entry(
                entry_type=scanned.type.lower(),
                key=scanned.key,
                fields=[Field(f.name, f.value, start_line=f.line - 1) for f in scanned.fields],
                start_line=scanned.line - 1,
            )
            if scanned.error:
                entry.parser_metadata[SYNTAX_ERROR_KEY] = (
                    f"line {scanned.error_line}: {scanned.error}"
                )
            folded = scanned.key.lower()
            if folded in seen:
                entry.parser_metadata["dossier_duplicate_key"] = seen[folded]
            else:
                seen[folded] = scanned.line
            blocks.append(_normalise_fields(entry))
            entries.append(entry)
            continue
        if scanned.error:
            warnings.append(
                f"line {scanned.line}: the @{scanned.type} block is not valid BibTeX "
                f"(line {scanned.error_line}: {scanned.error}); reading goes on after it"
            )
        if scanned.kind == "string" and scanned.fields:
            value = scanned.fields[0]
            blocks.append(String(value.name, value.value, start_line=scanned.line - 1))
        elif scanned.kind == "preamble" and scanned.fields:
            blocks.append(Preamble(scanned.fields[0].value, start_line=scanned.line - 1))
    return blocks, entries, warnings


def read_bibtex(text: str) -> ReadResult:
    """Parse BibTeX/BibLaTeX text (already decoded) into a :class:`ReadResult`."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    scan = scan_bibtex(text)
    if not scan.blocks:
        raise UnreadableFile("no BibTeX entries found (no '@type{' or '@type(' anywhere)")
    blocks, entries, file_warnings = _model_blocks(scan)
    library = Library(blocks, fail_on_duplicate_key=False)
    macros = ResolveMacrosMiddleware()
    macros.transform(library)
    # Crossref needs every entry's macros expanded first, so each stage sees all entries;
    # a crossref names the first entry with that key (case-blind), as in bibtex.
    crossref = CrossrefMiddleware()
    crossref.parents = {}
    for entry in entries:
        crossref.parents.setdefault(entry.key.lower(), entry)
    for stage in (XdataMiddleware(crossref.parents), crossref, LatexDecodingMiddleware()):
        for entry in entries:
            stage.transform_entry(entry, library)
    file_warnings.extend(macros.warnings)
    if not entries and any(b.kind in ("string", "preamble") for b in scan.blocks):
        file_warnings.append("the file defines @string or @preamble blocks but has no entries")
    result = ReadResult(format="bibtex", found=len(entries), warnings=file_warnings)
    for entry in entries:
        try:
            result.entries.append(entry_to_imported(entry))
        except ValueError as exc:
            reason = str(exc)
            error = entry.parser_metadata.get(SYNTAX_ERROR_KEY)
            if error and reason.startswith("the entry has no title"):
                reason = f"not valid BibTeX at {error}; no title was read before that point"
            elif error:
                reason = f"{reason} (and not valid BibTeX at {error})"
            result.rejections.append(
                Rejection(line=block_line(entry.start_line), key=entry.key, reason=reason)
            )
    return result
