"""The Whoosh engine (``SEARCH_BACKEND=whoosh``): an index of files in WHOOSH_INDEX_DIR.

Distribution: ``whoosh-reloaded`` 2.7.5 (library/search/README.md compares the candidates).
Writes happen after the catalogue transaction commits (library.search.sync) and take
Whoosh's writer lock with a timeout, so concurrent savers queue rather than fail or lose
updates.
A missing or unreadable index raises IndexUnavailable; it never blocks a save.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from whoosh import highlight, index, searching, sorting
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from library.search.backends.base import IndexUnavailable, SearchBackend
from library.search.backends.shared import (
    build_facets,
    catalogue_order,
    closest,
    related_words,
    restore_snippets,
)
from library.search.documents import FIELDS, WEIGHTS, PieceDocument
from library.search.query import And, Filter, Node, Not, Or, ParsedQuery, Phrase, Term, YearRange
from library.search.results import Hit, SearchResults, Sort
from library.search.text import MARK_END, MARK_START, clean_for_index, fold
from library.search.vocab import Vocabulary, resolve_type

_COLUMN = {"title": "title", "author": "authors"}
_UNDATED_LAST = 10**7  # larger than any date's ordinal
_IDS = "piece_ids"  # the grouping that lists every match, for the title and author orders


def _analyzer():
    # No stop list, like FTS5: "to be or not to be" must stay searchable.
    return StemmingAnalyzer(stoplist=None, minsize=1) | CharsetFilter(accent_map)


def make_schema() -> Schema:
    text = {
        name: TEXT(analyzer=_analyzer(), stored=True, field_boost=WEIGHTS[name]) for name in FIELDS
    }
    return Schema(
        piece_id=ID(stored=True, unique=True),
        digest=STORED,
        words=TEXT(analyzer=StandardAnalyzer(stoplist=None, minsize=1) | CharsetFilter(accent_map)),
        year=NUMERIC(stored=True, sortable=True),
        date=NUMERIC(sortable=True),  # ordinal day; 0 when undated (last when newest first)
        date_asc=NUMERIC(sortable=True),  # the same, but undated is last when oldest first
        type=ID(stored=True, sortable=True),
        topic=KEYWORD(commas=True),
        region=KEYWORD(commas=True),
        author_id=KEYWORD(commas=True),
        **text,
    )


class _Markers(highlight.Formatter):
    """Marks matches with the same control characters as FTS5; text.markup escapes."""

    between = "…"

    def format_token(self, text, token, replace=False):
        return MARK_START + highlight.get_text(text, token, replace) + MARK_END


class WhooshBackend(SearchBackend):
    name = "whoosh"
    transactional = False

    def __init__(self, location: str) -> None:
        self.location = Path(location or settings.WHOOSH_INDEX_DIR)
        self.lock_timeout = float(getattr(settings, "WHOOSH_LOCK_TIMEOUT", 10.0))
        self._lock = threading.Lock()
        self._current = None  # the reused searcher

    # --- index handling ------------------------------------------------------------------

    def _open(self):
        try:
            return index.open_dir(str(self.location))
        except Exception as exc:  # EmptyIndexError, missing dir, corrupt TOC
            raise IndexUnavailable(f"Whoosh index at {self.location}: {exc}") from exc

    @contextmanager
    def _searcher(self):
        """A searcher over the latest commit, reused between searches.

        Opening an index's segments costs more than most searches, so one searcher is kept
        and refreshed (a no-op when nothing was committed); the lock keeps threads from
        sharing it mid-search.
        """
        with self._lock:
            if self._current is not None:
                try:
                    self._current = self._current.refresh()
                except Exception:  # files replaced by a rebuild, or gone: open afresh
                    self._current = None
            if self._current is None:
                ix = self._open()
                try:
                    self._current = ix.searcher()
                except Exception as exc:
                    raise IndexUnavailable(f"Whoosh index at {self.location}: {exc}") from exc
            yield self._current

    def problems(self) -> list[str]:
        """A missing or unreadable index (opening a searcher over it)."""
        try:
            with self._searcher():
                return []
        except IndexUnavailable as exc:
            return [str(exc)]

    def optimize(self) -> None:
        """Merge the segments a chunked rebuild leaves into one (faster searches)."""
        self._open().optimize()

    def _writer(self):
        try:
            return self._open().writer(timeout=self.lock_timeout)
        except IndexUnavailable:
            raise
        except index.LockError as exc:
            raise TimeoutError(
                f"Whoosh index at {self.location} stayed locked for {self.lock_timeout}s"
            ) from exc

    def clear(self) -> None:
        """Create a fresh, empty index (rebuild starts here)."""
        self.location.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._current = None
        index.create_in(str(self.location), make_schema())

    # --- writing -------------------------------------------------------------------------

    def add(self, document: PieceDocument) -> None:
        self.add_bulk([document])

    def add_bulk(self, documents: Iterable[PieceDocument]) -> int:
        writer = self._writer()
        count = 0
        try:
            for document in documents:
                writer.update_document(**_fields(document))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def delete(self, piece_id: int) -> None:
        writer = self._writer()
        try:
            writer.delete_by_term("piece_id", str(piece_id))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    # --- searching -----------------------------------------------------------------------

    def search(
        self, query: ParsedQuery, *, sort: Sort = Sort.RELEVANCE, offset: int = 0, limit: int = 20
    ) -> SearchResults:
        vocabulary = Vocabulary.load()
        compiler = _Compiler(self, vocabulary)
        compiled = compiler.node(query.root) if query.root is not None else None
        if compiled is None:
            compiled = wq.Every()
        with self._searcher() as searcher:
            sortedby, reverse = None, False
            if sort is Sort.NEWEST:
                sortedby = [sorting.FieldFacet("date", reverse=True), sorting.ScoreFacet()]
            elif sort is Sort.OLDEST:
                sortedby = [sorting.FieldFacet("date_asc"), sorting.ScoreFacet()]
            groups = {
                "topic": sorting.FieldFacet("topic", allow_overlap=True, maptype=sorting.Count),
                "region": sorting.FieldFacet("region", allow_overlap=True, maptype=sorting.Count),
                "author": sorting.FieldFacet(
                    "author_id", allow_overlap=True, maptype=sorting.Count
                ),
                "year": sorting.FieldFacet("year", maptype=sorting.Count),
                "type": sorting.FieldFacet("type", maptype=sorting.Count),
            }
            if sort.by_catalogue:
                # Every matching piece's id (and document number), for the catalogue to order.
                groups[_IDS] = sorting.FieldFacet("piece_id", maptype=sorting.UnorderedList)
            results = searcher.search(
                compiled,
                limit=1 if sort.by_catalogue else offset + limit,
                sortedby=sortedby,
                reverse=reverse,
                groupedby=groups,
                terms=True,
            )
            total = len(results)
            results.highlighter = highlight.Highlighter(
                fragmenter=highlight.ContextFragmenter(maxchars=200, surround=70),
                formatter=_Markers(),
            )
            if sort.by_catalogue:
                hits = _catalogue_page(results, sort, offset, limit)
            else:
                hits = []
                for hit in results[offset : offset + limit]:
                    # Sorted by date, Whoosh's "score" is the sort key; relevance is not
                    # reported.
                    score = hit.score if isinstance(hit.score, int | float) else 0.0
                    hits.append(Hit(int(hit["piece_id"]), float(score), _snippet(hit)))
            facets = _facets(results, vocabulary) if total else {}
        snippets = restore_snippets({h.piece_id: h.snippet for h in hits if h.snippet})
        hits = [Hit(h.piece_id, h.score, snippets.get(h.piece_id, "")) for h in hits]
        return SearchResults(hits=hits, total=total, facets=facets, hints=compiler.hints)

    # --- vocabulary ----------------------------------------------------------------------

    def document_count(self, word: str) -> int:
        compiled = _Compiler(self, Vocabulary([])).node(Term(word))
        if compiled is None:
            return 0
        with self._searcher() as searcher:
            return len(searcher.search(compiled, limit=1))

    def suggest(self, word: str) -> str:
        key = fold(word)
        if len(key) < 4 or not key.isalpha():
            return ""
        with self._searcher() as searcher:
            reader = searcher.reader()
            if reader.doc_frequency("words", key):
                return ""
            rows = []
            for term in reader.expand_prefix("words", key[0]):
                text = term.decode("utf-8") if isinstance(term, bytes) else term
                if abs(len(text) - len(key)) <= 2:
                    rows.append((text, reader.doc_frequency("words", text)))
        return closest(key, rows)

    def related(self, document: PieceDocument, limit: int = 5) -> list[Hit]:
        terms = []
        for word in related_words(document):
            for field in ("title", "tags", "synopsis"):
                terms.extend(_field_terms(self, field, word))
        if not terms:
            return []
        q = wq.And([wq.Or(terms), wq.Not(wq.Term("piece_id", str(document.piece_id)))])
        with self._searcher() as searcher:
            return [
                Hit(int(h["piece_id"]), float(h.score)) for h in searcher.search(q, limit=limit)
            ]

    # --- maintenance ---------------------------------------------------------------------

    def indexed_digests(self) -> dict[int, str]:
        with self._searcher() as searcher:
            return {int(f["piece_id"]): f["digest"] for f in searcher.all_stored_fields()}

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.location.glob("*") if p.is_file())


def _fields(document: PieceDocument) -> dict:
    return {
        "piece_id": str(document.piece_id),
        "digest": document.digest,
        "words": "\n".join((document.title, document.authors, document.tags, document.synopsis)),
        "year": document.year or 0,
        "date": document.date_ordinal,
        "date_asc": document.date_ordinal or _UNDATED_LAST,
        "type": document.type,
        "topic": ",".join(str(pk) for pk in document.topic_ids),
        "region": ",".join(str(pk) for pk in document.region_ids),
        "author_id": ",".join(str(pk) for pk in document.author_ids),
        **dict(zip(FIELDS, document.fields(), strict=True)),
    }


def _catalogue_page(results, sort: Sort, offset: int, limit: int) -> list[Hit]:
    """The page in the browse page's order (title or author), with snippets.

    The ``piece_id`` grouping gives every match's id and document number; the catalogue
    orders the ids (shared.catalogue_order, the same definition as /pieces/) and each hit
    on the page is highlighted from its document number, as a ranked hit would be.
    """
    docnums: dict[int, int] = {}
    for key, numbers in results.groups(_IDS).items():
        key = key.decode() if isinstance(key, bytes) else key
        if key and numbers:
            docnums[int(key)] = numbers[0]
    page = catalogue_order(sort, docnums, offset + limit)[offset:]
    return [
        Hit(pk, 0.0, _snippet(searching.Hit(results, docnums[pk]))) for pk in page if pk in docnums
    ]


def _snippet(hit) -> str:
    for field in ("synopsis", "body", "title", "authors", "tags"):
        try:
            text = hit.highlights(field, top=2)
        except Exception:  # a field without positions for this hit
            text = ""
        if text:
            return text
    return ""


def _field_terms(backend: WhooshBackend, field: str, word: str, prefix: bool = False) -> list:
    """Whoosh query parts for one typed word in one field, analysed like the index."""
    if prefix:
        return [wq.Prefix(field, fold(word))]
    tokens = [t.text for t in _analyzer()(clean_for_index(word))]
    if not tokens:
        return []
    if len(tokens) == 1:
        return [wq.Term(field, tokens[0])]
    return [wq.Phrase(field, tokens)]


class _Compiler:
    """The query tree as whoosh.query objects (no Whoosh query parser involved)."""

    def __init__(self, backend: WhooshBackend, vocabulary: Vocabulary) -> None:
        self.backend = backend
        self.vocabulary = vocabulary
        self.hints: list[str] = []

    def node(self, node: Node):
        if isinstance(node, Term):
            return self._text([node.text], node.field, node.prefix)
        if isinstance(node, Phrase):
            return self._text([" ".join(node.words)], node.field, False)
        if isinstance(node, Filter):
            return self._filter(node)
        if isinstance(node, YearRange):
            low = node.low if node.low is not None else 1
            high = node.high if node.high is not None else 9999
            return wq.NumericRange("year", low, high)
        if isinstance(node, Not):
            inner = self.node(node.child)
            return None if inner is None else wq.And([wq.Every(), wq.Not(inner)])
        parts = [p for p in (self.node(child) for child in node.children) if p is not None]
        if isinstance(node, Or) and len(parts) < len(node.children):
            return None  # an ignored filter makes the alternative always true
        if not parts:
            return None
        return wq.And(parts) if isinstance(node, And) else wq.Or(parts)

    def _text(self, texts: list[str], field: str | None, prefix: bool):
        fields = [_COLUMN[field]] if field else list(FIELDS)
        if not field and not prefix:
            texts = texts + self.vocabulary.synonyms(texts[0])
        parts = [
            q for text in texts for f in fields for q in _field_terms(self.backend, f, text, prefix)
        ]
        if not parts:
            return wq.NullQuery
        return wq.Or(parts)

    def _filter(self, node: Filter):
        if node.field == "type":
            value = resolve_type(node.value)
            if value is None:
                self.hints.append(f"No piece type called “{node.value}”; that filter was ignored.")
                return None
            return wq.Term("type", value)
        ids = self.vocabulary.resolve(node.field, node.value)
        if not ids:
            self.hints.append(
                f"No {node.field} called “{node.value}”; searched for it as words instead."
            )
            return self._text([node.value], None, False)
        return wq.Or([wq.Term(node.field, str(pk)) for pk in sorted(ids)])


def _facets(results, vocabulary: Vocabulary) -> dict:
    counts: dict[str, list[tuple[object, int]]] = {}
    for name in ("topic", "region", "author", "year", "type"):
        try:
            groups = results.groups(name)
        except (KeyError, ValueError):
            groups = {}
        values = []
        for key, n in groups.items():
            key = key.decode() if isinstance(key, bytes) else key
            if key in (None, "", 0):
                continue
            values.append((int(key) if name in ("topic", "region", "author", "year") else key, n))
        counts[name] = values
    return build_facets(counts, vocabulary)
