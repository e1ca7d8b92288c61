"""Read a NIfTI volume as stored: native dtype, nibabel's memory order, header facts."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from typing import Any

import nibabel as nib
import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform


class LoadNifti(Transform):
    """Load a 3-D NIfTI volume without converting or reordering it.

    The voxels come from ``img.dataobj`` (scaling applied, as nibabel gives them), in
    the stored dtype and nibabel's Fortran order: no float64 copy, no C-order copy.
    A 4-D volume whose 4th axis has length 1 is taken as 3-D.

    Args:
        max_voxels: refuse, from the header alone, a volume declaring more voxels.
    """

    backend = ["numpy"]

    def __init__(self, max_voxels: int = 2**31) -> None:
        self.max_voxels = max_voxels

    def __call__(self, path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any]]:
        """Return ``(array, meta)``; ``meta`` holds ``filename``, ``affine``, ``zooms``,
        ``voxel_volume`` (mm^3) and ``shape``."""
        image = nib.load(os.fspath(path))
        shape = tuple(int(size) for size in image.header.get_data_shape())
        if not (len(shape) == 3 or (len(shape) == 4 and shape[3] == 1)):
            raise ValueError(f"expected a 3-D volume, got shape {shape}")
        declared = int(np.prod(shape, dtype=np.int64))
        if declared > self.max_voxels:
            raise ValueError(
                f"the header declares {declared} voxels {shape}, more than max_voxels="
                f"{self.max_voxels}"
            )
        array = np.asanyarray(image.dataobj)
        if array.ndim == 4:
            array = array[..., 0]
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError("the volume holds NaN or infinite values")
        zooms = tuple(float(zoom) for zoom in image.header.get_zooms()[:3])
        meta = {
            "filename": os.fspath(path),
            "affine": image.affine,
            "zooms": zooms,
            "voxel_volume": float(np.prod(zooms)),
            "shape": array.shape,
        }
        return array, meta


class LoadNiftid(MapTransform):
    """Dictionary wrapper of :class:`LoadNifti`: a path under each key becomes the array,
    and its header facts go to ``<key>_<meta_key_postfix>``.

    Args:
        keys: keys holding paths to load.
        max_voxels: see :class:`LoadNifti`.
        meta_key_postfix: postfix of the key receiving the header facts.
        allow_missing_keys: do not raise for absent keys.
    """

    backend = LoadNifti.backend

    def __init__(
        self,
        keys: KeysCollection,
        max_voxels: int = 2**31,
        meta_key_postfix: str = "meta",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.loader = LoadNifti(max_voxels)
        self.meta_key_postfix = meta_key_postfix

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key], d[f"{key}_{self.meta_key_postfix}"] = self.loader(d[key])
        return d
