"""The streaming components kernel (and the path that stands in for it until it is
compiled) against a breadth-first flood fill, on random volumes where components meet
late: many runs per plane, joins across rows and planes, every memory order."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from conftest import neighbour_steps
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from niprep.core.component_extents import _scan_components, component_extents
from niprep.core.components import connected_components
from niprep.core.extents import Walk


def flood_fill(array: np.ndarray, connectivity: int, rank_axes, slice_axis):
    """``{first rank: (value, lo, hi, voxels, {slice: (lo, hi)})}`` of every component."""
    weights = [0, 0, 0]
    weight = 1
    for axis in reversed(rank_axes):
        weights[axis] = weight
        weight *= array.shape[axis]
    unvisited = {tuple(v) for v in np.argwhere(array > 0).tolist()}
    found = {}
    for seed in sorted(unvisited):
        if seed not in unvisited:
            continue
        unvisited.remove(seed)
        value, component, queue = array[seed], [], deque([seed])
        while queue:
            voxel = queue.popleft()
            component.append(voxel)
            for step in neighbour_steps(connectivity):
                other = tuple(v + s for v, s in zip(voxel, step))
                if other in unvisited and array[other] == value:
                    unvisited.remove(other)
                    queue.append(other)
        points = np.array(component)
        per_slice = {}
        if slice_axis is not None:
            others = [axis for axis in range(3) if axis != slice_axis]
            for s in np.unique(points[:, slice_axis]).tolist():
                on = points[points[:, slice_axis] == s][:, others]
                per_slice[s] = (on.min(axis=0).tolist(), on.max(axis=0).tolist())
        first = int(min(points @ np.array(weights)))
        found[first] = (value, points.min(axis=0).tolist(), points.max(axis=0).tolist(),
                        len(points), per_slice)
    return found


def assert_matches(found, array, connectivity, rank_axes, slice_axis, values_are_labels):
    expected = flood_fill(array, connectivity, rank_axes, slice_axis)
    assert sorted(found.first.tolist()) == sorted(expected)
    for slot, first in enumerate(found.first.tolist()):
        value, lo, hi, voxels, per_slice = expected[first]
        if not values_are_labels:
            assert found.values[slot] == value
        assert found.lo[slot].tolist() == lo and found.hi[slot].tolist() == hi
        assert found.voxels[slot] == voxels
        if slice_axis is None:
            continue
        for s in range(array.shape[slice_axis]):
            got = (found.slice_lo[s, slot].tolist(), found.slice_hi[s, slot].tolist())
            assert got == per_slice.get(s, ([-1, -1], [-1, -1]))


def assert_kernel_matches(array, connectivity, rank_axes, slice_axis):
    """The kernel's components of ``array`` are the flood fill's."""
    walk = Walk.of(array, rank_axes, slice_axis)
    found = walk.extents(*_scan_components(walk.array, walk.rank_weights, walk.slice_axis,
                                           connectivity))
    assert_matches(found, array, connectivity, rank_axes, slice_axis, values_are_labels=False)


@st.composite
def volumes(draw):
    """A small volume of two or three values (components touch and wind), seen through a
    random transpose and flips, so every memory order and stride sign is walked."""
    dtype = draw(st.sampled_from(["uint8", "float32"]))
    values = [1, 2] if dtype == "uint8" else [1.0, 2.5, -1.0, float("nan")]
    shape = draw(hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=7))
    array = draw(hnp.arrays(dtype, shape,
                            elements=st.sampled_from([0, 0, *values]).map(np.dtype(dtype).type)))
    array = array.transpose(draw(st.permutations([0, 1, 2])))
    for axis in range(3):
        if draw(st.booleans()):
            array = np.flip(array, axis)
    return array


@settings(max_examples=150, deadline=None)
@given(array=volumes(), connectivity=st.sampled_from([6, 18, 26]),
       rank_axes=st.permutations([0, 1, 2]), slice_axis=st.sampled_from([None, 0, 1, 2]))
def test_kernel_matches_a_flood_fill(array, connectivity, rank_axes, slice_axis):
    assert_kernel_matches(array, connectivity, tuple(rank_axes), slice_axis)


@pytest.mark.parametrize("connectivity", [6, 18, 26])
def test_many_runs_and_labels_grow_the_tables(connectivity):
    """Planes of hundreds of runs and thousands of provisional labels, joined late."""
    rng = np.random.default_rng(connectivity)
    array = rng.choice(np.array([0, 1, 2], dtype=np.uint8), size=(4, 12, 150), p=[0.5, 0.3, 0.2])
    array[:, :, 0] = 1  # a wall of value 1 that every plane's first column shares
    assert_kernel_matches(array, connectivity, (2, 0, 1), 0)


@pytest.mark.parametrize("connectivity", [6, 18, 26])
def test_runs_longer_than_a_compared_block(connectivity):
    """Runs of up to 40 voxels, shifted from row to row and plane to plane."""
    lengths = np.arange(1, 41)
    row = np.repeat(np.resize(np.array([3, 0, 7, 3], dtype=np.uint8), lengths.size), lengths)
    array = np.stack([np.stack([np.roll(row, 5 * a0 + 9 * a1) for a1 in range(4)])
                      for a0 in range(3)])
    assert_kernel_matches(array, connectivity, (0, 1, 2), 1)


@pytest.mark.parametrize("connectivity", [6, 18, 26])
def test_public_function_matches_a_flood_fill(connectivity):
    """:func:`component_extents` as a run calls it (the kernel, or the stand-in before the
    kernel is compiled): values are then labels, found again at the first voxel."""
    rng = np.random.default_rng(7)
    array = rng.choice(np.array([0, 3, 5], dtype=np.uint8), size=(5, 6, 7))
    found = component_extents(np.asfortranarray(array), connectivity, (1, 2, 0), 2)
    assert_matches(found, array, connectivity, (1, 2, 0), 2, values_are_labels=True)


def _assert_labels_are_the_components(view, labels, connectivity):
    """Labels are positive exactly on the foreground, equal across every connection of
    equal values, and as many as the flood fill's components: the same partition."""
    assert np.array_equal(labels > 0, view > 0)
    for voxel in np.argwhere(view > 0).tolist():
        for step in neighbour_steps(connectivity):
            other = tuple(v + s for v, s in zip(voxel, step))
            if all(0 <= o < n for o, n in zip(other, view.shape)) and view[other] == view[
                    tuple(voxel)]:
                assert labels[other] == labels[tuple(voxel)]
    components = flood_fill(view, connectivity, (0, 1, 2), None)
    assert len(np.unique(labels[labels > 0])) == len(components)


@pytest.mark.parametrize("connectivity", [6, 26])
@given(array=volumes())
@settings(max_examples=40, deadline=None)
def test_the_cc3d_path_labels_flipped_and_transposed_views_as_components(connectivity, array):
    for view in (array[::-1], array[:, ::-1, ::-1], array.transpose(2, 0, 1)[::-1]):
        _assert_labels_are_the_components(view, connected_components(view, connectivity),
                                          connectivity)


def test_the_cc3d_path_on_a_flipped_view_with_one_wide_axes():
    view = np.array([0, 2, 2, 2], dtype=np.uint8).reshape(4, 1, 1)[::-1]
    _assert_labels_are_the_components(view, connected_components(view, 26), 26)
