"""A label mask to its table of annotation boxes, in one pass over the voxels."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends

from niprep.core.annotations import Annotations
from niprep.core.component_extents import component_extents
from niprep.core.components import connected_components
from niprep.core.extents import Extents, scan_extents
from niprep.core.transforms.meta import read_meta
from niprep.options.groups import ANNOTATION


class MaskToBoxes(Transform):
    """Find every annotation of a ``(slice, row, col)`` mask and its inclusive box.

    ``instances="label"``: each distinct value ``> 0`` is one annotation.
    ``instances="components"``: each connected component of each value is one; those
    under ``min_voxels`` voxels or ``min_volume_mm3`` are dropped. Annotations are
    ordered by value, then by the component's first voxel in C order of the source
    array axes ``(i, j, k)``.

    Args:
        instances: ``"label"`` or ``"components"``.
        connectivity: 6, 18 or 26 (components only).
        min_voxels: smallest component kept, in voxels (components only).
        min_volume_mm3: smallest component kept, in mm^3 (components only).
        box_scope: ``"volume"``, or ``"slice"`` to also compute tight per-slice boxes.
    """

    backend = [TransformBackends.NUMPY]

    def __init__(
        self,
        instances: str = "label",
        connectivity: int = 26,
        min_voxels: int = 0,
        min_volume_mm3: float = 0.0,
        box_scope: str = "volume",
    ) -> None:
        # the same checks, and messages, as the options of a run
        checked = ANNOTATION.check(instances=instances, connectivity=connectivity,
                                   min_voxels=min_voxels, min_volume_mm3=min_volume_mm3,
                                   box_scope=box_scope)
        self.instances = checked["instances"]
        self.connectivity = checked["connectivity"]
        self.min_voxels = checked["min_voxels"]
        self.min_volume_mm3 = checked["min_volume_mm3"]
        self.box_scope = checked["box_scope"]

    def __call__(
        self,
        array: np.ndarray,
        voxel_volume: float = 1.0,
        source_axes: Sequence[int] = (0, 1, 2),
    ) -> Annotations:
        """Return the annotations of ``array``.

        Args:
            array: the mask with axes ``(slice, row, col)``.
            voxel_volume: the volume of one voxel in mm^3.
            source_axes: the stored axis (0, 1, 2 for i, j, k) of each axis of ``array``.
        """
        rank_axes = _rank_axes(source_axes)
        slice_axis = 0 if self.box_scope == "slice" else None
        if self.instances == "components":
            found = component_extents(array, self.connectivity, rank_axes, slice_axis)
            values, order = self._component_order(array, found, rank_axes, voxel_volume)
        else:
            found = scan_extents(array, rank_axes=rank_axes, slice_axis=slice_axis)
            values = found.values
            order = np.argsort(values, kind="stable")
        return _to_annotations(found, values, array.shape).take(order)

    def component_labels(
        self,
        array: np.ndarray,
        voxel_volume: float = 1.0,
        source_axes: Sequence[int] = (0, 1, 2),
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(labels, ids)``: the connected-component labels of ``array`` and the label of
        each annotation :meth:`__call__` returns, in its order (``instances="components"``).

        Args:
            array: the mask with axes ``(slice, row, col)``.
            voxel_volume: the volume of one voxel in mm^3.
            source_axes: the stored axis (0, 1, 2 for i, j, k) of each axis of ``array``.
        """
        rank_axes = _rank_axes(source_axes)
        labels = connected_components(array, self.connectivity)
        found = scan_extents(labels, rank_axes=rank_axes)
        _, order = self._component_order(array, found, rank_axes, voxel_volume)
        return labels, found.values[order]

    def _component_order(
        self, array: np.ndarray, found: Extents, rank_axes: tuple[int, ...], voxel_volume: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(values, order)``: the mask value of each component and the kept components
        ordered by value, then by first voxel."""
        first_voxel = np.unravel_index(found.first, [array.shape[a] for a in rank_axes])
        index = [None, None, None]
        for position, axis in enumerate(rank_axes):
            index[axis] = first_voxel[position]
        values = array[tuple(index)]
        keep = (found.voxels >= self.min_voxels) & (
            found.voxels * voxel_volume >= self.min_volume_mm3
        )
        order = np.lexsort((found.first, values))
        return values, order[keep[order]]


def _rank_axes(source_axes: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(axis) for axis in np.argsort(source_axes))


def _to_annotations(found: Extents, values: np.ndarray, shape: Sequence[int]) -> Annotations:
    return Annotations(
        values=values,
        lo=found.lo,
        hi=found.hi,
        voxels=found.voxels,
        num_slices=int(shape[0]),
        slice_shape=(int(shape[1]), int(shape[2])),
        slice_lo=found.slice_lo,
        slice_hi=found.slice_hi,
    )


class MaskToBoxesd(MapTransform):
    """Dictionary wrapper of :class:`MaskToBoxes`: the mask under each key gives an
    :class:`~niprep.core.annotations.Annotations` under ``<key>_<boxes_key_postfix>``.

    The voxel volume and the source axes are read from ``<key>_meta`` (``voxel_volume``,
    ``view_axes``, as :class:`LoadNiftid` and :class:`SliceViewd` record them); when
    absent they take :class:`MaskToBoxes`'s defaults (1 mm^3, the stored axis order), see
    :mod:`~niprep.core.transforms.meta`.

    Args:
        keys: keys of the masks.
        boxes_key_postfix: postfix of the key receiving the annotations.
        meta_key_postfix: postfix of the key holding the header facts.
        allow_missing_keys: do not raise for absent keys.
        kwargs: the options of :class:`MaskToBoxes`.
    """

    backend = MaskToBoxes.backend

    def __init__(
        self,
        keys: KeysCollection,
        boxes_key_postfix: str = "boxes",
        meta_key_postfix: str = "meta",
        allow_missing_keys: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.to_boxes = MaskToBoxes(**kwargs)
        self.boxes_key_postfix = boxes_key_postfix
        self.meta_key_postfix = meta_key_postfix

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            meta = read_meta(d, key, self.meta_key_postfix, "MaskToBoxesd")
            d[f"{key}_{self.boxes_key_postfix}"] = self.to_boxes(
                d[key],
                voxel_volume=meta.get("voxel_volume", 1.0),
                source_axes=meta.get("view_axes", (0, 1, 2)),
            )
        return d
