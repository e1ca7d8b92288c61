"""Load a NIfTI volume as stored (:func:`~niprep.core.nifti_read.read_volume`), as a transform."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends

from niprep.core.nifti_read import read_volume
from niprep.core.transforms.meta import meta_key


class LoadNifti(Transform):
    """Load a 3-D NIfTI volume without converting or reordering it.

    The voxels come from ``img.dataobj`` (scaling applied, as nibabel gives them), in
    the stored dtype and nibabel's Fortran order: no float64 copy, no C-order copy.
    A 4-D volume whose 4th axis has length 1 is taken as 3-D.

    Shape, voxel count and voxel type are checked on the header, before any voxel is
    read or memory set aside for them; integer and real types are accepted (complex and
    RGB are refused), and real voxels must be finite. A broken file is refused with a
    one-line reason (see docs/reference.md, Stats and failures files).

    Args:
        max_voxels: refuse, from the header alone, a volume declaring more voxels.
        allow_non_finite: keep real voxels that are NaN or infinite instead of refusing the
            volume (the dataset check counts them in an image).
    """

    backend = [TransformBackends.NUMPY]

    def __init__(self, max_voxels: int = 2**31, allow_non_finite: bool = False) -> None:
        self.max_voxels = max_voxels
        self.allow_non_finite = allow_non_finite

    def __call__(self, path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any]]:
        """Return ``(array, meta)``; ``meta`` holds ``filename``, ``affine``, ``zooms``,
        ``voxel_volume`` (mm^3) and ``shape``.

        Raises:
            ValueError: the file is not a readable 3-D NIfTI volume of at most
                ``max_voxels`` integer or real voxels, finite unless ``allow_non_finite``;
                the message says why.
        """
        return read_volume(path, self.max_voxels, self.allow_non_finite)


class LoadNiftid(MapTransform):
    """Dictionary wrapper of :class:`LoadNifti`: a path under each key becomes the array,
    and its header facts go to ``<key>_<meta_key_postfix>``.

    Args:
        keys: keys holding paths to load.
        max_voxels: see :class:`LoadNifti`.
        meta_key_postfix: postfix of the key receiving the header facts.
        allow_missing_keys: do not raise for absent keys.
        allow_non_finite: see :class:`LoadNifti`.
    """

    backend = LoadNifti.backend

    def __init__(
        self,
        keys: KeysCollection,
        max_voxels: int = 2**31,
        meta_key_postfix: str = "meta",
        allow_missing_keys: bool = False,
        allow_non_finite: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.loader = LoadNifti(max_voxels, allow_non_finite)
        self.meta_key_postfix = meta_key_postfix

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key], d[meta_key(key, self.meta_key_postfix)] = self.loader(d[key])
        return d
