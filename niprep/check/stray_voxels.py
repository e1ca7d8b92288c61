"""Stray voxels: voxels ``> 0`` with none of their 26 neighbours holding their value.

A stray voxel is a one-voxel component of its value (26-connected); counting them needs
no labelling. Candidates are the voxels whose two neighbours along the array's fastest
memory axis both hold another value (a run of length one), found a cache-sized block of
planes at a time; the 24 other neighbours of all candidates are then compared at once.
"""

from __future__ import annotations

import itertools

import numpy as np

_BLOCK_VOXELS = 1 << 18  # voxels per block: its comparisons stay in the CPU's cache
#: the 24 neighbours left once the two along the fastest axis have been looked at, those
#: sharing a face first (the likeliest to hold the value: most candidates leave early)
_OFFSETS = np.array(sorted((step for step in itertools.product((-1, 0, 1), repeat=3)
                            if step[:2] != (0, 0)), key=lambda step: sum(map(abs, step))),
                    dtype=np.int64)


def _single_runs(block: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Flat indices into the C-contiguous 3-D ``block`` of the voxels whose neighbours along
    its last axis both hold another value (one at the end of a row has one such neighbour).

    The block is compared as one flat line (a row's last voxel with the next row's first
    counts as a change), which costs a third of comparing it row by row.

    Args:
        block: the voxels.
        scratch: a bool array of at least ``2 * block.size`` elements, reused from block to
            block (fresh arrays of this size cost page faults each time).
    """
    line = block.reshape(-1)
    size = line.size
    changes, single = scratch[: size - 1], scratch[size : 2 * size]
    np.not_equal(line[1:], line[:-1], out=changes)
    changes[block.shape[-1] - 1 :: block.shape[-1]] = True  # rows do not touch
    if size == 1:  # a single voxel: no neighbour along the row
        single[0] = True
    else:
        single[0], single[-1] = changes[0], changes[-1]
        np.logical_and(changes[1:], changes[:-1], out=single[1:-1])
    return np.flatnonzero(single)


def count_stray_voxels(array: np.ndarray) -> int:
    """The voxels ``> 0`` of a 3-D array that no 26-neighbour of the same value touches.

    The array is read in its own memory order (any strides; a block of planes is copied
    only when it is not contiguous).

    Args:
        array: a 3-D array; values ``<= 0`` (and NaN) are background.
    """
    if array.ndim != 3:
        raise ValueError(f"expected a 3-D array, got shape {array.shape}")
    memory_order = sorted(range(3), key=lambda axis: -abs(array.strides[axis]))
    walk = array.transpose(memory_order)
    if walk.dtype.kind == "b":
        walk = walk.view(np.uint8)
    if walk.size == 0:
        return 0
    plane = walk.shape[1] * walk.shape[2]
    planes = max(1, _BLOCK_VOXELS // plane)
    scratch = np.empty(2 * planes * plane, dtype=bool)
    found = [_single_runs(np.ascontiguousarray(walk[start : start + planes]), scratch)
             + start * plane for start in range(0, walk.shape[0], planes)]
    candidates = np.stack(np.unravel_index(np.concatenate(found), walk.shape), axis=1)
    shape = np.array(walk.shape)
    values = walk[tuple(candidates.T)]
    candidates, values = candidates[values > 0], values[values > 0]
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
    fewer voxels than the volume (a few lesions in a large scan), else inside the box of all
    values (no voxel outside it can be a neighbour of the same value).

    Args:
        array: a 3-D mask.
        values: its values ``> 0``.
        lo: ``(N, 3)`` inclusive smallest index of each value.
        hi: ``(N, 3)`` inclusive largest index of each value.
    """
    if not len(values):
        return 0
    if np.prod(hi - lo + 1, axis=1).sum() >= array.size:
        low, high = lo.min(axis=0), hi.max(axis=0) + 1
        return count_stray_voxels(array[low[0] : high[0], low[1] : high[1], low[2] : high[2]])
    return sum(
        count_stray_voxels(array[low[0] : high[0] + 1, low[1] : high[1] + 1,
                                 low[2] : high[2] + 1] == value)
        for value, low, high in zip(values, lo, hi)
    )
