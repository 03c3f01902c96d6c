"""Compile the query tree (library.search.query) into SQLite FTS5 MATCH text plus SQL.

Text leaves become one FTS5 expression where FTS5 can express it (AND, OR, binary NOT,
column filters, phrases, prefixes); facet filters, year ranges and negations FTS5 cannot
express (a NOT with nothing to subtract from) become SQL predicates on the piece row.
Every word is written as a quoted FTS5 string, so no reader input is ever FTS5 syntax.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from library.catalogue.models import Piece
from library.search.backends.database.sqlite.stems import fts5_stems
from library.search.prefixes import Completions
from library.search.query import And, Filter, Node, Not, Phrase, Term, YearRange
from library.search.text import clean_for_index
from library.search.vocab import Vocabulary, resolve_type

FTS_TABLE = "search_piece_fts"
PrefixWords = Callable[[str], list[str]]
_COLUMN = {"title": "title", "author": "authors"}
# FTS5 stems a prefix before matching it: ``negotiat*`` reaches the stems ``negotiat…``;
# ``ines*``, whose stem is "in", is matched through a carrier (prefixes.py).
_COMPLETIONS = Completions(prefix_is_stemmed=True, carried=True)
TOPIC_TABLE = Piece.topics.through._meta.db_table
_PIECE_TABLE = Piece._meta.db_table
REGION_TABLE = Piece.regions.through._meta.db_table


def quote(text: str) -> str:
    """An FTS5 string literal: the tokenizer splits it, nothing in it is syntax."""
    return '"' + clean_for_index(text).replace('"', '""') + '"'


@dataclass
class _Part:
    """Rows matching ``fts`` (if any) and every SQL predicate in ``sql``."""

    fts: str | None = None
    sql: list[tuple[str, list]] = field(default_factory=list)
    negated: bool = False

    def as_sql(self) -> tuple[str, list]:
        clauses, params = [], []
        if self.fts is not None:
            clauses.append(f"p.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)")
            params.append(self.fts)
        for sql, args in self.sql:
            clauses.append(sql)
            params.extend(args)
        text = " AND ".join(f"({c})" for c in clauses) if clauses else "1"
        # coalesce: an undated piece is "not in 2010..2030", not unknown (SQL's NULL logic).
        return (f"NOT coalesce(({text}), 0)", params) if self.negated else (text, params)


@dataclass
class Compiled:
    """``match`` ranks and restricts; ``where`` restricts (on alias ``p``); ``highlight``
    matches every positive word, for snippets and for ranking when ``match`` is None."""

    match: str | None
    where: str
    params: list
    highlight: str | None
    hints: list[str]
    # When ``where`` is only topic, region and year filters ANDed together: SQL selecting
    # the ids that pass it (an INTERSECT of the filters' own id reads), so the ids pass can
    # match without the filter and keep the filter's ids in numpy (see backend._match_ids).
    id_filter: tuple[str, list] | None = None


class Compiler:
    def __init__(self, vocabulary: Vocabulary, prefix_words: PrefixWords | None = None) -> None:
        self.vocabulary = vocabulary
        self.prefix_words = prefix_words
        self.hints: list[str] = []
        self.positive: list[str] = []
        # The SQL clause each topic, region or year filter became -> its id subquery.
        self._id_reads: dict[tuple[str, tuple], tuple[str, list]] = {}

    def compile(self, root: Node | None) -> Compiled:
        part = self._node(root) if root is not None else _Part()
        match, where = None, ""
        params: list[object] = []
        if part.negated:
            where, params = part.as_sql()
        elif part.fts is not None or part.sql:
            match = part.fts
            if part.sql:
                where, params = _Part(sql=part.sql).as_sql()
        highlight = " OR ".join(dict.fromkeys(self.positive)) or None
        id_filter = None
        found = [self._id_reads.get((sql, tuple(args))) for sql, args in part.sql]
        reads = [read for read in found if read is not None]
        if match is not None and reads and len(reads) == len(found):
            id_filter = (
                " INTERSECT ".join(sub for sub, _ in reads),
                [arg for _, args in reads for arg in args],
            )
        return Compiled(match, where, params, highlight, self.hints, id_filter)

    # --- leaves --------------------------------------------------------------------------

    def _text(
        self, expr: str, column: str | None, negated_context: bool, highlight: str = ""
    ) -> _Part:
        if not negated_context:
            shown = highlight or expr
            self.positive.append(shown if column is None else f"{column} : ({shown})")
        return _Part(fts=expr if column is None else f"{column} : ({expr})")

    def _term(self, node: Term, neg: bool) -> _Part:
        literal = quote(node.text) + ("*" if node.prefix else "")
        highlight = ""
        if node.prefix:
            carrier = _COMPLETIONS.carrier(node.text, fts5_stems)
            literal = quote(carrier) + "*" if carrier is not None else literal
            # The words whose stems FTS5's match on the stemmed prefix misses (prefixes.py).
            extra = [quote(w) for w in _COMPLETIONS(node.text, fts5_stems)]
            literal = "(" + " OR ".join([literal, *extra]) + ")" if extra else literal
            # Highlighting a prefix makes FTS5 merge every matching term's postings for the
            # whole index; the catalogue's commonest words with that prefix are enough.
            words = self.prefix_words(node.text) if self.prefix_words is not None else []
            shown = [*(quote(w) for w in words), *extra]
            highlight = "(" + " OR ".join(shown) + ")" if words else ""
        if node.field is None and not node.prefix:
            others = [quote(s) for s in self.vocabulary.synonyms(node.text)]
            if others:
                literal = "(" + " OR ".join([literal, *others]) + ")"
        return self._text(literal, _COLUMN.get(node.field or ""), neg, highlight)

    def _phrase(self, node: Phrase, neg: bool) -> _Part:
        text = " ".join(node.words)
        literal = quote(text)
        if node.field is None:
            others = [quote(s) for s in self.vocabulary.synonyms(text)]
            if others:
                literal = "(" + " OR ".join([literal, *others]) + ")"
        return self._text(literal, _COLUMN.get(node.field or ""), neg)

    def _filter(self, node: Filter, neg: bool) -> _Part:
        if node.field == "type":
            value = resolve_type(node.value)
            if value is None:
                self.hints.append(f"No piece type called “{node.value}”; that filter was ignored.")
                return _Part()
            return _Part(sql=[("p.type = %s", [value])])
        ids = self.vocabulary.resolve(node.field, node.value)
        if not ids:
            self.hints.append(
                f"No {node.field} called “{node.value}”; searched for it as words instead."
            )
            return self._text(quote(node.value), None, neg)
        table, column = (
            (TOPIC_TABLE, "topic_id") if node.field == "topic" else (REGION_TABLE, "region_id")
        )
        marks = ", ".join(["%s"] * len(ids))
        return self._id_read(
            f"SELECT piece_id AS id FROM {table} WHERE {column} IN ({marks})", sorted(ids)
        )

    def _year(self, node: YearRange) -> _Part:
        """An id filter read from the date index alone.

        ``p.date BETWEEN …`` would join every matching piece's (wide) row; ids from the
        date index (which holds the rowid) keep the query on the index, like a topic filter.
        """
        clauses, params = [], []
        if node.low is not None:
            clauses.append("date >= %s")
            params.append(f"{node.low:04d}-01-01")
        if node.high is not None:
            clauses.append("date <= %s")
            params.append(f"{node.high:04d}-12-31")
        where = " AND ".join(clauses) or "date IS NOT NULL"
        return self._id_read(f"SELECT id FROM {_PIECE_TABLE} WHERE {where}", params)

    def _id_read(self, sub_sql: str, params: list) -> _Part:
        """``p.id IN (sub_sql)``, remembering the subquery for ``Compiled.id_filter``."""
        sql = f"p.id IN ({sub_sql})"
        self._id_reads[(sql, tuple(params))] = (sub_sql, params)
        return _Part(sql=[(sql, params)])

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
            if inner.fts is None and not inner.sql:
                return _Part()  # excluding an ignored filter excludes nothing
            return _Part(fts=inner.fts, sql=inner.sql, negated=not inner.negated)
        if isinstance(node, And):
            return self._and([self._node(child, neg) for child in node.children])
        return self._or([self._node(child, neg) for child in node.children])

    def _and(self, parts: list[_Part]) -> _Part:
        positive = [p.fts for p in parts if not p.negated and p.fts is not None and not p.sql]
        negative = [p.fts for p in parts if p.negated and p.fts is not None and not p.sql]
        sql: list[tuple[str, list]] = []
        for p in parts:
            if p.fts is not None and not p.sql:
                continue  # handled as FTS text above
            if p.fts is None and not p.sql:
                continue  # an ignored filter
            if not p.negated and p.fts is not None:
                positive.append(p.fts)
                sql.extend(p.sql)
            elif not p.negated:
                sql.extend(p.sql)  # its clauses, ANDed as as_sql() would (see id_filter)
            else:
                sql.append(p.as_sql())
        if not positive:
            # FTS5's NOT is binary: with nothing to subtract from, exclusions become SQL.
            sql.extend(_Part(fts=n, negated=True).as_sql() for n in negative)
            return _Part(sql=sql)
        expr = " AND ".join(f"({e})" for e in positive)
        for n in negative:
            expr = f"({expr}) NOT ({n})"
        return _Part(fts=expr, sql=sql)

    def _or(self, parts: list[_Part]) -> _Part:
        if all(p.fts is not None and not p.sql and not p.negated for p in parts):
            return _Part(fts=" OR ".join(f"({p.fts})" for p in parts))
        if any(p.fts is None and not p.sql for p in parts):
            return _Part()  # an ignored filter makes the alternative always true
        clauses, params = [], []
        for p in parts:
            sql, args = p.as_sql()
            clauses.append(f"({sql})")
            params.extend(args)
        return _Part(sql=[(" OR ".join(clauses), params)])


def compile_query(
    root: Node | None, vocabulary: Vocabulary, prefix_words: PrefixWords | None = None
) -> Compiled:
    """Compile a parsed query's tree for the FTS5 backend."""
    return Compiler(vocabulary, prefix_words).compile(root)
