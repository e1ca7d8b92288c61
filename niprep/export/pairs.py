"""An image and its mask must share one voxel grid: same shape, affines within a tolerance."""

from __future__ import annotations

import os

import numpy as np

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
        tolerance: the largest difference allowed between affine entries, in mm.

    Raises:
        ValueError: the shapes differ, or the affines differ by more than ``tolerance``.
    """
    (image_name, image_shape, image_affine), (mask_name, mask_shape, mask_affine) = image, mask
    if tuple(image_shape) != tuple(mask_shape):
        raise ValueError(
            f"image {image_name!r} has shape {tuple(image_shape)} but mask {mask_name!r} has "
            f"{tuple(mask_shape)}; resample the mask onto the image"
        )
    difference = float(np.abs(np.asarray(image_affine) - np.asarray(mask_affine)).max())
    if difference > tolerance:
        raise ValueError(
            f"the affines of image {image_name!r} and mask {mask_name!r} differ by up to "
            f"{difference:g} mm, more than affine_tolerance={tolerance:g}; resample the mask "
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
