"""Optional reorientation to an axis code, as views of the stored array."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends
from nibabel import orientations

from niprep.core.transforms.meta import meta_key, read_meta
from niprep.options import checks


class Orient(Transform):
    """Flip and permute a volume so that its axes point along ``axcodes``.

    The same convention as MONAI's ``Orientation`` (labels L/R, P/A, I/S, the letter
    naming where an axis points). The result is a view: no voxel is copied.

    Args:
        axcodes: a 3-letter code such as ``"RAS"``, or ``None`` to leave volumes as stored.
    """

    backend = [TransformBackends.NUMPY]

    def __init__(self, axcodes: str | None) -> None:
        self.axcodes = checks.orientation("orientation", axcodes)

    def __call__(self, array: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the reoriented ``(array, affine)``."""
        if self.axcodes is None:
            return array, affine
        transform = orientations.ornt_transform(
            orientations.io_orientation(affine), orientations.axcodes2ornt(self.axcodes)
        )
        reoriented = orientations.apply_orientation(array, transform)
        return reoriented, affine @ orientations.inv_ornt_aff(transform, array.shape)


class Orientd(MapTransform):
    """Dictionary wrapper of :class:`Orient`, updating ``affine`` and ``shape`` in
    ``<key>_meta``, where the affine is read from (see :mod:`~niprep.core.transforms.meta`).

    Args:
        keys: keys of the arrays to reorient.
        axcodes: see :class:`Orient`.
        meta_key_postfix: postfix of the key holding the header facts.
        allow_missing_keys: do not raise for absent keys.
    """

    backend = Orient.backend

    def __init__(
        self,
        keys: KeysCollection,
        axcodes: str | None,
        meta_key_postfix: str = "meta",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.orient = Orient(axcodes)
        self.meta_key_postfix = meta_key_postfix

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """Reorient the array under each key.

        Raises:
            KeyError: ``<key>_meta`` holds no ``affine``.
        """
        d = dict(data)
        for key in self.key_iterator(d):
            meta = read_meta(d, key, self.meta_key_postfix, "Orientd", needed=("affine",))
            d[key], meta["affine"] = self.orient(d[key], meta["affine"])
            meta["shape"] = d[key].shape
            d[meta_key(key, self.meta_key_postfix)] = meta
        return d
