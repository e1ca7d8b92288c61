"""The per-case chain of transforms: a mask path in, its annotations table out.

::

    LoadNiftid -> Orientd -> SliceViewd -> MaskToBoxesd -> PadOffsetd
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from monai.transforms import MapTransform

from niprep.core.annotations import Annotations
from niprep.core.transforms import LoadNiftid, MaskToBoxesd, Orientd, PadOffsetd, SliceViewd
from niprep.options import Settings

LABEL_KEY = "label"
BOXES_KEY = f"{LABEL_KEY}_boxes"


def view_transforms(key: str, options: Settings) -> list[MapTransform]:
    """The steps masks and images share: load, orient, axes to ``(slice, row, col)``.

    Args:
        key: the dictionary key of the volume.
        options: the validated options (``max_voxels``, ``orientation``, ``view``).
    """
    return [
        LoadNiftid(key, max_voxels=options.max_voxels),
        Orientd(key, axcodes=options.orientation),
        SliceViewd(key, view=options.view),
    ]


def build(options: Settings, key: str = LABEL_KEY) -> list[MapTransform]:
    """The steps that turn ``{key: path}`` into ``{key}_boxes``, in order (a
    ``monai.transforms.Compose`` of them does the same).

    Args:
        options: the validated options of the run.
        key: the dictionary key of the mask.
    """
    return [
        *view_transforms(key, options),
        MaskToBoxesd(
            key,
            instances=options.instances,
            connectivity=options.connectivity,
            min_voxels=options.min_voxels,
            min_volume_mm3=options.min_volume_mm3,
            box_scope=options.box_scope,
        ),
        PadOffsetd(f"{key}_boxes", target_size=options.target_size),
    ]


def apply_chain(
    transforms: Sequence[Callable[[dict[str, Any]], dict[str, Any]]], data: dict[str, Any]
) -> dict[str, Any]:
    """Run ``transforms`` in turn on ``data``; an error reaches the caller as raised.

    MONAI's ``Compose`` would wrap any error in a ``RuntimeError`` of its own, while the
    message a user needs (the shape of a 2-D volume, NaN values, a slice larger than
    ``target_size``) is the transform's. No step here is lazy, random or invertible, so
    calling each in turn is all ``Compose`` would do.

    Args:
        transforms: the steps, as :func:`build` or :func:`view_transforms` give them.
        data: the dictionary the first step takes.
    """
    for transform in transforms:
        data = transform(data)
    return data


def annotate(path: str | os.PathLike, options: Settings) -> Annotations:
    """The annotations of one mask file, in the view frame, padding offset applied.

    Args:
        path: the NIfTI file.
        options: the validated options of the run.

    Raises:
        ValueError: the volume is not 3-D, holds non-finite values, or its slices are
            larger than ``target_size``.
    """
    return apply_chain(build(options), {LABEL_KEY: path})[BOXES_KEY]
