"""Connected components of every positive value, as an integer label array."""

from __future__ import annotations

import cc3d
import numpy as np

from niprep.core.extents import scan_extents


def _as_nonnegative_codes(array: np.ndarray) -> np.ndarray:
    """Return an unsigned array with 0 for background and a distinct code per value.

    Unsigned and boolean masks are used as they are; signed ones cost one copy (negative
    values cleared, the bits read as unsigned); real-valued ones are coded in ascending
    order of value.
    """
    if array.dtype.kind == "u":
        return array
    if array.dtype.kind == "b":
        return array.view(np.uint8)
    if array.dtype.kind == "i":
        return np.maximum(array, 0).view(f"u{array.dtype.itemsize}")
    ordered = np.sort(scan_extents(array).values)
    codes = np.zeros(array.shape, dtype=np.uint32)
    foreground = array > 0
    codes[foreground] = np.searchsorted(ordered, array[foreground]) + 1
    return codes


def connected_components(array: np.ndarray, connectivity: int) -> np.ndarray:
    """Label the connected components of each positive value of a 3-D array.

    Voxels of different values never join. The labels come back in the axes of
    ``array``; the work is done in its memory order, so a strided view costs no copy.

    Args:
        array: a 3-D array; values ``<= 0`` are background.
        connectivity: 6, 18 or 26.
    """
    memory_order = sorted(range(3), key=lambda axis: -abs(array.strides[axis]))
    walk = array.transpose(memory_order)
    labels = cc3d.connected_components(
        _as_nonnegative_codes(walk), connectivity=connectivity
    )
    return labels.transpose(np.argsort(memory_order))


def components_in_boxes(
    array: np.ndarray,
    values: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    voxels: np.ndarray,
    connectivity: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The connected components of each value, looked for inside the value's box only.

    The same components as :func:`connected_components` gives (voxels of different
    values never join), at the cost of the boxes rather than of the whole volume: a few
    lesions in a large scan cost next to nothing.

    Args:
        array: a 3-D array.
        values: the values ``> 0`` to look at.
        lo: ``(N, 3)`` inclusive smallest index of each value.
        hi: ``(N, 3)`` inclusive largest index of each value.
        voxels: ``(N,)`` voxels of each value (a value found in one piece is not counted
            again).
        connectivity: 6, 18 or 26.

    Returns:
        For each value: the voxel count of each of its components, and whether each index
        ``lo[0]..hi[0]`` of axis 0 holds a voxel of it.
    """
    # crops are read in memory order: a comparison over a strided crop costs several times more
    order = sorted(range(3), key=lambda axis: -abs(array.strides[axis]))
    walk = array.transpose(order)
    lo, hi = np.asarray(lo)[:, order], np.asarray(hi)[:, order]
    first = order.index(0)  # where axis 0 went
    others = tuple(axis for axis in range(3) if axis != first)
    found = []
    for value, low, high, count in zip(values, lo, hi, voxels):
        inside = walk[low[0] : high[0] + 1, low[1] : high[1] + 1, low[2] : high[2] + 1] == value
        labels, pieces = cc3d.connected_components(inside, connectivity=connectivity,
                                                   return_N=True)
        if pieces == 1:  # one piece: it holds every voxel, on every index of its span
            found.append((np.array([count]), np.ones(inside.shape[first], dtype=bool)))
        else:
            sizes = np.bincount(labels.reshape(-1), minlength=pieces + 1)[1:]
            found.append((sizes, inside.any(axis=others)))
    return found
