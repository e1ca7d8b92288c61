"""Per-value extents of a labelled 3-D array in one pass over its memory.

The kernels walk the array in memory order, one contiguous row at a time. A row
holding no positive value is dismissed with a vectorised reduction; in the other
rows every run of equal values costs one table update, so both sparse lesion masks
and dense multi-organ maps are read once, at memory speed. Until the kernel is compiled
for an array's type and layout (in the background, see :mod:`niprep.core.compile_aside`),
:mod:`niprep.core.extents_numpy` finds the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from niprep.core.compile_aside import kernel_ready, prepare
from niprep.core.extents_numpy import scan_walk

_GROW = 64
_BLOCK = 16  # voxels compared at once when following a run


@dataclass(frozen=True)
class Extents:
    """What one scan of an array found, one entry per distinct positive value.

    Args:
        values: the distinct values ``> 0``, in order of first appearance in memory.
        lo: ``(N, 3)`` smallest index of each value on each array axis.
        hi: ``(N, 3)`` largest index of each value on each array axis.
        voxels: ``(N,)`` number of voxels holding each value.
        first: ``(N,)`` smallest rank of a voxel of each value, ranks counting the
            voxels in C order of the axes named by ``rank_axes``.
        slice_lo: ``(S, N, 2)`` per index of ``slice_axis``, the smallest index of each
            value on the two other axes (``-1`` where the value is absent); ``None``
            when no slice axis was asked for.
        slice_hi: like ``slice_lo``, the largest indices.
    """

    values: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    voxels: np.ndarray
    first: np.ndarray
    slice_lo: np.ndarray | None = None
    slice_hi: np.ndarray | None = None


@numba.njit(cache=True, nogil=True)
def grow(table, size, fill):
    out = np.full((size,) + table.shape[1:], fill, dtype=table.dtype)
    out[: table.shape[0]] = table
    return out


@numba.njit(cache=True, nogil=True)
def grow_slices(table, size, fill):
    out = np.full((table.shape[0], size, table.shape[2]), fill, dtype=table.dtype)
    out[:, : table.shape[1]] = table
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def run_end(row, start):
    """One past the last index of the run of ``row[start]`` that starts at ``start``.

    Long runs are crossed a block at a time: the comparison of a block has no early exit,
    so it is vectorised.
    """
    value = row[start]
    end = start + 1
    while end + _BLOCK <= row.shape[0]:
        same = True
        for offset in range(_BLOCK):
            same &= row[end + offset] == value
        if not same:
            break
        end += _BLOCK
    while end < row.shape[0] and row[end] == value:
        end += 1
    return end


@numba.njit(cache=True, nogil=True)
def _scan_rows(arr, lut, slot_of, rank_weights, slice_axis, values, lo, hi, voxels, first,
               s_lo, s_hi, count, r0, r1, r2):
    """Update the tables from position ``(r0, r1, r2)`` of ``arr`` on.

    The tables are never reallocated here (a reallocation inside the loop would cost
    reference counting on every run): when a new value finds them full, the scan
    stops and returns ``(count, a0, a1, a2)``, the place to resume from once they have
    grown; ``a0 == -1`` when the array is done.
    """
    n0, n1, n2 = arr.shape
    zero = arr.dtype.type(0)
    last_value = zero  # never a foreground value: the run cache starts empty
    last_slot = -1
    for a0 in range(r0, n0):
        for a1 in range(r1 if a0 == r0 else 0, n1):
            row = arr[a0, a1]
            positive = False
            for a2 in range(n2):  # vectorised: rows of background cost almost nothing
                positive |= row[a2] > zero
            if not positive:
                continue
            start = r2 if (a0 == r0 and a1 == r1) else 0
            while start < n2:
                value = row[start]
                stop = run_end(row, start)
                if not value > zero:
                    start = stop
                    continue
                if value == last_value:
                    slot = last_slot
                elif lut.size:
                    slot = lut[np.int64(value)]
                elif value in slot_of:
                    slot = slot_of[value]
                else:
                    slot = -1
                if slot < 0:
                    if count == values.shape[0]:
                        return count, a0, a1, start
                    slot = count
                    count += 1
                    if lut.size:
                        lut[np.int64(value)] = slot
                    else:
                        slot_of[value] = slot
                    values[slot] = value
                last_value = value
                last_slot = slot
                end = stop - 1
                add_run(lo, hi, voxels, first, rank_weights, slot, a0, a1, start, stop)
                if slice_axis == 0:
                    widen(s_lo, s_hi, a0, slot, a1, a1, start, end)
                elif slice_axis == 1:
                    widen(s_lo, s_hi, a1, slot, a0, a0, start, end)
                elif slice_axis == 2:
                    for s in range(start, stop):
                        widen(s_lo, s_hi, s, slot, a0, a0, a1, a1)
                start = stop
    return count, -1, -1, -1


@numba.njit(cache=True, nogil=True)
def _scan(arr, lut, rank_weights, slice_axis):
    """Scan ``arr`` (last axis contiguous) row by row; see :func:`scan_extents`.

    ``lut`` maps small integer values to slots (size 0: a dictionary does).
    """
    zero = arr.dtype.type(0)
    slot_of = {zero: np.int64(-1)}  # a typed literal fixes the key and slot types
    big = np.iinfo(np.int64).max
    cap = _GROW
    n_slices = arr.shape[slice_axis] if slice_axis >= 0 else 0
    values = np.zeros(cap, dtype=arr.dtype)
    lo = np.full((cap, 3), big, dtype=np.int64)
    hi = np.full((cap, 3), -1, dtype=np.int64)
    voxels = np.zeros(cap, dtype=np.int64)
    first = np.full(cap, big, dtype=np.int64)
    s_lo = np.full((n_slices, cap if slice_axis >= 0 else 0, 2), -1, dtype=np.int64)
    s_hi = np.full((n_slices, cap if slice_axis >= 0 else 0, 2), -1, dtype=np.int64)
    count, a0, a1, a2 = 0, 0, 0, 0
    while True:
        count, a0, a1, a2 = _scan_rows(arr, lut, slot_of, rank_weights, slice_axis, values, lo,
                                       hi, voxels, first, s_lo, s_hi, count, a0, a1, a2)
        if a0 < 0:
            break
        cap *= 2
        values = grow(values, cap, zero)
        lo = grow(lo, cap, big)
        hi = grow(hi, cap, -1)
        voxels = grow(voxels, cap, 0)
        first = grow(first, cap, big)
        if slice_axis >= 0:
            s_lo = grow_slices(s_lo, cap, -1)
            s_hi = grow_slices(s_hi, cap, -1)
    return (values[:count], lo[:count], hi[:count], voxels[:count], first[:count],
            s_lo[:, :count], s_hi[:, :count])


@numba.njit(cache=True, nogil=True, inline="always")
def add_run(lo, hi, voxels, first, rank_weights, slot, a0, a1, start, stop):
    """Count the run ``start:stop`` of row ``(a0, a1)`` into the box, voxel count and first
    voxel's rank of ``slot``."""
    lo[slot, 0] = min(lo[slot, 0], a0)
    hi[slot, 0] = max(hi[slot, 0], a0)
    lo[slot, 1] = min(lo[slot, 1], a1)
    hi[slot, 1] = max(hi[slot, 1], a1)
    lo[slot, 2] = min(lo[slot, 2], start)
    hi[slot, 2] = max(hi[slot, 2], stop - 1)
    voxels[slot] += stop - start
    rank = a0 * rank_weights[0] + a1 * rank_weights[1] + start * rank_weights[2]
    first[slot] = min(first[slot], rank)


