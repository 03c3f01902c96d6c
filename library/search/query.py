"""The one search query language, parsed once into a small tree every search backend compiles.

Readers type what they remember (``mosul coin``, ``author:basit``,
``"foreign fighters" region:iraq year:2014..2017``); this module turns any string into a
:class:`ParsedQuery`. Parsing is *total*: no input raises. Whatever cannot be understood is
repaired or dropped, and a short user-facing hint says so.

Grammar (informal EBNF; keywords are uppercase only, field names are case-insensitive)::

    query     := and_expr
    and_expr  := or_expr ( ["AND"] or_expr )*            implicit or explicit AND
    or_expr   := unary ( "OR" unary )*                    OR binds tighter than AND
    unary     := ( "NOT" | "-" )* primary                 NOT / leading "-" bind tightest
    primary   := word | prefix | phrase | field | "(" and_expr ")"
    word      := any run of characters without whitespace or  " ( )
    prefix    := word "*"                                 at least 2 characters before "*"
    phrase    := '"' ( any character but '"' )* '"'
    field     := ("title" | "author") ":" ( word | prefix | phrase | "(" and_expr ")" )
               | ("topic" | "region" | "type") ":" ( word | phrase | "(" and_expr ")" )
               | "year:" year | "year:" year ".." year | "year:" year ".." | "year:.." year

Precedence follows the web-search convention (Google): ``NOT``/``-`` binds tightest, then
``OR``, then AND (implicit or explicit), so ``a b OR c`` means ``a AND (b OR c)`` and
``a AND b OR c`` means the same. Readers type ``iraq syria OR lebanon`` meaning "about Iraq,
and about Syria or Lebanon"; the SQL-style reading ``(iraq AND syria) OR lebanon`` is
almost never what they meant. Parentheses override: ``(a b) OR c``.

Words are split on whitespace. Punctuation inside a word is kept for the backend's own
tokenizer (``al-Baghdadi``, ``O'Neill``, ``U.S``); punctuation at either end is stripped
(``iraq,`` is ``iraq``), and a word with no letter or digit left is dropped. Unicode is kept as
typed: case and diacritic folding is each backend's job. An unknown ``name:`` prefix is not a
field; the token is searched as plain words.

The tree is built from frozen, hashable dataclasses whose ``str()`` is canonical query syntax:
``parse_query(str(node)).root == node`` for every tree this module produces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import Enum, auto
from typing import TypeAlias

__all__ = [
    "And",
    "Filter",
    "Node",
    "Not",
    "Or",
    "ParsedQuery",
    "Phrase",
    "Term",
    "YearRange",
    "parse_query",
    "plain_words",
]

TEXT_FIELDS = frozenset({"title", "author"})
FACET_FIELDS = frozenset({"topic", "region", "type"})
YEAR_FIELD = "year"
FIELDS = TEXT_FIELDS | FACET_FIELDS | {YEAR_FIELD}

_OPERATORS = frozenset({"AND", "OR", "NOT"})
# Characters that end a word because they are syntax wherever they appear.
_BREAKERS = frozenset('"()')
_MIN_PREFIX = 2
# Parentheses deeper than this are ignored: it bounds the recursion of the parser and of every
# backend compiler, and nobody nests a reading-list search ten levels deep on purpose.
_MAX_DEPTH = 10
# A pasted essay could otherwise produce dozens of notes; the first few say enough.
_MAX_HINTS = 6
_YEAR = re.compile(r"(?P<low>[0-9]{1,4})?(?:(?P<sep>\.\.|…|-|–)(?P<high>[0-9]{1,4})?)?")
_YEAR_EDGE_JUNK = ",;!?()[]'\""


# --- The tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """One word, optionally restricted to a text field, optionally a prefix (``mosul*``)."""

    text: str
    field: str | None = None
    prefix: bool = False

    def __str__(self) -> str:
        star = "*" if self.prefix else ""
        if self.field:
            value = self.text if _is_bare(self.text, in_field=True) else f'"{self.text}"'
            return f"{self.field}:{value}{star}"
        if self.prefix or _is_bare(self.text, in_field=False):
            return f"{self.text}{star}"
        # A word such as "OR" or "foo:bar" only ever comes from quotes; quote it back.
        return f'"{self.text}"'


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more words that must appear together, in order."""

    words: tuple[str, ...]
    field: str | None = None

    def __str__(self) -> str:
        quoted = '"' + " ".join(self.words) + '"'
        return f"{self.field}:{quoted}" if self.field else quoted


