"""Read BibTeX and BibLaTeX files into citation records, accounting for every entry.

bibtexparser 2.x splits the file into blocks; our middlewares do what its defaults do not
(or do only halfway): ``@string`` macros with ``#`` concatenation and the month macros
(its ``ResolveStringReferencesMiddleware`` resolves only a field that is one bare macro),
``crossref`` inheritance (unimplemented there), and LaTeX -> Unicode that keeps the name
fields raw until they are split, so ``{International Crisis Group}`` stays one
organisation. Its failure modes are turned into counted, explained outcomes:

* a block it could not parse (a missing comma, an unterminated entry cut off by the next
  ``@``) -> a rejection with the line and bibtexparser's own reason;
* a field given twice (``DuplicateFieldKeyBlock``) -> the entry, first value kept, warning;
* a key used twice (``DuplicateBlockKeyBlock``) -> the entry, flagged for the importer,
  which treats it as a duplicate or gives it a new key;
* an entry hidden where the parser does not look (inside ``@comment{...}``) -> a
  rejection, found by comparing the parser's entries with an independent count of
  ``@type{`` / ``@type(`` starts, line by line.

The middlewares live in ``bibtex_middlewares`` and the entry -> record mapping in
``bibtex_fields``; this module counts, parses and accounts. Unknown entry types are
imported as ``other`` with their original type kept on the entry.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ExplicitComment,
    Field,
    ParsingFailedBlock,
)

from library.citations.readers.bibtex_fields import entry_to_imported
from library.citations.readers.bibtex_middlewares import (
    CrossrefMiddleware,
    LatexDecodingMiddleware,
    ResolveMacrosMiddleware,
    block_line,
    inner_block,
    warn,
)
from library.citations.readers.common import ReadResult, Rejection

NON_ENTRY_BLOCKS = frozenset({"string", "preamble", "comment"})
# Independent of the parser: every "@type{" or "@type(" in the text.
_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w-]*)[ \t]*[{(]")


def count_entries(text: str) -> list[int]:
    """1-based line numbers of every entry start, counted without bibtexparser.

    An ``@type{`` or ``@type(`` counts when it stands between entries, or at the start of
    a line anywhere (where an unterminated entry is taken to end, as bibtex users
    expect); one in the middle of a line inside an entry is text (``note = {@rsis (X)}``).
    ``@comment`` bodies are not skipped, so an entry hidden in one is counted and then
    reported, not lost.
    """
    lines: list[int] = []
    line, position, inside_until = 1, 0, -1
    for match in _ENTRY_START.finditer(text):
        start = match.start()
        if start < inside_until and text[text.rfind("\n", 0, start) + 1 : start].strip():
            continue
        line += text.count("\n", position, start)
        position = start
        kind = match.group(1).lower()
        if kind not in NON_ENTRY_BLOCKS:
            lines.append(line)
        inside_until = match.end() if kind == "comment" else _body_end(text, match.end() - 1)
    return lines


_BRACES = re.compile(r"[{}]")
_PAREN_MARKS = re.compile(r'[{}()"]')


def _body_end(text: str, opening: int) -> int:
    """Index just past the delimiter closing the block opened at ``opening`` (or the end)."""
    depth, in_quotes = 0, False
    if text[opening] == "{":
        for mark in _BRACES.finditer(text, opening):
            depth += 1 if mark.group() == "{" else -1
            if depth == 0:
                return mark.end()
        return len(text)
    for mark in _PAREN_MARKS.finditer(text, opening + 1):
        char = mark.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            in_quotes = not in_quotes
        elif char == ")" and depth == 0 and not in_quotes:
            return mark.end()
    return len(text)


# --- blocks -> entries ----------------------------------------------------------------------


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


def _recover(library: Library) -> tuple[list[Entry], list[Rejection], list[str]]:
    """Entries in file order, with duplicate-field and duplicate-key blocks recovered.

    A failed ``@string``, ``@preamble`` or ``@comment`` block is not an entry: it becomes
    a file warning, not a rejection, so the counts still match the independent count.
    """
    entries: list[Entry] = []
    rejections: list[Rejection] = []
    warnings: list[str] = []
    for block in library.blocks:
        if isinstance(inner_block(block), Entry) and not inner_block(block).entry_type.strip():
            # "@{...}": bibtexparser reads it, bibtex does not; it is not counted either.
            warnings.append(
                f"line {block_line(block.start_line)}: '@{{' without an entry type skipped"
            )
        elif isinstance(block, Entry):
            entries.append(_normalise_fields(block))
        elif isinstance(block, DuplicateFieldKeyBlock):
            entry = block.ignore_error_block
            entries.append(_normalise_fields(entry))
        elif isinstance(block, DuplicateBlockKeyBlock):
            entry = block.ignore_error_block
            if isinstance(entry, Entry):
                entry.parser_metadata["dossier_duplicate_key"] = True
                entries.append(_normalise_fields(entry))
        elif isinstance(block, ParsingFailedBlock):
            rejection = _failed_block_rejection(block)
            if rejection is None:
                warnings.append(_failed_other_block(block))
            else:
                rejections.append(rejection)
    return entries, rejections, warnings


_BLOCK_HEAD = re.compile(r"@\s*(\w*)\s*[{(]\s*([^,\s]*)")


def _failure_reason(block: ParsingFailedBlock) -> str:
    return getattr(block.error, "abort_reason", None) or str(block.error)


def _failed_block_rejection(block: ParsingFailedBlock) -> Rejection | None:
    head = _BLOCK_HEAD.match(block.raw or "")
    if head and head.group(1).lower() in NON_ENTRY_BLOCKS:
        return None
    key = head.group(2) if head else ""
    reason = f"not valid BibTeX: {_failure_reason(block).strip()}"
    return Rejection(line=block_line(block.start_line), key=key, reason=reason)


def _failed_other_block(block: ParsingFailedBlock) -> str:
    head = _BLOCK_HEAD.match(block.raw or "")
    kind = head.group(1).lower() if head else "block"
    return (
        f"line {block_line(block.start_line)}: the @{kind} block is not valid BibTeX "
        f"({_failure_reason(block).strip()}); what follows it is read as entries"
    )


def _comment_spans(library: Library) -> list[tuple[int, int]]:
    spans = []
    for block in library.blocks:
        if isinstance(block, ExplicitComment) and block.start_line is not None:
            start = block_line(block.start_line)
            spans.append((start, start + (block.raw or "").count("\n")))
    return spans


def _unparsed(
    counted: list[int], parsed: list[int | None], spans: list[tuple[int, int]]
) -> list[Rejection]:
    """Entries the independent count saw but the parser did not, one rejection each."""
    missing = Counter(counted) - Counter(parsed)
    rejections = []
    for line in sorted(missing.elements()):
        inside = next((s for s, e in spans if s <= line <= e), None)
        if inside is not None:
            reason = (
                f"the entry is inside the @comment block that starts on line {inside}, "
                "so it is not read; move it out of the comment to import it"
            )
        else:
            reason = (
                "this looks like an entry start, but the BibTeX parser did not read an "
                "entry here; check the entry type (letters only) and its braces"
            )
        rejections.append(Rejection(line=line, key="", reason=reason))
    return rejections


def read_bibtex(text: str) -> ReadResult:
    """Parse BibTeX/BibLaTeX text (already decoded) into a :class:`ReadResult`."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    counted = count_entries(text)
    splitter_log = logging.getLogger("bibtexparser.splitter")
    # Its warnings about failed blocks become our rejections, with line numbers.
    was_disabled, splitter_log.disabled = splitter_log.disabled, True
    try:
        library = bibtexparser.parse_string(text, parse_stack=[])
    finally:
        splitter_log.disabled = was_disabled
    entries, rejections, file_warnings = _recover(library)
    macros = ResolveMacrosMiddleware()
    macros.transform(library)
    # Crossref needs every entry's macros expanded first, so each stage sees all entries
    # (including those bibtexparser set aside as duplicates, which its middlewares skip).
    for stage in (CrossrefMiddleware(), LatexDecodingMiddleware()):
        for entry in entries:
            stage.transform_entry(entry, library)
    file_warnings.extend(macros.warnings)
    result = ReadResult(format="bibtex", found=len(counted), warnings=file_warnings)
    for entry in entries:
        try:
            result.entries.append(entry_to_imported(entry))
        except ValueError as exc:
            result.rejections.append(
                Rejection(line=block_line(entry.start_line), key=entry.key, reason=str(exc))
            )
    parsed_lines = [block_line(e.start_line) for e in entries] + [r.line for r in rejections]
    result.rejections.extend(rejections)
    result.rejections.extend(_unparsed(counted, parsed_lines, _comment_spans(library)))
    result.rejections.sort(key=lambda r: r.line or 0)
    return result
