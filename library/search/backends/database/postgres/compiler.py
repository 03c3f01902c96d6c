"""Compile the query tree (library.search.query) into a PostgreSQL ``tsquery`` plus SQL.

Text leaves become one ``tsquery`` on ``vec`` where it can express them (``&``, ``|``,
``!``, phrases with ``<->``, prefixes with ``:*``); ``title:`` and ``author:`` match the
title's own vector and weight B of the short fields' vector; facet filters, year ranges
and any mix of those with text become SQL predicates on the index row ``d``
(``search_pg_doc``: piece id, date, type, vectors). Every reader word
is written as a quoted ``tsquery`` string, so no reader input is ever ``tsquery`` syntax.

A phrase of common words is matched on the index's adjacent pairs of them (``d.pairs``,
schema.py): two words whose pair is indexed exactly, so PostgreSQL has no word order to
recheck; a longer phrase rechecks the word order only in the pieces holding all its
indexed pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from library.catalogue.models import Piece
from library.search.backends.database.postgres.schema import (
    DOC_TABLE,
    TEXT_TABLE,
    TSQUERY,
    WORDS_ONLY,
)
from library.search.prefixes import Completions, Stems
from library.search.query import And, Filter, Node, Not, Phrase, Term, YearRange
from library.search.text import clean_for_index
from library.search.vocab import Vocabulary, resolve_type

# Weights in the tsvector: title A; authors, topics and regions B; synopsis C; body D.
_WEIGHT = {"title": "A", "author": "B"}
TOPIC_TABLE = Piece.topics.through._meta.db_table
REGION_TABLE = Piece.regions.through._meta.db_table


def quote(text: str) -> str:
    """A ``tsquery`` string literal: the text-search parser splits it, nothing in it is syntax.
    Its punctuation is spaces, as in the indexed text (schema.PUNCTUATION, which holds the
    backslash, so only the apostrophe needs escaping)."""
    cleaned = clean_for_index(text).replace("\x00", " ").translate(WORDS_ONLY)
    return "'" + cleaned.replace("'", "''") + "'"


@dataclass
class _Part:
    """Rows matching ``ts`` (if any) and every SQL predicate in ``sql``."""

    ts: str | None = None
    sql: list[tuple[str, list]] = field(default_factory=list)

    def as_sql(self) -> tuple[str, list]:
        clauses, params = [], []
        if self.ts is not None:
            clauses.append(f"d.vec @@ {TSQUERY}")
            params.append(self.ts)
        for sql, args in self.sql:
            clauses.append(sql)
            params.extend(args)
        text = " AND ".join(f"({c})" for c in clauses) if clauses else "TRUE"
        return text, params


@dataclass
class Compiled:
    """``match`` (a tsquery text) and ``where`` (SQL on ``d``) both restrict;
    ``highlight`` is every positive word OR-ed, for ranking and snippets."""

    match: str | None
    where: str
    params: list
    highlight: str | None
    hints: list[str]
    # Whether PostgreSQL must recheck candidates' whole vectors (word order): then
    # the match is worth computing once and keeping.
    rechecks: bool = False
    # Whether a title matching ``highlight`` matches the query: one word or phrase (with
    # its aliases) is all there is, and the title is part of ``vec``.
    title_implies_match: bool = False


# A phrase's adjacent pairs of stems, in order: each one's number if the index holds it.
PairsFor = Callable[[Sequence[str]], list[int | None]]


def _no_pairs(words: Sequence[str]) -> list[int | None]:
    return []


# to_tsquery stems a prefix before matching it: ``negotiat:*`` reaches ``negotiat…``.
_COMPLETIONS = Completions(prefix_is_stemmed=True)


def _any_of(terms: list[tuple[str, str]], weight: str) -> str:
    """``tsquery`` text matching any of ``terms`` (literal, star) in ``weight`` (or any)."""
    literals = [f"{lit}:{weight}{star}" if weight or star else lit for lit, star in terms]
    return f"({' | '.join(literals)})" if len(literals) > 1 else literals[0]


class Compiler:
    def __init__(
        self, vocabulary: Vocabulary, pairs_for: PairsFor = _no_pairs, stems: Stems | None = None
    ) -> None:
        self.vocabulary = vocabulary
        self.pairs_for = pairs_for
        # The text configuration's stems of words (prefix completions); None: no completions.
        self.stems = stems
        self.hints: list[str] = []
        self.rechecks = False
        self.positive: list[str] = []

    def compile(self, root: Node | None) -> Compiled:
        part = self._node(root) if root is not None else _Part()
        where = ""
        params: list[object] = []
        if part.sql:
            where, params = _Part(sql=part.sql).as_sql()
        highlight = " | ".join(f"({p})" for p in dict.fromkeys(self.positive)) or None
        implied = isinstance(root, Term | Phrase) and root.field in (None, "title")
        return Compiled(part.ts, where, params, highlight, self.hints, self.rechecks, implied)

    # --- leaves --------------------------------------------------------------------------

    def _text(self, literals: list[str], weight: str, negated: bool) -> _Part:
        return self._ranked(_any_of([(literal, "") for literal in literals], weight), negated)

    def _ranked(self, expr: str, negated: bool) -> _Part:
        """``expr`` as a match on ``vec``, and unless negated, ranked and highlighted."""
        if not negated:
            self.positive.append(expr)
        return _Part(ts=expr)

    def _term(self, node: Term, neg: bool) -> _Part:
        weight = _WEIGHT.get(node.field or "", "")
        if node.prefix:
            return self._prefix(node, weight, neg)
        if node.field:
            self._text([quote(node.text)], weight, neg)  # ranked and highlighted
            return self._in_field(node.field, [(quote(node.text), "")])
        return self._alternatives([node.text, *self.vocabulary.synonyms(node.text)], neg)

    def _prefix(self, node: Term, weight: str, neg: bool) -> _Part:
        """The prefix, and the words whose stems its match on stems misses (prefixes.py)."""
        extra = _COMPLETIONS(node.text, self.stems) if self.stems is not None else ()
        terms = [(quote(node.text), "*"), *((quote(word), "") for word in extra)]
        ranked = self._ranked(_any_of(terms, weight), neg)
        return ranked if node.field is None else self._in_field(node.field, terms)

    def _phrase(self, node: Phrase, neg: bool) -> _Part:
        text = " ".join(node.words)
        if node.field is None:
            return self._alternatives([text, *self.vocabulary.synonyms(text)], neg)
        self._text([quote(text)], _WEIGHT[node.field], neg)  # ranked and highlighted
        return self._in_field(node.field, [(quote(text), "")])

    @staticmethod
    def _in_field(field: str, terms: list[tuple[str, str]]) -> _Part:
        """``title:`` and ``author:`` on the short vectors, not on ``vec``; ``terms`` are
        alternatives, each a literal and its prefix star (``"*"`` or ``""``).

        A weight in ``vec`` made PostgreSQL recheck every piece holding the word anywhere
        (``author:`` a common word: 32,000 whole vectors, ~260 ms at 100,000 pieces). The
        title has its own vector; people are weight B of ``head`` (the short fields).
        """
        if field == "title":
            return _Part(sql=[(f"d.title @@ {TSQUERY}", [_any_of(terms, "")])])
        subquery = f"SELECT piece_id FROM {TEXT_TABLE} WHERE head @@ {TSQUERY}"
        return _Part(sql=[(f"d.piece_id = ANY(ARRAY({subquery}))", [_any_of(terms, "B")])])

    def _alternatives(self, texts: list[str], neg: bool) -> _Part:
        """Any of ``texts``: the reader's word or phrase and its aliases.

        A phrase among the alternatives is matched in its own subquery, whose ids join the
        words' exact index match: in one ``tsquery`` any phrase made PostgreSQL recheck
        every candidate, even the pieces the words alone had matched (``cyber`` or
        "information security": the whole catalogue, ~800 ms at 100,000 pieces).
        """
        part = self._text([quote(text) for text in texts], "", neg)
        phrases = [text for text in texts if not text.isalpha()]  # several lexemes
        if neg or not phrases:
            self.rechecks |= bool(phrases)
            return part
        if len(texts) == 1:
            return self._phrase_match(texts[0].split())
        words = [quote(text) for text in texts if text not in phrases]
        alternatives = [_Part(ts=" | ".join(words)).as_sql()] if words else []
        rechecks = self.rechecks  # a subquery runs once, whatever it rechecks
        for phrase in phrases:
            sql, params = self._phrase_match(phrase.split()).as_sql()
            self.rechecks = rechecks
            subquery = f"SELECT d.piece_id FROM {DOC_TABLE} d WHERE {sql}"
            alternatives.append((f"d.piece_id = ANY(ARRAY({subquery}))", params))
        sql = " OR ".join(f"({clause})" for clause, _ in alternatives)
        return _Part(sql=[(sql, [param for _, params in alternatives for param in params])])

    def _phrase_match(self, words: Sequence[str]) -> _Part:
        """The pieces holding ``words`` in this order, on the pairs index where it can.

        Alphabetic words only, so each word is exactly one lexeme at the next position.
        """
        literal = quote(" ".join(words))
        part = _Part(ts=literal)
        if len(words) < 2 or not all(word.isalpha() for word in words):
            self.rechecks |= len(words) > 1 or not words[0].isalpha()
            return part
        pairs = self.pairs_for(words)
        if len(pairs) != len(words) - 1:
            self.rechecks = True
            return part  # the parser saw other words than these: no shortcut
        indexed = sorted({code for code in pairs if code is not None})
        if len(words) == 2 and indexed:
            # The pair's number is exact: no word order to recheck. (``&&`` of one number
            # needs no recheck of the array either; ``@>`` would.)
            return _Part(sql=[("d.pairs && %s::integer[]", [indexed])])
        self.rechecks = True
        if indexed:
            # Every piece with the phrase has these pairs: a precise first cut.
            part.sql.append(("d.pairs @> %s::integer[]", [indexed]))
        return part

    def _filter(self, node: Filter, neg: bool) -> _Part:
        if node.field == "type":
            value = resolve_type(node.value)
            if value is None:
                self.hints.append(f"No piece type called “{node.value}”; that filter was ignored.")
                return _Part()
            return _Part(sql=[("d.type = %s", [value])])
        ids = self.vocabulary.resolve(node.field, node.value)
        if not ids:
            self.hints.append(
                f"No {node.field} called “{node.value}”; searched for it as words instead."
            )
            self.rechecks |= not node.value.isalpha()
            return self._text([quote(node.value)], "", neg)
        table, column = (
            (TOPIC_TABLE, "topic_id") if node.field == "topic" else (REGION_TABLE, "region_id")
        )
        sql = f"d.piece_id IN (SELECT piece_id FROM {table} WHERE {column} = ANY(%s))"
        return _Part(sql=[(sql, [sorted(ids)])])

    def _year(self, node: YearRange) -> _Part:
        clauses, params = [], []
        if node.low is not None:
            clauses.append("d.date >= %s")
            params.append(f"{node.low:04d}-01-01")
        if node.high is not None:
            clauses.append("d.date <= %s")
            params.append(f"{node.high:04d}-12-31")
        return _Part(sql=[(" AND ".join(clauses) or "d.date IS NOT NULL", params)])

    # --- combinations --------------------------------------------------------------------

    def _node(self, node: Node, neg: bool = False) -> _Part:
        if isinstance(node, Term):
            return self._term(node, neg)
        if isinstance(node, Phrase):
            return self._phrase(node, neg)
        if isinstance(node, Filter):
            return self._filter(node, neg)
        if isinstance(node, YearRange):
            return self._year(node)
        if isinstance(node, Not):
            inner = self._node(node.child, not neg)
            if inner.ts is None and not inner.sql:
                return _Part()  # excluding an ignored filter excludes nothing
            if not inner.sql:
                return _Part(ts=f"!({inner.ts})")
            sql, params = inner.as_sql()
            # coalesce: an undated piece is "not in 2010..2030", not unknown (SQL's NULLs).
            return _Part(sql=[(f"NOT coalesce(({sql}), FALSE)", params)])
        if isinstance(node, And):
            return self._and([self._node(child, neg) for child in node.children])
        return self._or([self._node(child, neg) for child in node.children])

    @staticmethod
    def _and(parts: list[_Part]) -> _Part:
        texts = [p.ts for p in parts if p.ts is not None]
        sql = [clause for p in parts for clause in p.sql]
        ts = " & ".join(f"({t})" for t in texts) if texts else None
        return _Part(ts=ts, sql=sql)

    @staticmethod
    def _or(parts: list[_Part]) -> _Part:
        if any(p.ts is None and not p.sql for p in parts):
            return _Part()  # an ignored filter makes the alternative always true
        if all(not p.sql for p in parts):
            return _Part(ts=" | ".join(f"({p.ts})" for p in parts))
        clauses, params = [], []
        for p in parts:
            sql, args = p.as_sql()
            clauses.append(f"({sql})")
            params.extend(args)
        return _Part(sql=[(" OR ".join(clauses), params)])


def compile_query(
    root: Node | None,
    vocabulary: Vocabulary,
    pairs_for: PairsFor = _no_pairs,
    stems: Stems | None = None,
) -> Compiled:
    """Compile a parsed query's tree for the PostgreSQL backend."""
    return Compiler(vocabulary, pairs_for, stems).compile(root)