@dataclass(frozen=True, slots=True)
class Filter:
    """A facet filter: ``topic:``, ``region:`` or ``type:`` with the value as typed."""

    field: str
    value: str

    def __str__(self) -> str:
        bare = self.value and not any(ch.isspace() or ch in _BREAKERS for ch in self.value)
        return f"{self.field}:{self.value}" if bare else f'{self.field}:"{self.value}"'


@dataclass(frozen=True, slots=True)
class YearRange:
    """Publication years, both ends inclusive; ``None`` is an open end."""

    low: int | None
    high: int | None

    def __str__(self) -> str:
        if self.low is not None and self.low == self.high:
            return f"year:{self.low}"
        low = "" if self.low is None else str(self.low)
        high = "" if self.high is None else str(self.high)
        return f"year:{low}..{high}"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        # OR binds tighter than AND, so an Or child needs no parentheses here.
        return " ".join(_wrap(child, And) for child in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(_wrap(child, And, Or) for child in self.children)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return "-" + _wrap(self.child, And, Or, Not)


Node: TypeAlias = Term | Phrase | Filter | YearRange | And | Or | Not


def _wrap(node: Node, *needs_parens: type) -> str:
    return f"({node})" if isinstance(node, needs_parens) else str(node)


def _is_bare(text: str, *, in_field: bool) -> bool:
    """Whether ``text`` re-reads as this same word when written without quotes."""
    if any(ch.isspace() or ch in _BREAKERS for ch in text):
        return False
    # After "field:" the value may hold colons and operator words; on its own it may not.
    return in_field or (":" not in text and text not in _OPERATORS)


# --- The result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    """A query as understood: the tree, the notes on what was repaired, the canonical text."""

    root: Node | None
    hints: tuple[str, ...] = ()
    text: str = ""

    @property
    def positive_terms(self) -> tuple[str, ...]:
        """Words and phrase words not under a Not, in order, once each (for highlighting)."""
        words: dict[str, None] = {}
        for leaf in _positive_leaves(self.root):
            if isinstance(leaf, Term):
                words[leaf.text] = None
            elif isinstance(leaf, Phrase):
                words.update(dict.fromkeys(leaf.words))
        return tuple(words)


def _positive_leaves(node: Node | None, negated: bool = False) -> Iterator[Node]:
    if node is None:
        return
    if isinstance(node, Not):
        yield from _positive_leaves(node.child, not negated)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from _positive_leaves(child, negated)
    elif not negated:
        yield node


# --- Public entry points --------------------------------------------------------------------


def parse_query(text: str, *, max_length: int = 500, max_terms: int = 32) -> ParsedQuery:
    """Parse anything a reader typed. Never raises; see the module docstring for the syntax."""
    hints = _Hints()
    cleaned = _truncate(_clean(text), max(0, max_length), hints)
    tokens = _tokenize(cleaned, hints)
    root = _Parser(tokens, hints, max(0, max_terms)).parse()
    return ParsedQuery(root=root, hints=hints.as_tuple(), text=str(root) if root else "")


def plain_words(text: str) -> ParsedQuery:
    """The best plain-words reading of ``text``: its positive words, ANDed, nothing else.

    Backends fall back to this when their compiled query fails. Operators, fields, filters,
    prefixes and negated words are left out: searching for a word the reader excluded would
    invert their intent.
    """
    parsed = parse_query(text)
    root = _make_and([Term(word) for word in parsed.positive_terms])
    return ParsedQuery(root=root, hints=parsed.hints, text=str(root) if root else "")


# --- Cleaning -------------------------------------------------------------------------------


class _Hints:
    """Distinct hints in the order they arose, capped so a pasted essay stays readable."""

    def __init__(self) -> None:
        self._items: list[str] = []

    def add(self, hint: str) -> None:
        if hint not in self._items and len(self._items) < _MAX_HINTS:
            self._items.append(hint)

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(self._items)


def _clean(text: object) -> str:
    """Whitespace becomes one plain space; control characters and lone surrogates go.

    Surrogates go too because no backend can encode them (SQLite and psycopg raise).
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    kept = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cs"):
            kept.append(ch)
    return "".join(kept).strip()


def _truncate(text: str, max_length: int, hints: _Hints) -> str:
    if len(text) <= max_length:
        return text
    cut = text[:max_length]
    if not text[max_length].isspace():
        # Cutting inside a word would search for a fragment; drop the fragment instead.
        head, space, _ = cut.rpartition(" ")
        if space:
            cut = head
    hints.add(f"Query too long: only its first {max_length} characters were searched.")
    return cut.rstrip()


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _strip_punct(word: str) -> str:
    start, end = 0, len(word)
    while start < end and _is_punct(word[start]):
        start += 1
    while end > start and _is_punct(word[end - 1]):
        end -= 1
    return word[start:end]


def _clean_word(raw: str, hints: _Hints) -> tuple[str, bool] | None:
    """``raw`` as a searchable word and whether it is a prefix, or None if nothing is left."""
    prefix = raw.endswith("*")
    word = _strip_punct(raw)
    # A word of symbols only ("+", "=") gives backend tokenizers an empty term to choke on.
    if not any(ch.isalnum() for ch in word):
        return None
    if prefix and len(word) < _MIN_PREFIX:
        hints.add(f"{raw} is too short for a prefix search; searched as the word {word}.")
        prefix = False
    return word, prefix


def _phrase_words(content: str) -> tuple[str, ...]:
    stripped = (_strip_punct(word) for word in content.split())
    return tuple(word for word in stripped if any(ch.isalnum() for ch in word))


# --- Tokenizer ------------------------------------------------------------------------------


class _Kind(Enum):
    WORD = auto()
    PHRASE = auto()
    FIELD = auto()
    LPAREN = auto()
    RPAREN = auto()
    AND = auto()
    OR = auto()
    NOT = auto()
    NEG = auto()  # a leading "-"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str = ""  # WORD: the cleaned word; FIELD: the raw value after the colon
    words: tuple[str, ...] = ()  # PHRASE
    field: str = ""  # FIELD: the lowercased field name
    prefix: bool = False  # WORD
    attached: bool = False  # FIELD: the value is the phrase or group right after the colon


_LPAREN = _Token(_Kind.LPAREN)
_RPAREN = _Token(_Kind.RPAREN)
_NEG = _Token(_Kind.NEG)


def _tokenize(text: str, hints: _Hints) -> list[_Token]:
    """Split cleaned text into tokens; parentheses come out balanced and at most _MAX_DEPTH."""
    tokens: list[_Token] = []
    open_parens: list[bool] = []  # per "(" seen: whether it was kept
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
        elif ch == "(":
            kept = depth < _MAX_DEPTH
            open_parens.append(kept)
            if kept:
                depth += 1
                tokens.append(_LPAREN)
            else:
                hints.add(f"Ignored parentheses nested more than {_MAX_DEPTH} deep.")
            i += 1
        elif ch == ")":
            if not open_parens:
                hints.add("Ignored an unmatched closing parenthesis.")
            elif open_parens.pop():
                depth -= 1
                tokens.append(_RPAREN)
            i += 1
        elif ch == '"':
            words, i = _read_phrase(text, i + 1, hints)
            tokens.append(_Token(_Kind.PHRASE, words=words))
        elif ch == "-":
            i = _read_negation(text, i, tokens, hints)
        else:
            chunk, i = _read_chunk(text, i)
            tokens.extend(_chunk_tokens(chunk, text[i : i + 1], hints, literal=False))
    if depth:
        hints.add("Added a missing closing parenthesis.")
        tokens.extend([_RPAREN] * depth)
    return tokens


def _read_phrase(text: str, start: int, hints: _Hints) -> tuple[tuple[str, ...], int]:
    end = text.find('"', start)
    if end == -1:
        hints.add("Added a missing closing quote.")
        return _phrase_words(text[start:]), len(text)
    return _phrase_words(text[start:end]), end + 1


def _read_chunk(text: str, start: int) -> tuple[str, int]:
    end = start
    while end < len(text) and text[end] != " " and text[end] not in _BREAKERS:
        end += 1
    return text[start:end], end


def _read_negation(text: str, start: int, tokens: list[_Token], hints: _Hints) -> int:
    """Read "-" (or "--") and what it negates; return the position after them."""
    i = start
    while i < len(text) and text[i] == "-":
        i += 1
    if i == len(text) or text[i] in " )":
        return i  # a lone "-" negates nothing
    if text[i] in '"(':
        tokens.append(_NEG)
        return i
    chunk, end = _read_chunk(text, i)
    # literal=True: "-OR" excludes the word OR rather than being an operator.
    negated = _chunk_tokens(chunk, text[end : end + 1], hints, literal=True)
    if len(negated) > 1:  # "-foo:bar" excludes the pair, not only "foo"
        negated = [_LPAREN, *negated, _RPAREN]
    if negated:  # "-," negates nothing and must not swallow the next word
        tokens.extend([_NEG, *negated])
    return end


def _chunk_tokens(chunk: str, next_char: str, hints: _Hints, *, literal: bool) -> list[_Token]:
    """Tokens for one run of non-space, non-syntax characters."""
    if not literal and chunk in _OPERATORS:
        return [_Token(_Kind[chunk])]
    name, colon, value = chunk.partition(":")
    if not colon:
        return _word_tokens(chunk, hints)
    field_name = name.lower()
    if field_name in FIELDS:
        attached = not value and next_char in ('"', "(")
        return [_Token(_Kind.FIELD, text=value, field=field_name, attached=attached)]
    # Not a field: "foo:bar" is two words. Only warn when it looks like an attempted field,
    # not for times ("10:30") or ratios.
    if name.isalpha():
        hints.add(f"Unknown field '{name}:' searched as words.")
    return [token for part in chunk.split(":") for token in _word_tokens(part, hints)]


def _word_tokens(raw: str, hints: _Hints) -> list[_Token]:
    cleaned = _clean_word(raw, hints)
    if cleaned is None:
        return []
    word, prefix = cleaned
    return [_Token(_Kind.WORD, text=word, prefix=prefix)]


# --- Parser ---------------------------------------------------------------------------------

_PRIMARY_STARTS = frozenset({_Kind.WORD, _Kind.PHRASE, _Kind.FIELD, _Kind.LPAREN})
_OPERAND_STARTS = _PRIMARY_STARTS | {_Kind.NEG, _Kind.NOT}


class _Parser:
    """Recursive descent over the tokens; every method returns None for "nothing here"."""

    def __init__(self, tokens: list[_Token], hints: _Hints, max_terms: int) -> None:
        self._tokens = tokens
        self._pos = 0
        self._hints = hints
        self._max_terms = max_terms
        self._leaves = 0

    def parse(self) -> Node | None:
        parts = [self._and_expr()]
        # The tokenizer balances parentheses, so this loop only guards against a stray ")".
        while self._peek() is not None:
            self._pos += 1
            parts.append(self._and_expr())
        if self._leaves > self._max_terms:
            self._hints.add(f"Only the first {self._max_terms} terms were searched.")
        return _make_and(parts)

    def _peek(self) -> _Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _starts_operand(self) -> bool:
        token = self._peek()
        return token is not None and token.kind in _OPERAND_STARTS

    def _and_expr(self) -> Node | None:
        children: list[Node | None] = []
        while (token := self._peek()) is not None and token.kind is not _Kind.RPAREN:
            if token.kind in (_Kind.AND, _Kind.OR):
                # or_expr consumes every OR that has a left operand, so one seen here has none.
                self._pos += 1
                if token.kind is _Kind.OR or not children or not self._starts_operand():
                    self._hints.add(f"Ignored a lone {token.kind.name}.")
                continue
            children.append(self._or_expr())
        return _make_and(children)

    def _or_expr(self) -> Node | None:
        children = [self._unary()]
        while (token := self._peek()) is not None and token.kind is _Kind.OR:
            self._pos += 1
            if not self._starts_operand():
                self._hints.add("Ignored a lone OR.")
                continue
            children.append(self._unary())
        return _make_or(children)

    def _unary(self) -> Node | None:
        negate = False
        while (token := self._peek()) is not None and token.kind in (_Kind.NOT, _Kind.NEG):
            self._pos += 1
            if not self._starts_operand():
                if token.kind is _Kind.NOT:
                    self._hints.add("Ignored a lone NOT.")
                return None
            negate = not negate  # NOT NOT x is x
        node = self._primary()
        return _make_not(node) if negate else node

    def _primary(self) -> Node | None:
        token = self._peek()
        if token is None or token.kind not in _PRIMARY_STARTS:
            return None
        self._pos += 1
        if token.kind is _Kind.WORD:
            return self._leaf(Term(token.text, prefix=token.prefix))
        if token.kind is _Kind.PHRASE:
            return self._leaf(_phrase_node(token.words))
        if token.kind is _Kind.LPAREN:
            node = self._and_expr()
            if (closing := self._peek()) is not None and closing.kind is _Kind.RPAREN:
                self._pos += 1
            return node
        return self._field(token)

    def _field(self, token: _Token) -> Node | None:
        follower = self._peek()
        if token.attached and follower and follower.kind in (_Kind.PHRASE, _Kind.LPAREN):
            value = self._primary()
            if value is None:
                self._hints.add(f"{token.field}: needs a value.")
            return _with_field(value, token.field, self._hints)
        if not token.text:
            self._hints.add(f"{token.field}: needs a value.")
            return None
        return self._leaf(_field_value(token.field, token.text, self._hints))

    def _leaf(self, node: Node | None) -> Node | None:
        """Count a leaf; past max_terms it is dropped (the hint is added once, at the end)."""
        if node is None:
            return None
        self._leaves += 1
        return node if self._leaves <= self._max_terms else None


# --- Building and simplifying the tree -----------------------------------------------------


def _make_and(children: list[Node | None]) -> Node | None:
    flat: list[Node] = []
    for child in children:
        if isinstance(child, And):
            flat.extend(child.children)
        elif child is not None:
            flat.append(child)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _make_or(children: list[Node | None]) -> Node | None:
    flat: list[Node] = []
    for child in children:
        if isinstance(child, Or):
            flat.extend(child.children)
        elif child is not None:
            flat.append(child)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def _make_not(child: Node | None) -> Node | None:
    if child is None:
        return None
    return child.child if isinstance(child, Not) else Not(child)


def _phrase_node(words: tuple[str, ...]) -> Node | None:
    # A one-word phrase is a word; keeping one shape per meaning keeps str() round-trips exact.
    if not words:
        return None
    return Term(words[0]) if len(words) == 1 else Phrase(words)


def _field_value(field_name: str, raw: str, hints: _Hints) -> Node | None:
    """The node for ``field:raw`` where raw is the unquoted text after the colon."""
    if field_name == YEAR_FIELD:
        return _year_node(raw, hints)  # raw, because stripping punctuation would eat "2014.."
    cleaned = _clean_word(raw, hints)
    if cleaned is None:
        hints.add(f"{field_name}: needs a value.")
        return None
    return _field_leaf(field_name, *cleaned, hints)


def _field_leaf(field_name: str, text: str, prefix: bool, hints: _Hints) -> Node | None:
    if field_name in TEXT_FIELDS:
        return Term(text, field_name, prefix)
    if field_name == YEAR_FIELD:
        return _year_node(text + ("*" if prefix else ""), hints)
    if prefix:
        hints.add(f"{field_name}: matches whole values only; searched {field_name}:{text}.")
    return Filter(field_name, text)


def _with_field(node: Node | None, field_name: str, hints: _Hints) -> Node | None:
    """Apply ``field:( ... )`` to every leaf of a group that has no field of its own."""
    if isinstance(node, Term) and node.field is None:
        return _field_leaf(field_name, node.text, node.prefix, hints)
    if isinstance(node, Phrase) and node.field is None:
        if field_name in TEXT_FIELDS:
            return replace(node, field=field_name)
        return _field_leaf(field_name, " ".join(node.words), False, hints)
    if isinstance(node, Not):
        return _make_not(_with_field(node.child, field_name, hints))
    if isinstance(node, And):
        return _make_and([_with_field(child, field_name, hints) for child in node.children])
    if isinstance(node, Or):
        return _make_or([_with_field(child, field_name, hints) for child in node.children])
    return node


def _year_node(raw: str, hints: _Hints) -> YearRange | None:
    value = raw.strip(_YEAR_EDGE_JUNK)
    match = _YEAR.fullmatch(value)
    if not value:
        hints.add("year: needs a value.")
        return None
    if match is None or not (match["low"] or match["high"]):
        hints.add(f"Ignored year:{raw} (write year:2016 or year:2014..2017).")
        return None
    low = int(match["low"]) if match["low"] else None
    high = int(match["high"]) if match["high"] else None
    if not match["sep"]:
        return YearRange(low, low)
    if match["sep"] in "-–" and (low is None or high is None):
        # "2014-" is a typo more likely than an open range; ".." is the open-range syntax.
        hints.add(f"Ignored year:{raw} (write year:2014.. or year:..2017 for open ranges).")
        return None
    if low is not None and high is not None and low > high:
        hints.add(f"Read year:{raw} as year:{high}..{low}.")
        low, high = high, low
    return YearRange(low, high)
