"""Stray voxels (one-voxel components) counted without labelling, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from niprep.check.stray_voxels import count_stray_voxels, stray_voxels_in_boxes

STEPS = [step for step in itertools.product((-1, 0, 1), repeat=3) if step != (0, 0, 0)]


def brute_force(mask: np.ndarray) -> int:
    """Every voxel > 0 whose 26 neighbours inside the volume all hold another value."""
    stray = 0
    for index in np.ndindex(mask.shape):
        value = mask[index]
        if not value > 0:
            continue
        near = (tuple(i + d for i, d in zip(index, step)) for step in STEPS)
        stray += not any(
            all(0 <= i < n for i, n in zip(voxel, mask.shape)) and mask[voxel] == value
            for voxel in near
        )
    return stray


def shifted_brute_force(mask: np.ndarray) -> int:
    """The same count by comparing the mask with its 26 shifts in a padded copy."""
    padded = np.pad(mask.astype(np.float64), 1, constant_values=np.nan)
    alone = mask > 0
    n0, n1, n2 = mask.shape
    for d0, d1, d2 in STEPS:
        alone &= padded[1 + d0 : 1 + d0 + n0, 1 + d1 : 1 + d1 + n1, 1 + d2 : 1 + d2 + n2] != mask
    return int(np.count_nonzero(alone))


def value_boxes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``values, lo, hi``: each value > 0 and its inclusive box."""
    values = np.unique(mask[mask > 0])
    where = [np.argwhere(mask == value) for value in values]
    lo = np.array([w.min(axis=0) for w in where], dtype=np.int64).reshape(-1, 3)
    hi = np.array([w.max(axis=0) for w in where], dtype=np.int64).reshape(-1, 3)
    return values, lo, hi


masks = arrays(np.int16, st.tuples(*[st.integers(1, 5)] * 3),
               elements=st.sampled_from([0, 0, 0, 1, 1, 2, 3, -1]))


@settings(max_examples=150, deadline=None)
@given(mask=masks, axes=st.permutations([0, 1, 2]), fortran=st.booleans())
def test_stray_voxels_match_brute_force(mask, axes, fortran):
    mask = np.asfortranarray(mask) if fortran else mask
    view = mask.transpose(axes)  # read in memory order whatever the view's axes
    expected = brute_force(view)
    assert count_stray_voxels(view) == expected
    values, lo, hi = value_boxes(view)
    assert stray_voxels_in_boxes(view, values, lo, hi) == expected


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, bool])
def test_diagonal_neighbours_join_and_edges_count(dtype):
    mask = np.zeros((4, 5, 6), dtype=dtype)
    mask[0, 0, 0] = mask[1, 1, 1] = 1  # touching by a corner only: one component of two
    mask[3, 4, 5] = 1  # alone, in the volume's last corner
    mask[0, 4, 0] = mask[1, 3, 0] = 1  # touching by an edge, on the volume's faces
    mask[3, 0, 3] = 1  # alone on a face
    assert count_stray_voxels(mask) == 2
    if dtype is not bool:
        mask[3, 0, 2] = 2  # a neighbour of another value leaves (3, 0, 3) alone
        mask[2, 0, 4] = 2  # ... and two columns away from the other 2: both stray
        assert count_stray_voxels(mask) == 4


def test_blocks_of_planes_join_across_their_borders():
    # 256 x 256 planes: four planes per block, so neighbours lie across block borders
    rng = np.random.default_rng(7)
    mask = (rng.random((11, 256, 256)) < 0.02).astype(np.uint8) * rng.integers(1, 3, (11, 256,
                                                                                     256))
    expected = shifted_brute_force(mask)
    assert expected > 1000
    assert count_stray_voxels(mask) == expected
    assert count_stray_voxels(mask.transpose(2, 0, 1)) == expected