@numba.njit(cache=True, nogil=True, inline="always")
def widen(s_lo, s_hi, s, slot, p_lo, p_hi, q_lo, q_hi):
    if s_lo[s, slot, 0] < 0:
        s_lo[s, slot, 0] = p_lo
        s_hi[s, slot, 0] = p_hi
        s_lo[s, slot, 1] = q_lo
        s_hi[s, slot, 1] = q_hi
    else:
        s_lo[s, slot, 0] = min(s_lo[s, slot, 0], p_lo)
        s_hi[s, slot, 0] = max(s_hi[s, slot, 0], p_hi)
        s_lo[s, slot, 1] = min(s_lo[s, slot, 1], q_lo)
        s_hi[s, slot, 1] = max(s_hi[s, slot, 1], q_hi)


def _scannable(array: np.ndarray) -> np.ndarray:
    """``array`` in a type the kernel reads: bool as uint8 (a view), float16 as float32
    and foreign byte order as native (copies, for types no NIfTI file holds)."""
    if array.dtype.kind == "b":
        return array.view(np.uint8)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"cannot scan values of type {array.dtype}; use integers or reals")
    if array.dtype == np.float16 or not array.dtype.isnative:
        return array.astype(np.promote_types(array.dtype.newbyteorder("="), np.float32)
                            if array.dtype.kind == "f" else array.dtype.newbyteorder("="))
    return array


