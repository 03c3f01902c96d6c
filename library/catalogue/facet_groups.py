"""One facet's (piece id, value) pairs grouped two ways, by value and by piece id.

The catalogue's per-process facet arrays (facet_arrays.py) hold topics, regions and authors
this way, and the SQLite search engine's facet counting reads the very same objects (with
years and types grouped the same way beside them): one copy of the pairs per process.
By value, a tag's pieces are one slice (a browse filter's mask, related pieces' shared
tags) and a count per value is one ``add.reduceat``; by piece id, a few pieces' pairs are
read without passing over the rest. A change moves the changed pieces' pairs in place
(one copy of each array) rather than grouping everything again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each run of equal values starts in sorted ``values``, its value and length."""
    if not len(values):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return starts, values[starts], np.diff(starts, append=len(values))


def _offsets(owners: np.ndarray, size: int) -> np.ndarray:
    """Where each piece id's pairs start among pairs ordered by piece id (one more at the end)."""
    counts = np.bincount(owners, minlength=size) if len(owners) else np.zeros(size, np.int64)
    return np.concatenate(([0], np.cumsum(counts)))


def _slices(begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The positions of the slices ``begin[i]:end[i]`` concatenated, without a Python loop."""
    sizes = end - begin
    return np.repeat(begin - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())


def _regroup(changes: int, pairs: int) -> bool:
    """Whether to group a facet's pairs again rather than move ``changes`` of them one by
    one (``Groups._places`` loops in Python): a bulk write's many changes."""
    return changes > pairs // 8 + 64


def _moved(array: np.ndarray, out: np.ndarray, at: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``array`` without the items at ``out`` and with ``new[i]`` put at ``at[i]`` (places
    in ``array`` as it was), in one copy of each."""
    out = np.sort(out)
    return np.insert(np.delete(array, out), at - np.searchsorted(out, at), new)


def _recounted(
    values: np.ndarray, whole: np.ndarray, dropped: np.ndarray, added: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each value's pair count after dropping and adding pairs of the given values (values
    no pair has any more left out)."""
    every = np.union1d(values, added)
    counts = np.zeros(len(every), dtype=np.int64)
    counts[np.searchsorted(every, values)] = whole
    np.subtract.at(counts, np.searchsorted(every, dropped), 1)
    np.add.at(counts, np.searchsorted(every, added), 1)
    kept = counts > 0
    return every[kept], counts[kept]


def _same_pairs(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two arrays of (piece id, value) rows hold the same rows, in any order."""
    if first.shape != second.shape:
        return False
    first, second = (p[np.lexsort((p[:, 1], p[:, 0]))] for p in (first, second))
    return bool(np.array_equal(first, second))


@dataclass(frozen=True)
class Groups:
    """One facet's (piece id, value) pairs grouped two ways: by value and by piece id."""

    rows: np.ndarray  # each pair's piece id, the pairs ordered by value
    starts: np.ndarray  # where each value's pairs start in ``rows``
    values: np.ndarray  # the distinct value codes, ascending
    whole: np.ndarray  # each value's count over the whole catalogue
    codes: np.ndarray  # each pair's value, the pairs ordered by piece id
    offsets: np.ndarray  # where each piece id's pairs start in ``codes`` (one more at the end)

    @classmethod
    def build(cls, owner: np.ndarray, code: np.ndarray, size: int) -> Groups:
        """Group the pairs (``owner[i]``, ``code[i]``), piece ids below ``size``: by piece
        id, then by value with each value's pieces in id order (what ``replaced`` keeps).

        Values under 65,536 (topic, region and author ids, years, types in practice) sort
        as 16-bit numbers, which numpy sorts by radix (7.7 ms for 450,339 topic pairs at
        100,000 pieces); grouping is ~55 ms of a full load there.
        """
        if len(owner) and np.any(owner[1:] < owner[:-1]):
            by_piece = np.argsort(owner, kind="stable")
            owner, code = owner[by_piece], code[by_piece]
        # else: the tables are read in piece order, usually
        small = bool(len(code)) and code.min() >= 0 and code.max() < 2**16
        order = np.argsort(code.astype(np.uint16) if small else code, kind="stable")
        starts, values, whole = _runs(code[order])
        return cls(owner[order], starts, values, whole, code, _offsets(owner, size))

    @property
    def size(self) -> int:
        return len(self.offsets) - 1

    def replaced(self, gone: np.ndarray, owner: np.ndarray, code: np.ndarray) -> Groups:
        """These groups without the pairs of the pieces ``gone`` marks (a mask over piece
        ids, as long as the new id range), plus the pairs given: those pieces' current ones.

        The old pairs' places are known (a piece's slice by piece id; a binary search in
        its value's run by value) and so are the new ones', so the arrays are copied once
        with the changes in place, without sorting or passing over every pair; a facet
        whose pairs did not change (most facets of most writes) is left as it is.
        """
        size, before = len(gone), self.size
        changed = np.flatnonzero(gone[:before])
        begin, end = self.offsets[changed], self.offsets[changed + 1]
        dropped = _slices(begin, end)  # the old pairs' places in ``codes``
        old_owner, old_code = np.repeat(changed, end - begin), self.codes[dropped]
        if _same_pairs(np.column_stack((old_owner, old_code)), np.column_stack((owner, code))):
            grown = np.full(size - before, self.offsets[-1], dtype=self.offsets.dtype)
            return replace(self, offsets=np.concatenate((self.offsets, grown)))
        counts = np.zeros(size, dtype=np.int64)
        counts[:before] = np.diff(self.offsets)
        counts[changed] = 0
        counts += np.bincount(owner, minlength=size)
        by_piece = np.argsort(owner, kind="stable")
        slots = self.offsets[np.minimum(owner[by_piece], before)]
        codes = _moved(self.codes, dropped, slots, code[by_piece])
        offsets = np.concatenate(([0], np.cumsum(counts)))
        if _regroup(len(old_code) + len(code), len(self.rows)):
            return Groups.build(np.repeat(np.arange(size), counts), codes, size)
        by_value = np.lexsort((owner, code))
        owner, code = owner[by_value], code[by_value]
        rows = _moved(
            self.rows, self._places(old_owner, old_code), self._places(owner, code), owner
        )
        values, whole = _recounted(self.values, self.whole, old_code, code)
        starts = np.concatenate(([0], np.cumsum(whole)[:-1])) if len(whole) else whole
        return Groups(rows, starts, values, whole, codes, offsets)

    def _places(self, owner: np.ndarray, code: np.ndarray) -> np.ndarray:
        """Where each pair (``owner[i]``, ``code[i]``) is, or would go, in ``rows``: its
        value's run, at its piece id's place among the run's ids (which are in order)."""
        found = np.searchsorted(self.values, code)
        places = np.empty(len(code), dtype=np.int64)
        for n, (piece, value, at) in enumerate(zip(owner, code, found, strict=True)):
            if at < len(self.values) and self.values[at] == value:
                start = self.starts[at]
                run = self.rows[start : start + self.whole[at]]
                places[n] = start + np.searchsorted(run, piece)
            else:  # a value no pair has yet: where its run would begin
                places[n] = self.starts[at] if at < len(self.values) else len(self.rows)
        return places

    def tally(self, mask: np.ndarray, selected: np.ndarray | None) -> np.ndarray:
        """How many pairs of each value (``values``) belong to the pieces ``mask`` marks.

        ``selected`` (the marked piece ids, when they are few) reads just those pieces'
        pairs; otherwise one gather of the mask over every pair and a sum per value.
        """
        if not len(self.values):
            return np.zeros(0, dtype=np.int64)
        if selected is None:
            return np.add.reduceat(mask[self.rows], self.starts, dtype=np.int64)
        index = _slices(self.offsets[selected], self.offsets[selected + 1])
        found = np.bincount(self.codes[index], minlength=int(self.values[-1]) + 1)
        return found[self.values]

    def run(self, value: int) -> np.ndarray:
        """The ids of the pieces with ``value`` (ascending; empty when none has it)."""
        at = int(np.searchsorted(self.values, value))
        if at == len(self.values) or self.values[at] != value:
            return self.rows[:0]
        start = int(self.starts[at])
        return self.rows[start : start + int(self.whole[at])]

    def pieces_with(self, values: list[int]) -> np.ndarray:
        """The ids of the pieces with any of ``values`` (distinct values), once per value."""
        runs = [self.run(value) for value in set(values)]
        return np.concatenate(runs) if runs else self.rows[:0]


def few(marked: int, pieces: int) -> bool:
    """Whether ``marked`` of ``pieces`` are few enough to read just their pairs (by piece
    id) rather than pass over every pair: the costs, measured at 100,000 pieces, meet near
    an eighth of the catalogue."""
    return marked * 8 < pieces


@dataclass(frozen=True)
class Selection:
    """The pieces a count is over, read the cheapest way for every facet counted over them.

    Most of the catalogue (a common word, an unfiltered browse) is counted as the whole
    catalogue's counts less those of the pieces *not* wanted, and few pieces (a rare word,
    or most) by reading just their pairs: the counts are the same either way.
    """

    mask: np.ndarray  # the pieces counted (or, with ``complement``, the others)
    selected: np.ndarray | None  # their ids, when they are few
    complement: bool

    @classmethod
    def of(cls, mask: np.ndarray, alive: np.ndarray) -> Selection:
        mask = mask & alive
        pieces, marked = int(np.count_nonzero(alive)), int(np.count_nonzero(mask))
        complement = 2 * marked > pieces
        if complement:
            mask = alive & ~mask
            marked = pieces - marked
        selected = np.flatnonzero(mask) if few(marked, pieces) else None
        return cls(mask, selected, complement)

    def tally(self, group: Groups) -> np.ndarray:
        """The pieces' pairs of each of ``group.values``."""
        found = group.tally(self.mask, self.selected)
        return group.whole - found if self.complement else found
