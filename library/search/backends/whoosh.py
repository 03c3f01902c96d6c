"""The Whoosh engine (``SEARCH_BACKEND=whoosh``): an index of files in WHOOSH_INDEX_DIR.

Distribution: ``whoosh-reloaded`` 2.7.5 (library/search/README.md compares the candidates).
Writes happen after the catalogue transaction commits (library.search.sync) and take
Whoosh's writer lock with a timeout; a write that cannot have it (``IndexBusy``) is kept in
the database's outbox (library.search.outbox) and written later, never dropped.
A missing or unreadable index raises IndexUnavailable; it never blocks a save.

Generations. ``WHOOSH_INDEX_DIR`` holds one folder per build (``gen-…``) and a small
``CURRENT`` file naming the one in use (and the one before). ``rebuild_index`` (and
``clear()``) build a fresh folder, then replace ``CURRENT`` by a rename, so a rebuild killed
half-way leaves the old index in use and untouched; the next rebuild removes its leftovers.
While it runs, the rebuild holds the old index's write lock and a ``REBUILD_LOCK``, so
writers go to the outbox at once instead of writing to an index about to be replaced;
after the swap it drains the outbox into the new index. Every search checks ``CURRENT``
(one small read) and reopens its searcher when the generation changed, so a long-lived web
worker never keeps serving a replaced or half-built index. An index built before
generations (files directly in ``WHOOSH_INDEX_DIR``) is read where it is until the first
rebuild.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from whoosh import highlight, index, searching, sorting
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from library.search.backends.base import IndexBusy, IndexUnavailable, SearchBackend
from library.search.backends.shared import (
    build_facets,
    catalogue_order,
    closest,
    related_words,
    restore_snippets,
)
from library.search.documents import FIELDS, WEIGHTS, PieceDocument
from library.search.prefixes import Completions
from library.search.query import And, Filter, Node, Not, Or, ParsedQuery, Phrase, Term, YearRange
from library.search.results import FacetCounts, Hit, SearchResults, Sort
from library.search.text import MARK_END, MARK_START, WORD, clean_for_index, fold
from library.search.vocab import Vocabulary, resolve_type
from library.storage import write_atomically

_COLUMN = {"title": "title", "author": "authors"}
_UNDATED_LAST = 10**7  # larger than any date's ordinal
_IDS = "piece_ids"  # the grouping that lists every match, for the title and author orders
CURRENT = "CURRENT"
REBUILD_LOCK = "REBUILD_LOCK"
GENERATION_PREFIX = "gen-"
LEGACY = ""  # the generation name of an index whose files sit in WHOOSH_INDEX_DIR itself
# How many times an open is tried when a commit elsewhere removes a file it had just listed.
OPEN_ATTEMPTS = 5


# Whoosh matches a prefix as typed, on the stems: ``negotiat*`` reaches ``negotiat…``.
_COMPLETIONS = Completions(prefix_is_stemmed=False)


def _stems(words: Sequence[str]) -> list[str]:
    """Each word's first token as the index's analyzer makes it ("" for none)."""
    analyzer = _analyzer()
    return [next((token.text for token in analyzer(word)), "") for word in words]


#: A word is letters and digits, as on the other engines (text.WORD). Whoosh's default
#: pattern keeps dots inside words ("www.rsis.edu.sg" was one word, so ``rsis`` missed it),
#: and whoosh-reloaded 2.7.5 added ``*`` to it ("verbatim*" was a word of its own, so the
#: phrase "verbatim and verbatim" missed the title that holds it).
WORD_PATTERN = WORD.pattern


def _analyzer():
    # No stop list, like FTS5: "to be or not to be" must stay searchable.
    words = StemmingAnalyzer(expression=WORD_PATTERN, stoplist=None, minsize=1)
    return words | CharsetFilter(accent_map)


def make_schema() -> Schema:
    text = {
        name: TEXT(analyzer=_analyzer(), stored=True, field_boost=WEIGHTS[name]) for name in FIELDS
    }
    return Schema(
        piece_id=ID(stored=True, unique=True),
        digest=STORED,
        words=TEXT(
            analyzer=StandardAnalyzer(expression=WORD_PATTERN, stoplist=None, minsize=1)
            | CharsetFilter(accent_map)
        ),
        year=NUMERIC(stored=True, sortable=True),
        date=NUMERIC(sortable=True),  # ordinal day; 0 when undated (last when newest first)
        date_asc=NUMERIC(sortable=True),  # the same, but undated is last when oldest first
        type=ID(stored=True, sortable=True),
        topic=KEYWORD(commas=True),
        region=KEYWORD(commas=True),
        author_id=KEYWORD(commas=True),
        **text,
    )


def _open_dir(folder: Path):
    """``index.open_dir(folder)``, tried again when another process's commit got in its way.

    ``open_dir`` reads the index without its lock: it lists ``folder`` for the newest
    table of contents (``_MAIN_<n>.toc``), then opens it. A writer that commits in between
    writes ``_MAIN_<n+1>.toc`` and deletes the older one, so the open fails with
    FileNotFoundError although the index is whole. That commit is complete by then, so
    opening again reads it. (Whoosh's own ``FileIndex.reader`` retries the same way; its
    ``open_dir`` does not.) A folder that is gone (a rebuild replaced the generation) is
    not tried again.
    """
    for _ in range(OPEN_ATTEMPTS - 1):
        try:
            return index.open_dir(str(folder))
        except FileNotFoundError:
            if not folder.is_dir():
                raise
    return index.open_dir(str(folder))


class _Markers(highlight.Formatter):
    """Marks matches with the same control characters as FTS5; text.markup escapes."""

    between = "…"

    def format_token(self, text, token, replace=False):
        return MARK_START + highlight.get_text(text, token, replace) + MARK_END


class RebuildRunning(IndexBusy):
    """Another ``rebuild_index`` holds ``REBUILD_LOCK``."""


class _Rebuild:
    """What a rebuild in progress holds: its lock, the old index's write lock, its folder."""

    def __init__(self, lock_fd: int, old_lock, folder: Path) -> None:
        self.lock_fd, self.old_lock, self.folder = lock_fd, old_lock, folder

    def release(self) -> None:
        if self.old_lock is not None:
            self.old_lock.release()
        os.close(self.lock_fd)  # closing the descriptor releases the flock


