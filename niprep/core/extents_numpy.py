"""Per-value extents in plain numpy: what the numba kernel finds, with nothing to compile.

:func:`scan_walk` gives the same tables as the kernel of :mod:`niprep.core.extents`, entry
for entry, working like it on runs of equal values along the rows (about 2.5x its time on
a dense multi-organ mask). It serves the calls made while that kernel compiles in the
background, so that no run waits for a compiler. The array is taken a block of planes at
a time, which bounds the memory it needs beside it.
"""

from __future__ import annotations

import numpy as np

_BLOCK_VOXELS = 1 << 20  # voxels per block: its run tables stay within tens of MB
_BIG = np.iinfo(np.int64).max


class _Tables:
    """The kernel's tables, grown as new values turn up."""

    def __init__(self, dtype: np.dtype, n_slices: int) -> None:
        self.slot_of: dict = {}
        self.values = np.zeros(0, dtype=dtype)
        self.lo = np.zeros((0, 3), dtype=np.int64)
        self.hi = np.zeros((0, 3), dtype=np.int64)
        self.voxels = np.zeros(0, dtype=np.int64)
        self.first = np.zeros(0, dtype=np.int64)
        self.s_lo = np.zeros((n_slices, 0, 2), dtype=np.int64)
        self.s_hi = np.zeros((n_slices, 0, 2), dtype=np.int64)

    def slots(self, found: np.ndarray, first_seen: np.ndarray) -> np.ndarray:
        """Slots of the distinct values ``found``; new ones get slots in the order of
        ``first_seen`` (their first position in memory)."""
        new = [index for index in np.argsort(first_seen, kind="stable")
               if found[index].item() not in self.slot_of]
        for index in new:
            self.slot_of[found[index].item()] = len(self.slot_of)
        if new:
            added = len(new)
            self.values = np.concatenate([self.values, found[new]])
            self.lo = np.concatenate([self.lo, np.full((added, 3), _BIG, dtype=np.int64)])
            self.hi = np.concatenate([self.hi, np.full((added, 3), -1, dtype=np.int64)])
            self.voxels = np.concatenate([self.voxels, np.zeros(added, dtype=np.int64)])
            self.first = np.concatenate([self.first, np.full(added, _BIG, dtype=np.int64)])
            empty = np.full((self.s_lo.shape[0], added, 2), -1, dtype=np.int64)
            self.s_lo = np.concatenate([self.s_lo, empty], axis=1)
            self.s_hi = np.concatenate([self.s_hi, empty], axis=1)
        return np.array([self.slot_of[value] for value in found.tolist()], dtype=np.int64)


def _group_min_max(
    keys: np.ndarray, lows: list[np.ndarray], highs: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The distinct ``keys``; per key, the minimum of each column of ``lows`` and the
    maximum of each column of ``highs``."""
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return (keys[starts], [np.minimum.reduceat(column[order], starts) for column in lows],
            [np.maximum.reduceat(column[order], starts) for column in highs])


def _runs(block: np.ndarray) -> tuple[np.ndarray, ...]:
    """The runs of equal positive values along the rows of ``block``, in memory order:
    ``(value, plane, row, first column, last column)`` of each."""
    n2 = block.shape[2]
    flat = block.reshape(-1)  # a copy only for a strided view
    starts = np.ones(flat.size, dtype=bool)
    np.not_equal(flat[1:], flat[:-1], out=starts[1:])
    starts[::n2] = True  # a run never crosses rows
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], flat.size] - 1
    values = flat[first]
    positive = values > 0
    first, last, values = first[positive], last[positive], values[positive]
    row, start = np.divmod(first, n2)
    plane, row = np.divmod(row, block.shape[1])
    return values, plane, row, start, last - (first - start)


def _scan_block(block: np.ndarray, offset: int, tables: _Tables, rank_weights: np.ndarray,
                slice_axis: int) -> None:
    """Add the positive voxels of ``block`` (planes ``offset...`` of the walk) to ``tables``,
    a run of equal values at a time, as the kernel does."""
    values, plane, row, start, end = _runs(block)
    if values.size == 0:
        return
    found, first_seen, inverse = np.unique(values, return_index=True, return_inverse=True)
    slot = tables.slots(found, first_seen)[inverse.reshape(-1)]
    plane += offset
    slots, lows, highs = _group_min_max(slot, [plane, row, start], [plane, row, end])
    for axis in range(3):
        tables.lo[slots, axis] = np.minimum(tables.lo[slots, axis], lows[axis])
        tables.hi[slots, axis] = np.maximum(tables.hi[slots, axis], highs[axis])
    tables.voxels += np.bincount(slot, weights=end - start + 1,
                                 minlength=tables.voxels.size).astype(np.int64)
    w0, w1, w2 = rank_weights.tolist()
    _, first, _ = _group_min_max(slot, [plane * w0 + row * w1 + start * w2], [])
    tables.first[slots] = np.minimum(tables.first[slots], first[0])
    if slice_axis < 0:
        return
    if slice_axis == 2:  # each voxel of a run is on a slice of its own
        length = end - start + 1
        slot, plane, row = (np.repeat(column, length) for column in (slot, plane, row))
        start = end = np.arange(slot.size) - np.repeat(np.cumsum(length) - length - start,
                                                       length)
    coords = [(plane, plane), (row, row), (start, end)]
    others = [coords[axis] for axis in range(3) if axis != slice_axis]
    n_slices = tables.s_lo.shape[0]
    keys, lows, highs = _group_min_max(slot * n_slices + coords[slice_axis][0],
                                       [low for low, _ in others], [high for _, high in others])
    slots, slices = np.divmod(keys, n_slices)
    for side in range(2):
        old_lo = tables.s_lo[slices, slots, side]
        old_hi = tables.s_hi[slices, slots, side]
        absent = old_lo < 0
        tables.s_lo[slices, slots, side] = np.where(absent, lows[side],
                                                    np.minimum(old_lo, lows[side]))
        tables.s_hi[slices, slots, side] = np.where(absent, highs[side],
                                                    np.maximum(old_hi, highs[side]))


def scan_walk(walk: np.ndarray, rank_weights: np.ndarray, slice_axis: int):
    """The tables of the numba kernel ``_scan`` for ``walk``, computed with numpy.

    Args:
        walk: a 3-D array whose index order is its memory order (any strides).
        rank_weights: ``(3,)`` weight of each axis of ``walk`` in a voxel's rank.
        slice_axis: the axis of ``walk`` whose indexes get extents of their own, or -1.

    Returns:
        ``(values, lo, hi, voxels, first, slice_lo, slice_hi)``, equal to the kernel's.
    """
    n_slices = walk.shape[slice_axis] if slice_axis >= 0 else 0
    tables = _Tables(walk.dtype, n_slices)
    plane = max(1, walk.shape[1] * walk.shape[2])
    step = max(1, _BLOCK_VOXELS // plane)
    for offset in range(0, walk.shape[0], step):
        _scan_block(walk[offset : offset + step], offset, tables, rank_weights, slice_axis)
    if slice_axis < 0:  # the kernel's slice tables are empty then
        tables.s_lo = tables.s_hi = tables.s_lo[:, :0]
    return (tables.values, tables.lo, tables.hi, tables.voxels, tables.first, tables.s_lo,
            tables.s_hi)
