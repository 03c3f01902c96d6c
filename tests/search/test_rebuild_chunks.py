"""How ``rebuild_index`` cuts the catalogue into chunks (``maintenance.chunked``).

PostgreSQL's chunks lock their pieces in spans of ids (``PostgresBackend.rebuild_span``), so
no span may be in two chunks (two chunks would wait for each other's lock) and a chunk's
locks are bounded; SQLite's spans are single ids, so its chunks are plain slices.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from library.search.maintenance import chunked

IDS = st.lists(st.integers(1, 5_000), unique=True).map(sorted)


@given(ids=IDS, size=st.integers(1, 300), span=st.integers(1, 100), spans=st.integers(1, 40))
def test_every_id_once_in_order_no_span_cut_and_the_locks_bounded(ids, size, span, spans):
    runs = list(chunked(ids, size, span, spans))
    assert [piece_id for run in runs for piece_id in run] == ids
    assert all(runs)
    for before, after in itertools.pairwise(runs):
        assert before[-1] // span != after[0] // span  # no span in two runs
        # Cut only once the run is long enough, or (spans of several ids) has its locks.
        assert len(before) >= size or (span > 1 and len({i // span for i in before}) == spans)
    if span > 1:
        assert all(len({i // span for i in run}) <= spans for run in runs)


@given(ids=IDS, size=st.integers(1, 300))
def test_single_id_spans_are_plain_slices(ids, size):
    assert list(chunked(ids, size)) == [ids[i : i + size] for i in range(0, len(ids), size)]


def test_a_dense_catalogue_in_chunks_of_1000_takes_16_locks_a_chunk():
    runs = list(chunked(list(range(1, 100_001)), 1000, 64))
    assert {len({i // 64 for i in run}) for run in runs[:-1]} == {16}
    assert {len(run) for run in runs[1:-1]} == {1024}