def prepare_kernel() -> None:
    """Load what numba needs before the kernel runs (a few tenths of a second, once per
    process); worker processes forked afterwards start with it."""
    prepare(_scan)


def _slot_table(dtype: np.dtype) -> np.ndarray:
    """A value-to-slot table for integer types of at most 16 bits; empty for the others."""
    small = dtype.kind in "biu" and dtype.itemsize <= 2
    return np.full(2 ** (8 * dtype.itemsize) if small else 0, -1, dtype=np.int64)


def scan_extents(
    array: np.ndarray, rank_axes: tuple[int, int, int] = (0, 1, 2), slice_axis: int | None = None
) -> Extents:
    """Find the extents of every positive value of a 3-D array in one pass.

    The array is read in its own memory order (any strides, no copy); results are
    given in the axes of ``array`` as passed.

    Args:
        array: a 3-D numeric array; values ``<= 0`` (and NaN) are background.
        rank_axes: the axes, most significant first, whose C order ranks voxels for
            ``Extents.first``.
        slice_axis: also record each value's extents on every index of this axis.
    """
    walk = Walk.of(array, rank_axes, slice_axis)
    args = (walk.array, _slot_table(walk.array.dtype), walk.rank_weights, walk.slice_axis)
    if kernel_ready(_scan, tuple(numba.typeof(arg) for arg in args)):
        return walk.extents(*_scan(*args))
    return walk.extents(*scan_walk(walk.array, walk.rank_weights, walk.slice_axis))


@dataclass(frozen=True)
class Walk:
    """A 3-D array seen in its memory order (last axis contiguous), as the kernels read it.

    Args:
        array: the array's axes in memory order, slowest first (a view, no copy).
        memory_order: the array axis each walk axis is.
        rank_weights: ``(3,)`` per walk axis, the step of a voxel's rank (see
            ``Extents.first``).
        slice_axis: the walk axis of the asked ``slice_axis``, ``-1`` for none.
    """

    array: np.ndarray
    memory_order: tuple[int, int, int]
    rank_weights: np.ndarray
    slice_axis: int

    @classmethod
    def of(cls, array: np.ndarray, rank_axes: tuple[int, int, int],
           slice_axis: int | None) -> Walk:
        """The walk of ``array``; arguments as :func:`scan_extents` takes them."""
        if array.ndim != 3:
            raise ValueError(f"expected a 3-D array, got shape {array.shape}")
        array = _scannable(array)
        memory_order = tuple(sorted(range(3), key=lambda axis: -abs(array.strides[axis])))
        weight_of_axis = [0, 0, 0]
        weight = 1
        for axis in reversed(rank_axes):
            weight_of_axis[axis] = weight
            weight *= array.shape[axis]
        rank_weights = np.array([weight_of_axis[axis] for axis in memory_order], dtype=np.int64)
        walk_slice_axis = memory_order.index(slice_axis) if slice_axis is not None else -1
        return cls(array.transpose(memory_order), memory_order, rank_weights, walk_slice_axis)

    def extents(self, values: np.ndarray, lo: np.ndarray, hi: np.ndarray, voxels: np.ndarray,
                first: np.ndarray, s_lo: np.ndarray, s_hi: np.ndarray) -> Extents:
        """The tables a kernel found on the walk, in the axes of the array as passed."""
        back = np.argsort(self.memory_order)
        found = Extents(values=values, lo=lo[:, back], hi=hi[:, back], voxels=voxels,
                        first=first)
        if self.slice_axis < 0:
            return found
        slice_axis = self.memory_order[self.slice_axis]
        others = [axis for axis in self.memory_order if axis != slice_axis]
        order = np.argsort(others)
        return Extents(found.values, found.lo, found.hi, found.voxels, found.first,
                       slice_lo=s_lo[:, :, order], slice_hi=s_hi[:, :, order])
