"""Per-component extents of a 3-D mask in one streaming pass, without a label array.

The kernel walks the array in memory order, as :mod:`niprep.core.extents` does, and
works on runs of equal positive values along the contiguous axis. Each run joins the
runs of the same value that touch it in the row before it and in the plane before it
(which rows and offsets touch depends on the connectivity); a union-find over the
runs' provisional labels joins what meets later, and each label's extents are merged
into its component's at the end. Only two planes of runs are held: memory stays near the
volume's own, where a label array would add two to four times it. Until the kernel is
compiled for an array's type and layout (in the background, see
:mod:`niprep.core.compile_aside`), connected-components-3d labels the whole volume and
the extents scan reads the labels, with the same result.
"""

from __future__ import annotations

import numba
import numpy as np

from niprep.core.compile_aside import kernel_ready
from niprep.core.components import connected_components
from niprep.core.extents import (
    Extents,
    Walk,
    add_run,
    grow,
    grow_slices,
    run_end,
    scan_extents,
    widen,
)


@numba.njit(cache=True, nogil=True)
def _plane_runs(plane, row_begin, starts, stops):
    """Fill ``starts``/``stops`` with the runs of positive values of ``plane``, row by row;
    ``row_begin[r]`` is the first run of row ``r``. Returns the number of runs, or ``-1``
    when the buffers are too small."""
    zero = plane.dtype.type(0)
    count = 0
    for a1 in range(plane.shape[0]):
        row_begin[a1] = count
        row = plane[a1]
        positive = False
        for a2 in range(row.shape[0]):  # vectorised: rows of background cost almost nothing
            positive |= row[a2] > zero
        if not positive:
            continue
        start = 0
        while start < row.shape[0]:
            stop = run_end(row, start)
            if row[start] > zero:
                if count == starts.shape[0]:
                    return -1
                starts[count] = start
                stops[count] = stop
                count += 1
            start = stop
    row_begin[plane.shape[0]] = count
    return count


@numba.njit(cache=True, nogil=True)
def _find(parent, label):
    """The root of ``label``, compressing the path to it."""
    root = label
    while parent[root] != root:
        root = parent[root]
    while parent[label] != root:
        after = parent[label]
        parent[label] = root
        label = after
    return root


@numba.njit(cache=True, nogil=True)
def _join(row, begin, end, starts, stops, labels, cursor, value, start, stop, reach, parent,
          label):
    """Join ``label`` (``-1``: none yet) with the runs of ``value`` among runs
    ``begin..end`` of ``row`` that touch ``start..stop`` (``reach`` 1: diagonally too).

    Runs that end before this one cannot touch the later runs of its row either, so
    ``cursor[0]`` (a one-element array) moves past them for good. Returns the joined
    label: the smallest root of those joined.
    """
    j = max(cursor[0], begin)
    while j < end and stops[j] + reach <= start:
        j += 1
    cursor[0] = j
    while j < end and starts[j] < stop + reach:
        if row[starts[j]] == value:
            root = _find(parent, labels[j])
            if label < 0:
                label = root
            elif root != label:
                low, high = min(root, label), max(root, label)
                parent[high] = low
                label = low
        j += 1
    return label


