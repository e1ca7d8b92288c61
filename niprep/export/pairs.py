"""An image and its mask must share one voxel grid: same shape, corners within a tolerance."""

from __future__ import annotations

import os

import numpy as np

from niprep.core.grid import corner_distance
from niprep.core.nifti_read import read_header


def check_pair(
    image: tuple[str, tuple[int, ...], np.ndarray],
    mask: tuple[str, tuple[int, ...], np.ndarray],
    tolerance: float,
) -> None:
    """Refuse an image and mask whose grids differ.

    Args:
        image: ``(file name, shape, affine)`` of the image.
        mask: ``(file name, shape, affine)`` of the mask.
        tolerance: how far (mm) a corner of the voxel grid may move between them.

    Raises:
        ValueError: the shapes differ, or the grids' corners lie more than ``tolerance``
            apart.
    """
    (image_name, image_shape, image_affine), (mask_name, mask_shape, mask_affine) = image, mask
    if tuple(image_shape) != tuple(mask_shape):
        raise ValueError(
            f"image {image_name!r} has shape {tuple(image_shape)} but mask {mask_name!r} has "
            f"{tuple(mask_shape)}; resample the mask onto the image"
        )
    distance = corner_distance(image_shape, image_affine, mask_shape, mask_affine)
    if distance > tolerance:
        raise ValueError(
            f"image {image_name!r} and mask {mask_name!r} place a corner of the volume "
            f"{distance:.2f} mm apart (affine_tolerance={tolerance:g} mm); resample the mask "
            "onto the image or raise affine_tolerance"
        )


def header_grid(
    path: str | os.PathLike, max_voxels: int = 2**31
) -> tuple[str, tuple[int, ...], np.ndarray]:
    """``(file name, shape, affine)`` of a NIfTI file from its header alone.

    Args:
        path: the file.
        max_voxels: refuse a volume declaring more voxels.

    Raises:
        ValueError: the file cannot be read as a 3-D NIfTI volume; the message names it.
    """
    name = os.path.basename(path)
    try:
        header = read_header(path, max_voxels)
    except ValueError as error:
        raise ValueError(f"{name!r}: {error}") from None
    return name, header.shape, header.affine
