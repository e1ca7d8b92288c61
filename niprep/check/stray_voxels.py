"""Stray voxels: voxels ``> 0`` with none of their 26 neighbours holding their value.

A stray voxel is a one-voxel component of its value (26-connected); counting them needs
no labelling. Candidates are the voxels whose two neighbours along the array's fastest
memory axis both hold another value (a run of length one), found a cache-sized block of
planes at a time; each candidate's 26 neighbours are then compared at once.
"""

from __future__ import annotations

import itertools

import numpy as np

_BLOCK_VOXELS = 1 << 18  # voxels per block: its comparisons stay in the CPU's cache
#: the 24 neighbours left once the two along the fastest axis have been looked at
_OFFSETS = np.array([step for step in itertools.product((-1, 0, 1), repeat=3)
                     if step[:2] != (0, 0)], dtype=np.int64)


def _single_runs(block: np.ndarray) -> np.ndarray:
    """Flat indices into ``block`` of the voxels whose neighbours along its last axis both
    hold another value (a voxel at the end of a row has one such neighbour)."""
    changes = block[..., 1:] != block[..., :-1]
    single = np.empty(block.shape, dtype=bool)
    single[..., 0] = changes[..., 0]
    single[..., -1] = changes[..., -1]
    np.logical_and(changes[..., 1:], changes[..., :-1], out=single[..., 1:-1])
    return np.flatnonzero(single)


def count_stray_voxels(array: np.ndarray) -> int:
    """The voxels ``> 0`` of a 3-D array that no 26-neighbour of the same value touches.

    The array is read in its own memory order (any strides, no copy).

    Args:
        array: a 3-D array; values ``<= 0`` (and NaN) are background.
    """
    if array.ndim != 3:
        raise ValueError(f"expected a 3-D array, got shape {array.shape}")
    memory_order = sorted(range(3), key=lambda axis: -abs(array.strides[axis]))
    walk = array.transpose(memory_order)
    if walk.dtype.kind == "b":
        walk = walk.view(np.uint8)
    shape = np.array(walk.shape)
    if walk.size == 0:
        return 0
    if shape[2] == 1:  # one voxel per row: every voxel is a candidate
        candidates = np.argwhere(walk > 0)
    else:
        planes = max(1, _BLOCK_VOXELS // int(shape[1] * shape[2]))
        found = []
        for start in range(0, int(shape[0]), planes):
            block = walk[start : start + planes]
            where = np.stack(np.unravel_index(_single_runs(block), block.shape), axis=1)
            where[:, 0] += start
            found.append(where)
        candidates = np.concatenate(found)
        candidates = candidates[walk[tuple(candidates.T)] > 0]
    values = walk[tuple(candidates.T)]
    for step in _OFFSETS:
        if not len(candidates):
            break
        near = candidates + step
        inside = ((near >= 0) & (near < shape)).all(axis=1)
        same = np.zeros(len(candidates), dtype=bool)
        same[inside] = walk[tuple(near[inside].T)] == values[inside]
        candidates, values = candidates[~same], values[~same]
    return len(candidates)


def stray_voxels_in_boxes(array: np.ndarray, values: np.ndarray, lo: np.ndarray,
                          hi: np.ndarray) -> int:
    """The stray voxels of ``array``, looked for inside each value's box when the boxes hold
    fewer voxels than the volume (a few lesions in a large scan), else over the volume.

    Args:
        array: a 3-D mask.
        values: its values ``> 0``.
        lo: ``(N, 3)`` inclusive smallest index of each value.
        hi: ``(N, 3)`` inclusive largest index of each value.
    """
    if np.prod(hi - lo + 1, axis=1).sum() >= array.size:
        return count_stray_voxels(array)
    return sum(
        count_stray_voxels(array[low[0] : high[0] + 1, low[1] : high[1] + 1,
                                 low[2] : high[2] + 1] == value)
        for value, low, high in zip(values, lo, hi)
    )
