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
    ``array``; the work is done in its memory order, so a transposed view costs no copy
    (a flipped one is copied first: cc3d mislabels some views with negative strides).

    Args:
        array: a 3-D array; values ``<= 0`` are background.
        connectivity: 6, 18 or 26.
    """
    memory_order = sorted(range(3), key=lambda axis: -abs(array.strides[axis]))
    walk = np.ascontiguousarray(array.transpose(memory_order))
    labels = cc3d.connected_components(
        _as_nonnegative_codes(walk), connectivity=connectivity
    )
    return labels.transpose(np.argsort(memory_order))
