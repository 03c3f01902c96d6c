"""bibtexparser middlewares for what its defaults do not do: macros, crossref, LaTeX.

``ResolveMacrosMiddleware`` expands ``@string`` and month macros with ``#``
concatenation (bibtexparser's ``ResolveStringReferencesMiddleware`` resolves only a field
that is one bare macro); ``CrossrefMiddleware`` fills fields from the entry a
``crossref`` names (unimplemented there); ``LatexDecodingMiddleware`` turns LaTeX into
Unicode but leaves names, URLs and DOIs raw, so that ``{International Crisis Group}``
is still one organisation when names are split later.
"""

from __future__ import annotations

import re

from bibtexparser.library import Library
from bibtexparser.middlewares.middleware import BlockMiddleware, LibraryMiddleware
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    String,
)

from library.citations.readers.latex import latex_to_text, unknown_commands

MONTHS = (
    "january february march april may june july august september october november december"
).split()
MONTH_MACROS = {name[:3]: name.capitalize() for name in MONTHS}
NAME_FIELDS = frozenset({"author", "editor"})
VERBATIM_FIELDS = frozenset({"url", "doi", "howpublished", "crossref", "eprint", "file"})

WARN_KEY = "dossier_warnings"
#: bibtex's complaint about an entry it could read only in part ("line 12: expected ',' …").
SYNTAX_ERROR_KEY = "dossier_syntax_error"


def block_line(line: int | None) -> int | None:
    # bibtexparser counts from 0 (after the newline it prepends); people count from 1.
    return None if line is None else line + 1


def warn(entry: Entry, message: str) -> None:
    entry.parser_metadata.setdefault(WARN_KEY, []).append(message)


# --- macros and concatenation -------------------------------------------------------------


class _Expression:
    """A field value as BibTeX writes it: ``{…}``, ``"…"``, numbers and macros joined by #."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.pos = 0

    def parts(self) -> list[tuple[str, str]]:
        """(kind, text) pairs, kind one of literal / macro."""
        parts: list[tuple[str, str]] = []
        while True:
            self._skip_space()
            if self.pos >= len(self.text):
                break
            char = self.text[self.pos]
            if char == "{":
                parts.append(("literal", self._braced()))
            elif char == '"':
                parts.append(("literal", self._quoted()))
            else:
                word = re.match(r"[^\s#]+", self.text[self.pos :])
                token = word.group() if word else self.text[self.pos]
                self.pos += len(token)
                parts.append(("literal" if token.isdigit() else "macro", token))
            self._skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == "#":
                self.pos += 1
                continue
            if self.pos < len(self.text):
                # Trailing text after a complete value: keep it, as bibtex would complain.
                parts.append(("literal", self.text[self.pos :]))
                break
        return parts

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _braced(self) -> str:
        depth, start = 0, self.pos
        for index in range(self.pos, len(self.text)):
            char = self.text[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    self.pos = index + 1
                    return self.text[start + 1 : index]
        self.pos = len(self.text)
        return self.text[start + 1 :]

    def _quoted(self) -> str:
        depth, start = 0, self.pos
        for index in range(self.pos + 1, len(self.text)):
            char = self.text[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif char == '"' and depth == 0:
                self.pos = index + 1
                return self.text[start + 1 : index]
        self.pos = len(self.text)
        return self.text[start + 1 :]


def evaluate(value: str, macros: dict[str, str]) -> tuple[str, list[str]]:
    """The value with macros expanded and ``#`` joined; unknown macro names are returned."""
    out, unknown = [], []
    for kind, text in _Expression(value).parts():
        if kind == "literal":
            out.append(text)
        elif text.lower() in macros:
            out.append(macros[text.lower()])
        else:
            unknown.append(text)
            out.append(text)
    return "".join(out), unknown


def inner_block(block: Block) -> Block:
    """The entry or string a duplicate-key or duplicate-field block wraps, else the block."""
    if isinstance(block, (DuplicateBlockKeyBlock, DuplicateFieldKeyBlock)):
        return block.ignore_error_block or block
    return block


