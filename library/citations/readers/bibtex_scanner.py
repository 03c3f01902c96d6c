"""BibTeX's own reading of a ``.bib`` file, mirrored: which entries exist and where they end.

bibtexparser 2.x's splitter reads files differently from bibtex in ways real files hit
(checked against its ``splitter.py``): a backslash "escapes" the next brace, quote or
newline (``pp.\\`` at a line end hides the newline, so every line number after it drifts
and an entry counted on line 30721 is parsed "on" line 30720); a block starts only at
``@`` + word characters + ``{`` or ``(`` on one line (``@incollection⏎(`` and ``@⏎book``
are not entries to it, ``@fake-entry{`` is not either); ``@comment{…}`` bodies are
skipped; and an entry it cannot finish is cut off at the next ``@`` at a line start (by
design: its maintainers call that a "deliberate deviation from strict bibtex parsing" in
sciunto-org/python-bibtexparser#416; the escape look-behind is #598). The
real bibtex (``bibtex.web``, ``get_bib_command_or_entry_and_process``) does none of that,
and a ``.bib`` file means what bibtex makes of it. So this module is a port of bibtex's
reading loop, and its counts are checked in the tests against the real bibtex:

* Outside entries everything but ``@`` is comment; ``@`` starts a command anywhere, even
  mid-line or in a ``%`` line (``%`` is not a comment character in ``.bib`` files).
* Whitespace and line breaks may stand between ``@``, the type and ``{``/``(``.
* The type is any identifier (``@fake-entry`` is an entry of type ``fake-entry``);
  ``@comment`` is just the word: what follows is read like any other text.
* Field values: ``{…}`` with balanced braces (no backslash escapes), ``"…"`` closed by a
  quote at brace depth 0, digits, or a macro name, joined by ``#``.
* After a syntax error bibtex reports it and looks for the next ``@`` from where it
  stopped; the entry keeps the fields read before the error.

Pure Python, no bibtexparser and no Django: the reader builds bibtexparser's model objects
from what is scanned here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

_NEWLINE = re.compile("\n")
_WHITE = re.compile(r"[ \t\n]*")
# bibtex's legal identifier characters: all but whitespace and "#%'(),={}
_IDENTIFIER = re.compile(r"[^ \t\n\"#%'(),={}]+")
_DIGITS = re.compile(r"[0-9]+")
_BRACE_MARKS = re.compile(r"[{}]")
_QUOTE_MARKS = re.compile(r'[{}"]')
_KEY_IN_BRACES = re.compile(r"[^, \t\n}]*")
_KEY_IN_PARENS = re.compile(r"[^, \t\n]*")

# For messages only: an entry start at the beginning of a line, which a person reads as one.
_LOOKS_LIKE_ENTRY = re.compile(r"\n[ \t]*@[ \t]*[A-Za-z][^\s{(]*[ \t]*[{(]")


def _end_of(pattern: re.Pattern[str], text: str, position: int) -> int:
    """Where ``pattern`` ends at ``position``: every caller's pattern is sure to match there
    (it accepts the empty string, or the character there was checked first)."""
    match = pattern.match(text, position)
    if match is None:
        raise ValueError(f"{pattern.pattern!r} does not match at {position}")
    return match.end()


#: Stray ``@`` signs (e-mail addresses in a file's header) are named up to this many.
MAX_STRAY_WARNINGS = 20

COMMANDS = frozenset({"comment", "preamble", "string"})


@dataclass
class ScannedField:
    """One ``name = value`` of an entry or ``@string``: the value as written (``{…} # mac``)."""

    name: str
    value: str
    line: int


@dataclass
class ScannedBlock:
    """An entry, ``@string`` or ``@preamble`` as bibtex reads it.

    ``error`` is bibtex's complaint, if any (the block keeps the fields read before it);
    ``line`` is the line of the ``@`` (1-based) and ``end_line`` where reading stopped.
    """

    kind: str  # "entry", "string" or "preamble"
    type: str  # the entry type as written ("Article"), or the command
    line: int
    key: str = ""
    fields: list[ScannedField] = field(default_factory=list)
    error: str = ""
    error_line: int | None = None
    end_line: int = 0


@dataclass
class ScanResult:
    """Every block in file order, and problems outside any entry (bad ``@`` commands)."""

    blocks: list[ScannedBlock]
    warnings: list[str]

    @property
    def entries(self) -> list[ScannedBlock]:
        return [b for b in self.blocks if b.kind == "entry"]


class _SyntaxError(Exception):
    """bibtex's ``bib_err``: reading of this block stops at ``position``."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [match.start() for match in _NEWLINE.finditer(text)]

    def line(self, position: int) -> int:
        return bisect.bisect_left(self.newlines, position) + 1

    def white(self, position: int) -> int:
        """Skip whitespace and line breaks; the end of the file here is an error."""
        position = _end_of(_WHITE, self.text, position)
        if position >= len(self.text):
            raise _SyntaxError("the file ends inside this block", position)
        return position

    def identifier(self, position: int, what: str, allowed_after: str) -> tuple[str, int]:
        """bibtex's ``scan_identifier`` + ``bib_identifier_scan_check``."""
        match = _IDENTIFIER.match(self.text, position)
        if match is None or self.text[position].isdigit():
            raise _SyntaxError(f"{what} is missing (found {self._shown(position)})", position)
        end = match.end()
        if end < len(self.text) and self.text[end] not in " \t\n" + allowed_after:
            raise _SyntaxError(f"{what} {match.group()!r} is followed by {self._shown(end)}", end)
        return match.group(), end

    def _shown(self, position: int) -> str:
        if position >= len(self.text):
            return "the end of the file"
        char = self.text[position]
        return "a line break" if char == "\n" else repr(char)

    def delimited(self, position: int, closing: str) -> int:
        """Just past a ``{…}`` or ``"…"`` token starting at ``position``."""
        depth = 0
        marks = _BRACE_MARKS if closing == "}" else _QUOTE_MARKS
        for mark in marks.finditer(self.text, position + 1):
            char = mark.group()
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    if closing == "}":
                        return mark.end()
                    raise _SyntaxError(
                        "a '}' closes a brace that was never opened in a quoted value",
                        mark.end(),
                    )
                depth -= 1
            elif depth == 0:  # the closing quote
                return mark.end()
        opened = self.line(position)
        swallowed = [
            self.line(m.start() + 1) for m in _LOOKS_LIKE_ENTRY.finditer(self.text, position)
        ]
        inside = (
            f" (with what look like {len(swallowed)} more entries, on lines "
            f"{', '.join(map(str, swallowed[:10]))}{', …' if len(swallowed) > 10 else ''})"
            if swallowed
            else ""
        )
        raise _SyntaxError(
            f"the {'{' if closing == '}' else chr(34)} opened on line {opened} is never "
            f"closed: bibtex reads the rest of the file into this field{inside}",
            len(self.text),
        )

    def value(self, position: int, closing: str) -> tuple[str, int]:
        """A field value (tokens joined by ``#``) and the position after its whitespace."""
        start = position
        while True:
            char = self.text[position]
            if char == "{":
                end = self.delimited(position, "}")
            elif char == '"':
                end = self.delimited(position, '"')
            elif char.isdigit():
                end = _end_of(_DIGITS, self.text, position)
            else:
                _, end = self.identifier(position, "a field value", "," + closing + "#")
            value_end = end
            position = self.white(end)
            if self.text[position] != "#":
                return self.text[start:value_end], position
            position = self.white(position + 1)

    def opening(self, position: int) -> tuple[str, int]:
        char = self.text[position]
        if char not in "{(":
            raise _SyntaxError(f"expected '{{' or '(' but found {self._shown(position)}", position)
        return ("}" if char == "{" else ")"), position + 1

    def block(self, at: int) -> tuple[ScannedBlock | None, int]:
        """Read the command or entry whose ``@`` is at ``at``; where to look for the next.

        Up to the key, a problem means there is no entry (bibtex stores an entry only once
        its key is read), so it raises; after that the block is returned with ``error``.
        """
        position = self.white(at + 1)
        name, position = self.identifier(position, "an entry type", "{(")
        kind = name.lower()
        if kind == "comment":
            return None, position
        closing, position = self.opening(self.white(position))
        position = self.white(position)
        block = ScannedBlock(
            kind=kind if kind in COMMANDS else "entry", type=name, line=self.line(at)
        )
        try:
            position = self._body(block, position, closing)
        except _SyntaxError as exc:
            block.error = exc.message
            block.error_line = self.line(min(exc.position, len(self.text) - 1))
            position = exc.position
        block.end_line = self.line(max(position - 1, 0))
        return block, position

    def _body(self, block: ScannedBlock, position: int, closing: str) -> int:
        if block.kind == "preamble":
            value, position = self.value(position, closing)
            block.fields.append(ScannedField("preamble", value, self.line(position)))
            return self._close(position, closing)
        if block.kind == "string":
            name, position = self.identifier(position, "a string name", "=")
            position = self.white(position)
            if self.text[position] != "=":
                raise _SyntaxError(f"expected '=' but found {self._shown(position)}", position)
            line = self.line(position)
            value, position = self.value(self.white(position + 1), closing)
            block.key = name
            block.fields.append(ScannedField(name, value, line))
            return self._close(position, closing)
        key_pattern = _KEY_IN_BRACES if closing == "}" else _KEY_IN_PARENS
        key_end = _end_of(key_pattern, self.text, position)
        block.key = self.text[position:key_end]
        position = self.white(key_end)
        while self.text[position] != closing:
            if self.text[position] != ",":
                raise _SyntaxError(
                    f"expected ',' or '{closing}' but found {self._shown(position)}", position
                )
            position = self.white(position + 1)
            if self.text[position] == closing:
                break
            line = self.line(position)
            name, position = self.identifier(position, "a field name", "=")
            position = self.white(position)
            if self.text[position] != "=":
                raise _SyntaxError(
                    f"expected '=' after the field name {name!r} but found {self._shown(position)}",
                    position,
                )
            value, position = self.value(self.white(position + 1), closing)
            block.fields.append(ScannedField(name, value, line))
        return position + 1

    def _close(self, position: int, closing: str) -> int:
        if self.text[position] != closing:
            raise _SyntaxError(f"expected '{closing}' but found {self._shown(position)}", position)
        return position + 1


def scan_bibtex(text: str) -> ScanResult:
    """Every entry, ``@string`` and ``@preamble`` of ``text`` (``\\n`` line ends), as bibtex."""
    scanner = _Scanner(text)
    blocks: list[ScannedBlock] = []
    warnings: list[str] = []
    position = stray = 0
    while True:
        at = text.find("@", position)
        if at < 0:
            break
        try:
            block, position = scanner.block(at)
        except _SyntaxError as exc:
            # No type: bibtex says so and goes on looking for the next "@"; so do we.
            stray += 1
            if stray <= MAX_STRAY_WARNINGS:
                warnings.append(
                    f"line {scanner.line(at)}: an '@' outside any entry does not start one "
                    f"({exc.message}); ignored, as bibtex does"
                )
            position = max(exc.position, at + 1)
            continue
        if block is not None:
            blocks.append(block)
    if stray > MAX_STRAY_WARNINGS:
        warnings.append(
            f"{stray - MAX_STRAY_WARNINGS} more '@' outside any entry that do not start one; "
            "ignored, as bibtex does"
        )
    return ScanResult(blocks=blocks, warnings=warnings)


def count_entries(text: str) -> list[int]:
    """1-based line numbers of every entry's ``@``, as bibtex finds them."""
    return [block.line for block in scan_bibtex(text).blocks if block.kind == "entry"]
