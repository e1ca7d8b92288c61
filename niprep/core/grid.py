"""Voxel grids in world space: where a volume's grid lies, and how far two grids differ."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


def grid_corners(shape: Sequence[int], affine: np.ndarray) -> np.ndarray:
    """``(8, 3)`` world positions (mm) of the outer corners of a voxel grid.

    Args:
        shape: the grid's three sizes.
        affine: its ``(4, 4)`` voxel-to-world matrix.
    """
    edges = [(-0.5, size - 0.5) for size in shape]
    grid = np.array(list(itertools.product(*edges)))
    affine = np.asarray(affine, dtype=np.float64)
    return grid @ affine[:3, :3].T + affine[:3, 3]


def corner_distance(
    shape: Sequence[int], affine: np.ndarray, other_shape: Sequence[int], other: np.ndarray
) -> float:
    """The largest distance (mm) between matching outer corners of two voxel grids: 0 for
    one grid, small for a resampling of the same field of view, large for a shift or a flip.

    Args:
        shape: the first grid's sizes.
        affine: its voxel-to-world matrix.
        other_shape: the second grid's sizes.
        other: its voxel-to-world matrix.
    """
    moved = grid_corners(shape, affine) - grid_corners(other_shape, other)
    return float(np.linalg.norm(moved, axis=1).max())
