"""What can be wrong with one case, found from its facts: one :class:`Finding` per problem.

Each check has a fixed name and severity (the README's dataset-check section lists them); the
details are one line with the numbers. The checks that compare a case with the rest of the
dataset are in :mod:`niprep.check.dataset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from niprep.check.facts import ImageFacts, MaskFacts, Number, VolumeFacts, tiny_below
from niprep.core.grid import corner_distance
from niprep.options import Settings

#: every check, in the order a case's rows are listed, with its severity
SEVERITY = {
    "unpaired": "error",
    "shape": "error",
    "affine": "error",
    "spacing": "warning",
    "orientation": "warning",
    "label_values": "warning",
    "non_integer": "error",
    "empty": "warning",
    "touches_border": "warning",
    "tiny_component": "warning",
    "non_finite": "error",
    "unreadable": "error",
}
CHECKS = tuple(SEVERITY)
#: values and annotations named in one detail, at most
SHOWN = 3
_EDGES = ("slice", "row", "column")


@dataclass(frozen=True)
class Finding:
    """One problem of one case: a row of ``check.csv``.

    Args:
        case: the case name (the file name when the file gives no case name).
        check: one of :data:`CHECKS`.
        detail: one line saying what is wrong, with the numbers.
    """

    case: str
    check: str
    detail: str

    @property
    def severity(self) -> str:
        """``"error"`` or ``"warning"``."""
        return SEVERITY[self.check]


def sizes(numbers: Sequence[float], unit: str = "") -> str:
    """``1 x 1 x 2.5 mm``: a size or voxel size, each number as short as it is exact."""
    return " x ".join(f"{number:g}" for number in numbers) + (f" {unit}" if unit else "")


def count(number: int, noun: str) -> str:
    """``1 value``, ``2 values``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def listing(values: Sequence[Number]) -> str:
    """The first :data:`SHOWN` values, ``, ...`` when there are more."""
    shown = ", ".join(f"{value:g}" for value in values[:SHOWN])
    return shown + (", ..." if len(values) > SHOWN else "")


def pair_findings(case: str, image: VolumeFacts, mask: VolumeFacts,
                  options: Settings) -> list[Finding]:
    """``shape``, ``affine`` and ``spacing`` of an image and its mask, from their headers.

    The affines are compared by where each puts the outer corners of its own voxel grid, so
    a mask resampled over the same field of view passes (its ``shape`` and ``spacing`` say
    it was resampled), while a flipped axis or a shifted origin moves corners.

    Args:
        case: the case name.
        image: the image's header facts.
        mask: the mask's header facts.
        options: ``affine_tolerance``, ``spacing_tolerance``.
    """
    found = []
    if image.shape != mask.shape:
        found.append(Finding(case, "shape", f"image {sizes(image.shape)} voxels, mask "
                                            f"{sizes(mask.shape)}"))
    distance = corner_distance(image.shape, image.affine, mask.shape, mask.affine)
    if distance > options.affine_tolerance:
        detail = (f"image and mask place a corner of the volume {distance:.2f} mm apart "
                  f"(affine_tolerance={options.affine_tolerance:g} mm)")
        image_axes = np.array(image.affine)[:3, :3]
        mask_axes = np.array(mask.affine)[:3, :3]
        for axis, name in enumerate("ijk"):
            if image_axes[:, axis] @ mask_axes[:, axis] < 0:
                detail += (f"; axis {name} is flipped (image {image.axcodes[axis]}, mask "
                           f"{mask.axcodes[axis]})")
        found.append(Finding(case, "affine", detail))
    ratios = np.abs(np.subtract(image.zooms, mask.zooms)) / np.maximum(image.zooms, mask.zooms)
    if (ratios > options.spacing_tolerance).any():
        found.append(Finding(case, "spacing", f"voxel sizes differ: image "
                                              f"{sizes(image.zooms, 'mm')}, mask "
                                              f"{sizes(mask.zooms, 'mm')}"))
    return found


def mask_findings(case: str, mask: MaskFacts, options: Settings) -> list[Finding]:
    """``non_integer``, ``empty``, ``touches_border`` and ``tiny_component`` of a mask.

    Args:
        case: the case name.
        mask: the mask's voxel facts.
        options: ``min_voxels``, ``view``, ``classes`` (a non-integer value listed there
            is allowed).
    """
    found = []
    allowed = options.classes or {}
    fractional = [value for value in mask.values if value != int(value) and value not in allowed]
    if fractional:
        found.append(Finding(case, "non_integer", f"{count(len(fractional), 'non-integer value')}: "
                                                  f"{listing(fractional)}"))
    if not mask.boxes:
        why = ("every component is under min_voxels" if mask.components else "no voxel > 0")
        found.append(Finding(case, "empty", f"no annotation: {why}"))
    bounds = mask.bounds
    at_edge = np.concatenate([bounds[:, :3] == 0, bounds[:, 3:] == np.array(mask.view_shape) - 1],
                             axis=1)
    touching = np.flatnonzero(at_edge.any(axis=1))
    if len(touching):
        named = []
        for index in touching[:SHOWN]:
            edges = [f"{'first' if side < 3 else 'last'} {_EDGES[side % 3]}"
                     for side in np.flatnonzero(at_edge[index])]
            named.append(f"value {mask.boxes[index][0]:g} ({', '.join(edges)})")
        shown = "; ".join(named) + ("; ..." if len(touching) > SHOWN else "")
        annotations = count(len(mask.boxes), "annotation")
        found.append(Finding(case, "touches_border", f"{len(touching)} of {annotations} touch "
                                                     f"the volume's edge ({options.view}): "
                                                     f"{shown}"))
    if mask.tiny_components and mask.components is None:  # instances="label"
        found.append(Finding(case, "tiny_component", f"{count(mask.tiny_components, 'stray voxel')}"
                                                     " (no 26-neighbour of the same value)"))
    elif mask.tiny_components:
        found.append(Finding(case, "tiny_component", f"{mask.tiny_components} of "
                                                     f"{count(mask.components, 'component')} "
                                                     f"under {tiny_below(options)} voxels"))
    return found


def image_findings(case: str, image: ImageFacts) -> list[Finding]:
    """``non_finite`` of an image.

    Args:
        case: the case name.
        image: the image's voxel facts.
    """
    bad = image.nan + image.inf
    if not bad:
        return []
    return [Finding(case, "non_finite", f"{bad} of {image.voxels} image voxels are not finite "
                                        f"({image.nan} NaN, {image.inf} infinite)")]
