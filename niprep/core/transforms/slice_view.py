"""Axes reordered to ``(slice, row, col)`` for a view, without a copy."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends

from niprep.core.transforms.meta import meta_key, read_meta

#: for each view, the array axes ``(i=0, j=1, k=2)`` that become ``(slice, row, col)``
VIEW_AXES: dict[str, tuple[int, int, int]] = {
    "axial": (2, 0, 1),
    "coronal": (1, 0, 2),
    "sagittal": (0, 1, 2),
}


class SliceView(Transform):
    """Reorder a volume's axes to ``(slice, row, col)`` for ``view``.

    Which axis is sliced, and which is a row, is in docs/reference.md, Coordinates.

    ``out[s]`` is exactly the 2-D slice numpy gives (``vol[:, :, s]`` for axial, ...).
    The result is a strided view of the input.

    Args:
        view: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    """

    backend = [TransformBackends.NUMPY]

    def __init__(self, view: str) -> None:
        if view not in VIEW_AXES:
            raise ValueError(f"view={view!r} is not valid; choose one of {sorted(VIEW_AXES)}")
        self.view = view
        self.axes = VIEW_AXES[view]

    def __call__(self, array: np.ndarray) -> np.ndarray:
        return array.transpose(self.axes)


class SliceViewd(MapTransform):
    """Dictionary wrapper of :class:`SliceView`; records ``view``, ``view_axes`` (the
    source axis of each of ``slice, row, col``) and the new ``shape`` in ``<key>_meta``
    (created when absent, see :mod:`~niprep.core.transforms.meta`).

    Args:
        keys: keys of the arrays to reorder.
        view: see :class:`SliceView`.
        meta_key_postfix: postfix of the key holding the header facts.
        allow_missing_keys: do not raise for absent keys.
    """

    backend = SliceView.backend

    def __init__(
        self,
        keys: KeysCollection,
        view: str,
        meta_key_postfix: str = "meta",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.slicer = SliceView(view)
        self.meta_key_postfix = meta_key_postfix

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            meta = read_meta(d, key, self.meta_key_postfix, "SliceViewd")
            d[key] = self.slicer(d[key])
            meta.update(view=self.slicer.view, view_axes=self.slicer.axes, shape=d[key].shape)
            d[meta_key(key, self.meta_key_postfix)] = meta
        return d