@numba.njit(cache=True, nogil=True)
def _label_plane(walk, a0, prev_begin, prev_starts, prev_stops, prev_labels, begin, starts,
                 stops, labels, parent, values, lo, hi, voxels, first, count, rank_weights,
                 connectivity):
    """Label the runs of plane ``a0`` and add them to their labels' tables; the tables
    have room for one new label per run. Returns the number of labels."""
    n1 = walk.shape[1]
    big = np.iinfo(np.int64).max
    in_plane = 0 if connectivity == 6 else 1  # reach along a row, same plane or row
    across = 1 if connectivity == 26 else 0  # reach in the rows beside, previous plane
    cursors = np.zeros((4, 1), dtype=np.int64)  # where each of the four rows beside is read
    plane = walk[a0]
    for a1 in range(n1):
        row = plane[a1]
        cursors[:] = 0
        for run in range(begin[a1], begin[a1 + 1]):
            start, stop = starts[run], stops[run]
            value = row[start]
            label = -1
            if a1 > 0:
                label = _join(plane[a1 - 1], begin[a1 - 1], begin[a1], starts, stops, labels,
                              cursors[0], value, start, stop, in_plane, parent, label)
            if a0 > 0:
                before = walk[a0 - 1]
                label = _join(before[a1], prev_begin[a1], prev_begin[a1 + 1], prev_starts,
                              prev_stops, prev_labels, cursors[1], value, start, stop,
                              in_plane, parent, label)
                if connectivity > 6 and a1 > 0:
                    label = _join(before[a1 - 1], prev_begin[a1 - 1], prev_begin[a1],
                                  prev_starts, prev_stops, prev_labels, cursors[2], value,
                                  start, stop, across, parent, label)
                if connectivity > 6 and a1 + 1 < n1:
                    label = _join(before[a1 + 1], prev_begin[a1 + 1], prev_begin[a1 + 2],
                                  prev_starts, prev_stops, prev_labels, cursors[3], value,
                                  start, stop, across, parent, label)
            if label < 0:
                label = count
                parent[label] = label
                values[label] = value
                lo[label] = big
                hi[label] = -1
                voxels[label] = 0
                first[label] = big
                count += 1
            labels[run] = label
            add_run(lo, hi, voxels, first, rank_weights, label, a0, a1, start, stop)
    return count


@numba.njit(cache=True, nogil=True)
def _widen_plane(a0, begin, starts, stops, labels, s_lo, s_hi, slice_axis):
    """Add the runs of plane ``a0``, as labelled, to their labels' per-slice boxes.

    Done once the plane is labelled, so the per-slice tables (the largest) grow with the
    labels found, not with the room a plane's runs might need.
    """
    for a1 in range(begin.shape[0] - 1):
        for run in range(begin[a1], begin[a1 + 1]):
            label, start, end = labels[run], starts[run], stops[run] - 1
            if slice_axis == 0:
                widen(s_lo, s_hi, a0, label, a1, a1, start, end)
            elif slice_axis == 1:
                widen(s_lo, s_hi, a1, label, a0, a0, start, end)
            else:
                for s in range(start, end + 1):
                    widen(s_lo, s_hi, s, label, a0, a0, a1, a1)


@numba.njit(cache=True, nogil=True)
def _merge(parent, count, values, lo, hi, voxels, first, s_lo, s_hi):
    """Fold every label's tables into its component's root; the roots' tables, in order
    of label."""
    n_slices = s_lo.shape[0]
    roots = np.zeros(count, dtype=np.int64)
    found = 0
    for label in range(count):  # a root is smaller than every label joined to it
        root = _find(parent, label)
        if root == label:
            roots[found] = label
            found += 1
            continue
        for axis in range(3):
            lo[root, axis] = min(lo[root, axis], lo[label, axis])
            hi[root, axis] = max(hi[root, axis], hi[label, axis])
        voxels[root] += voxels[label]
        first[root] = min(first[root], first[label])
        for s in range(n_slices):
            if s_lo[s, label, 0] >= 0:
                widen(s_lo, s_hi, s, root, s_lo[s, label, 0], s_hi[s, label, 0],
                      s_lo[s, label, 1], s_hi[s, label, 1])
    roots = roots[:found]
    out_lo = np.full((n_slices, found, 2), -1, dtype=np.int64)
    out_hi = np.full((n_slices, found, 2), -1, dtype=np.int64)
    for s in range(n_slices):
        for slot in range(found):
            out_lo[s, slot] = s_lo[s, roots[slot]]
            out_hi[s, slot] = s_hi[s, roots[slot]]
    return values[roots], lo[roots], hi[roots], voxels[roots], first[roots], out_lo, out_hi