class ResolveMacrosMiddleware(LibraryMiddleware):
    """``@string`` macros, month macros and ``#`` concatenation, for every field.

    Blocks are walked in file order, as bibtex reads them: a macro may use earlier ones,
    and a redefinition (which bibtexparser sets aside as a duplicate-key block) applies
    from where it is made on. Entries wrapped in duplicate blocks are resolved too.
    """

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True)
        self.warnings: list[str] = []

    @classmethod
    def metadata_key(cls) -> str:
        return "dossier_resolve_macros"

    def transform(self, library: Library) -> Library:
        macros = dict(MONTH_MACROS)
        for block in library.blocks:
            inner = inner_block(block)
            if isinstance(inner, String):
                name = inner.key.strip().lower()
                if name in macros and name not in MONTH_MACROS:
                    self.warnings.append(
                        f"line {block_line(inner.start_line)}: @string {inner.key} is redefined; "
                        "the new value applies from here on"
                    )
                macros[name], unknown = evaluate(inner.value, macros)
                self.warnings.extend(
                    f"line {block_line(inner.start_line)}: @string {inner.key} uses the undefined "
                    f"macro {macro!r}"
                    for macro in unknown
                )
            elif isinstance(inner, Entry):
                self.resolve(inner, macros)
        return library

    def resolve(self, entry: Entry, macros: dict[str, str]) -> None:
        for field in entry.fields:
            if not isinstance(field.value, str):
                continue
            field.value, unknown = evaluate(field.value, macros)
            for name in unknown:
                warn(entry, f"field {field.key}: undefined macro {name!r} kept as text")


class CrossrefMiddleware(BlockMiddleware):
    """Fields missing from an entry are taken from the entry its ``crossref`` names.

    As bibtex does, plus biber's rule that the parent's ``title`` becomes a child's
    ``booktitle``, which is what a chapter crossref'ing its book needs.
    """

    NOT_INHERITED = frozenset({"crossref", "key", "ids", "xref", "entryset"})

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=False)
        #: Entries by lower-cased key; filled from the library unless the caller sets it.
        self.parents: dict[str, Entry] | None = None

    @classmethod
    def metadata_key(cls) -> str:
        return "dossier_crossref"

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        target = entry.fields_dict.get("crossref")
        if target is None:
            return entry
        if self.parents is None:
            self.parents = {e.key.lower(): e for e in library.entries}
        parent = self.parents.get(str(target.value).strip().lower())
        if parent is None:
            warn(entry, f"crossref {target.value!r} names no entry in this file; ignored")
            return entry
        present = set(entry.fields_dict)
        for field in parent.fields:
            if field.key not in present and field.key not in self.NOT_INHERITED:
                entry.set_field(Field(field.key, field.value))
        if "booktitle" not in present and "title" in parent.fields_dict:
            entry.set_field(Field("booktitle", parent.fields_dict["title"].value))
        return entry


class LatexDecodingMiddleware(BlockMiddleware):
    """LaTeX -> Unicode (NFC) for every field except names, URLs and DOIs.

    Names are decoded part by part after splitting (braces decide what is one name);
    URLs and DOIs are verbatim in BibTeX (``\\url``), so decoding would corrupt them.
    """

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=False)

    @classmethod
    def metadata_key(cls) -> str:
        return "dossier_latex_decoding"

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        raw = {}
        for field in entry.fields:
            if not isinstance(field.value, str):
                continue
            raw[field.key] = field.value
            if field.key in VERBATIM_FIELDS:
                continue
            # Commands the file's own document defines (TUGboat's {\INSCRIPT}) have no text
            # here: the reader is told which were dropped, field by field.
            dropped = unknown_commands(field.value)
            if dropped:
                names = ", ".join(f"'\\{name}'" for name in dropped)
                warn(entry, f"{field.key}: unknown LaTeX {_commands(dropped)} {names} dropped")
            if field.key not in NAME_FIELDS:
                field.value = latex_to_text(field.value)
        entry.parser_metadata["dossier_raw"] = raw
        return entry


def _commands(names: tuple[str, ...]) -> str:
    return "command" if len(names) == 1 else "commands"


class XdataMiddleware(BlockMiddleware):
    """biblatex's ``xdata = {key1, key2}``: fields taken from the named ``@xdata`` entries.

    An ``@xdata`` entry holds fields shared by several entries (a publisher, a series);
    without this they would be lost from every entry that uses it. Fields the entry has
    win; ``@xdata`` entries may themselves use others (followed a few levels deep).
    """

    NOT_INHERITED = frozenset({"ids", "crossref", "xref", "xdata", "entryset"})
    MAX_DEPTH = 8

    def __init__(self, parents: dict[str, Entry]) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=False)
        self.parents = parents

    @classmethod
    def metadata_key(cls) -> str:
        return "dossier_xdata"

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        self._inherit(entry, entry, depth=0)
        return entry

    def _inherit(self, entry: Entry, source: Entry, depth: int) -> None:
        field = source.fields_dict.get("xdata")
        if field is None or depth >= self.MAX_DEPTH:
            return
        for key in str(field.value).split(","):
            parent = self.parents.get(key.strip().lower())
            if parent is None:
                warn(entry, f"xdata {key.strip()!r} names no entry in this file; ignored")
                continue
            present = set(entry.fields_dict)
            for inherited in parent.fields:
                if inherited.key not in present and inherited.key not in self.NOT_INHERITED:
                    entry.set_field(Field(inherited.key, inherited.value))
            self._inherit(entry, parent, depth + 1)