class WhooshBackend(SearchBackend):
    name = "whoosh"
    transactional = False

    def __init__(self, location: str) -> None:
        self.location = Path(location or settings.WHOOSH_INDEX_DIR)
        self.lock_timeout = float(getattr(settings, "WHOOSH_LOCK_TIMEOUT", 10.0))
        self._lock = threading.Lock()
        self._current = None  # the reused searcher
        self._current_generation: str | None = None  # the generation it was opened on
        self._rebuild: _Rebuild | None = None

    # --- generations ---------------------------------------------------------------------

    def generation(self) -> str:
        """The folder name in use (``LEGACY`` when the files sit in the location itself)."""
        try:
            return str(json.loads((self.location / CURRENT).read_text())["current"])
        except FileNotFoundError:
            return LEGACY
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexUnavailable(
                f"Whoosh index at {self.location}: bad {CURRENT}: {exc}"
            ) from exc

    def _folder(self, generation: str) -> Path:
        return self.location / generation if generation else self.location

    def index_folder(self) -> Path:
        """Where the index in use keeps its files."""
        return self._folder(self.generation())

    def _open_generation(self, generation: str):
        try:
            return _open_dir(self._folder(generation))
        except Exception as exc:  # EmptyIndexError, missing dir, corrupt TOC
            raise IndexUnavailable(f"Whoosh index at {self.location}: {exc}") from exc

    def _open(self):
        return self._open_generation(self.generation())

    def _rebuild_running(self) -> bool:
        """Whether some process holds ``REBUILD_LOCK`` (asked without waiting)."""
        if self._rebuild is not None:
            return True
        try:
            fd = os.open(self.location / REBUILD_LOCK, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also drops the shared lock if it was granted
        return False

    @contextmanager
    def _searcher(self):
        """A searcher over the latest commit of the generation in use, reused between searches.

        Opening an index's segments costs more than most searches, so one searcher is kept
        and refreshed (a no-op when nothing was committed); a new generation (a rebuild
        finished) is opened afresh. The lock keeps threads from sharing it mid-search.
        """
        with self._lock:
            generation = self.generation()
            if self._current is not None and generation != self._current_generation:
                self._close_searcher()
            if self._current is not None:
                try:
                    self._current = self._current.refresh()
                except Exception:  # files replaced or gone: open afresh
                    self._current = None
            if self._current is None:
                ix = self._open_generation(generation)
                try:
                    self._current = ix.searcher()
                except Exception as exc:
                    raise IndexUnavailable(f"Whoosh index at {self.location}: {exc}") from exc
                self._current_generation = generation
            yield self._current

    def _close_searcher(self) -> None:
        searcher, self._current = self._current, None
        if searcher is not None:
            with contextlib.suppress(OSError):  # its files went with an old generation
                searcher.close()

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
        """A writer on the generation in use (or on the one a rebuild here is building).

        Raises ``IndexBusy`` when a rebuild is running elsewhere or the lock stays held for
        ``lock_timeout``; a writer that got the lock of a generation replaced while it
        waited lets go and takes the new one's.
        """
        if self._rebuild is not None:
            return index.open_dir(str(self._rebuild.folder)).writer()
        for _ in range(3):
            if self._rebuild_running():
                raise IndexBusy(f"Whoosh index at {self.location}: rebuild_index is running")
            generation = self.generation()
            try:
                writer = self._open_generation(generation).writer(timeout=self.lock_timeout)
            except index.LockError as exc:
                raise IndexBusy(
                    f"Whoosh index at {self.location} stayed locked for {self.lock_timeout}s"
                ) from exc
            if self.generation() == generation:
                return writer
            writer.cancel()
        raise IndexBusy(f"Whoosh index at {self.location} kept being replaced")

    # --- building a generation -----------------------------------------------------------

    def clear(self) -> None:
        """Put a fresh, empty index in place (as a finished rebuild of nothing would)."""
        self.start_rebuild()
        self.finish_rebuild(optimize=False)

    def start_rebuild(self) -> None:
        """Create the new generation's folder and hold the locks until ``finish_rebuild``."""
        self.location.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.location / REBUILD_LOCK, os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise RebuildRunning(f"Another rebuild_index is running on {self.location}") from None
        try:
            old_lock = self._hold_write_lock()
        except BaseException:
            os.close(lock_fd)
            raise
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        folder = self.location / f"{GENERATION_PREFIX}{stamp}-{secrets.token_hex(4)}"
        folder.mkdir()
        self._rebuild = _Rebuild(lock_fd, old_lock, folder)
        try:
            index.create_in(str(folder), make_schema())
        except BaseException:
            self.abort_rebuild()
            raise

    def _hold_write_lock(self):
        """The index in use's write lock, held so nobody writes to what is being replaced."""
        try:
            ix = self._open()
        except IndexUnavailable:
            return None  # nothing to protect: writers fail and go to the outbox anyway
        lock = ix.lock("WRITELOCK")
        deadline = time.monotonic() + self.lock_timeout
        while not lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise IndexBusy(f"Whoosh index at {self.location} stayed locked")
            time.sleep(0.05)
        return lock

    def finish_rebuild(self, *, optimize: bool = True) -> None:
        """Swap the new generation in (one rename), let writers in, remove old leftovers."""
        rebuild = self._rebuild
        if rebuild is None:
            raise RuntimeError("finish_rebuild without start_rebuild")
        if optimize:
            index.open_dir(str(rebuild.folder)).optimize()
        previous = self.generation()
        pointer = {"current": rebuild.folder.name, "previous": previous}
        write_atomically(self.location / CURRENT, json.dumps(pointer).encode())
        self._rebuild = None
        rebuild.release()
        with self._lock:
            self._close_searcher()
        self._remove_leftovers(keep={rebuild.folder.name, previous})

    def abort_rebuild(self) -> None:
        """Give up a rebuild: the index in use stays, the unfinished folder goes."""
        rebuild, self._rebuild = self._rebuild, None
        if rebuild is not None:
            shutil.rmtree(rebuild.folder, ignore_errors=True)
            rebuild.release()

    def _remove_leftovers(self, keep: set[str]) -> None:
        """Generations older than the previous one, and folders of killed rebuilds.

        The previous generation stays one more rebuild: a search that opened it just before
        the swap may still be reading its files. Files of a pre-generation index sitting
        in the location itself are removed once it is the previous one no longer.
        """
        for path in self.location.iterdir():
            if path.is_dir() and path.name.startswith(GENERATION_PREFIX):
                if path.name not in keep:
                    shutil.rmtree(path, ignore_errors=True)
            elif LEGACY not in keep and path.is_file() and _is_whoosh_file(path.name):
                path.unlink(missing_ok=True)

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
        self.write([], [piece_id])

    def write(self, documents: list[PieceDocument], deleted: list[int]) -> None:
        """Add, replace and remove pieces under one lock, in one commit."""
        writer = self._writer()
        try:
            for document in documents:
                writer.update_document(**_fields(document))
            for piece_id in deleted:
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
        return sum(p.stat().st_size for p in self.index_folder().glob("*") if p.is_file())


def _is_whoosh_file(name: str) -> bool:
    """A file of the default-named Whoosh index (TOC, segments, write lock)."""
    return name.startswith(("_MAIN_", "MAIN_")) or name.endswith((".seg", ".toc"))


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
        # And the words whose stems a match on the prefix as typed misses (prefixes.py).
        typed = fold(word)
        extra = _COMPLETIONS(typed, _stems)
        return [
            wq.Prefix(field, typed),
            *(q for w in extra for q in _field_terms(backend, field, w)),
        ]
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
    counts: FacetCounts = {}
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
