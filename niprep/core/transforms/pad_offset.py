"""Shift annotation boxes by the symmetric padding to ``target_size``.

The offset is that of docs/reference.md, Padding offset.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends

from niprep.core.annotations import Annotations
from niprep.options import checks


def padding_offset(
    slice_shape: tuple[int, int], target_size: tuple[int, int] | None
) -> tuple[int, int]:
    """Rows and columns added before a ``slice_shape`` slice padded to ``target_size``.

    The padding is symmetric, the odd pixel at the bottom/right.

    Args:
        slice_shape: ``(h, w)`` of the slice.
        target_size: ``(H, W)`` of the padded image, or ``None`` for no padding.
    """
    if target_size is None:
        return 0, 0
    (rows, cols), (height, width) = slice_shape, target_size
    if height < rows or width < cols:
        raise ValueError(
            f"target_size ({height}, {width}) is smaller than the slice size ({rows}, {cols})"
        )
    return (height - rows) // 2, (width - cols) // 2


class PadOffset(Transform):
    """Move annotations to where they sit on their slice padded to ``target_size``.

    Slice indices and box sizes are unchanged; a slice larger than ``target_size``
    raises ``ValueError`` giving both sizes.

    Args:
        target_size: ``(H, W)`` of the padded images, or ``None``.
    """

    backend = [TransformBackends.NUMPY]

    def __init__(self, target_size: tuple[int, int] | None) -> None:
        self.target_size = checks.target_size("target_size", target_size)

    def __call__(self, annotations: Annotations) -> Annotations:
        rows, cols = padding_offset(annotations.slice_shape, self.target_size)
        return annotations.shifted(rows, cols) if rows or cols else annotations


class PadOffsetd(MapTransform):
    """Dictionary wrapper of :class:`PadOffset` for keys holding annotations.

    Args:
        keys: keys holding :class:`~niprep.core.annotations.Annotations`.
        target_size: see :class:`PadOffset`.
        allow_missing_keys: do not raise for absent keys.
    """

    backend = PadOffset.backend

    def __init__(
        self,
        keys: KeysCollection,
        target_size: tuple[int, int] | None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.offset = PadOffset(target_size)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.offset(d[key])
        return d