@numba.njit(cache=True, nogil=True)
def _scan_components(walk, rank_weights, slice_axis, connectivity):
    """The tables of :func:`component_extents` on ``walk`` (last axis contiguous)."""
    n0, n1, n2 = walk.shape
    room = max(n1, 64)
    prev_begin = np.zeros(n1 + 1, dtype=np.int64)
    prev_starts = np.empty(room, dtype=np.int64)
    prev_stops = np.empty(room, dtype=np.int64)
    prev_labels = np.empty(room, dtype=np.int64)
    begin = np.zeros(n1 + 1, dtype=np.int64)
    starts = np.empty(room, dtype=np.int64)
    stops = np.empty(room, dtype=np.int64)
    labels = np.empty(room, dtype=np.int64)
    n_slices = walk.shape[slice_axis] if slice_axis >= 0 else 0
    cap = 64
    parent = np.empty(cap, dtype=np.int64)
    values = np.zeros(cap, dtype=walk.dtype)
    lo = np.empty((cap, 3), dtype=np.int64)
    hi = np.empty((cap, 3), dtype=np.int64)
    voxels = np.empty(cap, dtype=np.int64)
    first = np.empty(cap, dtype=np.int64)
    s_lo = np.full((n_slices, 64 if slice_axis >= 0 else 0, 2), -1, dtype=np.int64)
    s_hi = np.full((n_slices, 64 if slice_axis >= 0 else 0, 2), -1, dtype=np.int64)
    count = 0
    for a0 in range(n0):
        runs = _plane_runs(walk[a0], begin, starts, stops)
        while runs < 0:
            room *= 2
            starts = np.empty(room, dtype=np.int64)
            stops = np.empty(room, dtype=np.int64)
            labels = np.empty(room, dtype=np.int64)
            runs = _plane_runs(walk[a0], begin, starts, stops)
        if count + runs > cap:
            while count + runs > cap:
                cap *= 2
            parent = grow(parent, cap, 0)
            values = grow(values, cap, walk.dtype.type(0))
            lo = grow(lo, cap, 0)
            hi = grow(hi, cap, 0)
            voxels = grow(voxels, cap, 0)
            first = grow(first, cap, 0)
        count = _label_plane(walk, a0, prev_begin, prev_starts, prev_stops, prev_labels, begin,
                             starts, stops, labels, parent, values, lo, hi, voxels, first, count,
                             rank_weights, connectivity)
        if slice_axis >= 0:
            if count > s_lo.shape[1]:
                s_lo = grow_slices(s_lo, max(2 * s_lo.shape[1], count), -1)
                s_hi = grow_slices(s_hi, max(2 * s_hi.shape[1], count), -1)
            _widen_plane(a0, begin, starts, stops, labels, s_lo, s_hi, slice_axis)
        prev_begin, begin = begin, prev_begin
        prev_starts, starts = starts, prev_starts
        prev_stops, stops = stops, prev_stops
        prev_labels, labels = labels, prev_labels
        if starts.shape[0] < prev_starts.shape[0]:  # the next plane may need the same room
            starts = np.empty(room, dtype=np.int64)
            stops = np.empty(room, dtype=np.int64)
            labels = np.empty(room, dtype=np.int64)
    return _merge(parent, count, values, lo, hi, voxels, first, s_lo, s_hi)


def component_extents(
    array: np.ndarray,
    connectivity: int,
    rank_axes: tuple[int, int, int] = (0, 1, 2),
    slice_axis: int | None = None,
) -> Extents:
    """The extents of every connected component of each positive value of a 3-D array.

    Voxels of different values never join. Components come in no particular order;
    ``Extents.values`` holds each one's value, or, until the kernel is compiled for
    this type and layout, a label of its own (the value is then read at its first voxel).

    Args:
        array: a 3-D numeric array; values ``<= 0`` (and NaN) are background.
        connectivity: 6, 18 or 26.
        rank_axes: the axes, most significant first, whose C order ranks voxels for
            ``Extents.first``.
        slice_axis: also record each component's extents on every index of this axis.
    """
    walk = Walk.of(array, rank_axes, slice_axis)
    args = (walk.array, walk.rank_weights, walk.slice_axis, connectivity)
    if kernel_ready(_scan_components, tuple(numba.typeof(arg) for arg in args)):
        return walk.extents(*_scan_components(*args))
    labels = connected_components(array, connectivity)
    return scan_extents(labels, rank_axes=rank_axes, slice_axis=slice_axis)
