"""What one case's volumes tell the dataset check: header facts and mask content, as JSON.

A worker reads the voxels once and keeps only these small facts (staged as
``check/cases/<case>.json``); every finding is then computed from them, per case
(:mod:`niprep.check.findings`) and over the dataset (:mod:`niprep.check.dataset`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import nibabel as nib
import numpy as np

from niprep.check.stray_voxels import stray_voxels_in_boxes
from niprep.core.nifti_read import non_finite_counts
from niprep.core.transforms.mask_to_boxes import MaskToBoxes
from niprep.options import Settings

Number = int | float


def tiny_below(options: Settings) -> int:
    """Components with fewer voxels than this are tiny: ``min_voxels`` (with
    ``instances="components"``), and never under 2, so that a stray voxel always counts
    (with ``instances="label"``, where ``min_voxels`` is 0, the stray voxels are all)."""
    return max(options.min_voxels, 2)


@dataclass(frozen=True)
class VolumeFacts:
    """What the header of one stored volume says.

    Args:
        filename: the file name.
        shape: the stored ``(i, j, k)`` shape.
        affine: the 4 x 4 voxel-to-world matrix, as stored.
        zooms: voxel size in mm along ``i, j, k``.
        axcodes: where the stored axes point, e.g. ``"RAS"`` (nibabel's ``aff2axcodes``).
    """

    filename: str
    shape: tuple[int, int, int]
    affine: tuple[tuple[float, ...], ...]
    zooms: tuple[float, float, float]
    axcodes: str

    @classmethod
    def of(cls, meta: dict[str, Any]) -> VolumeFacts:
        """The facts of a volume from the ``meta`` of :class:`~niprep.core.transforms.LoadNifti`."""
        affine = np.asarray(meta["affine"], dtype=float)
        codes = "".join(code or "?" for code in nib.aff2axcodes(affine))
        return cls(
            filename=meta["filename"].rsplit("/", 1)[-1],
            shape=tuple(int(size) for size in meta["shape"]),
            affine=tuple(tuple(float(x) for x in row) for row in affine),
            zooms=tuple(float(zoom) for zoom in meta["zooms"]),
            axcodes=codes,
        )


@dataclass(frozen=True)
class MaskFacts:
    """What a mask's voxels hold, in the frame of the check's view ``(slice, row, col)``.

    Args:
        values: the distinct values ``> 0``, ascending.
        boxes: each annotation (as ``instances`` makes them) as ``(value, slice_lo, row_lo,
            col_lo, slice_hi, row_hi, col_hi)``, inclusive, in annotation order.
        view_shape: ``(slices, rows, cols)``.
        view_zooms: voxel size in mm along ``slice, row, col``.
        components: connected components of the positive values (``instances=
            "components"``), or ``None``: with ``instances="label"`` they are not counted.
        tiny_components: those with fewer voxels than :func:`tiny_below`; with
            ``instances="label"``, the stray voxels (one-voxel components).
        annotated_slices: slices holding a voxel of an annotation.
    """

    values: tuple[Number, ...]
    boxes: tuple[tuple[Number, int, int, int, int, int, int], ...]
    view_shape: tuple[int, int, int]
    view_zooms: tuple[float, float, float]
    components: int | None
    tiny_components: int
    annotated_slices: int

    @property
    def bounds(self) -> np.ndarray:
        """``(N, 6)`` int64 ``slice_lo, row_lo, col_lo, slice_hi, row_hi, col_hi`` of each
        annotation, as :attr:`boxes` holds them after the value."""
        return np.array([box[1:] for box in self.boxes], dtype=np.int64).reshape(-1, 6)

    @classmethod
    def of(cls, array: np.ndarray, view_zooms: tuple[float, float, float],
           source_axes: tuple[int, int, int], options: Settings) -> MaskFacts:
        """The facts of a mask, from one pass over its voxels (and, with
        ``instances="label"``, a count of its stray voxels within the boxes that pass
        found: :func:`~niprep.check.stray_voxels.stray_voxels_in_boxes`).

        Args:
            array: the mask, axes ``(slice, row, col)``.
            view_zooms: its voxel size along those axes.
            source_axes: the stored axis of each of them (for the annotation order).
            options: ``instances``, ``connectivity``, ``min_voxels``.
        """
        if options.instances == "label":
            found = MaskToBoxes(box_scope="slice")(array, source_axes=source_axes)
            values, lo, hi = found.values, found.lo, found.hi
            components = None
            tiny = stray_voxels_in_boxes(array, values, lo, hi)
            present = found.slice_present.any(axis=1)
        else:
            found = MaskToBoxes(instances="components", connectivity=options.connectivity)(
                array, source_axes=source_axes
            )
            components = len(found.voxels)
            tiny = int(np.count_nonzero(found.voxels < tiny_below(options)))
            kept = found.voxels >= options.min_voxels
            values, lo, hi = found.values[kept], found.lo[kept], found.hi[kept]
            # a connected component holds a voxel on every slice between its first and last
            present = np.zeros(array.shape[0] + 1, dtype=np.int64)
            np.add.at(present, lo[:, 0], 1)
            np.add.at(present, hi[:, 0] + 1, -1)
            present = np.cumsum(present)[:-1] > 0
        boxes = tuple(
            (value, *(int(x) for x in low), *(int(x) for x in high))
            for value, low, high in zip(values.tolist(), lo, hi)
        )
        return cls(
            values=tuple(np.unique(found.values).tolist()),
            boxes=boxes,
            view_shape=tuple(int(size) for size in array.shape),
            view_zooms=tuple(float(zoom) for zoom in view_zooms),
            components=components,
            tiny_components=tiny,
            annotated_slices=int(np.count_nonzero(present)),
        )


@dataclass(frozen=True)
class ImageFacts:
    """What an image's voxels hold that the check looks at.

    Args:
        voxels: voxels in the volume.
        nan: voxels that are NaN.
        inf: voxels that are infinite.
    """

    voxels: int
    nan: int
    inf: int

    @classmethod
    def of(cls, array: np.ndarray) -> ImageFacts:
        """Count the non-finite voxels."""
        return cls(int(array.size), *non_finite_counts(array))


@dataclass(frozen=True)
class CaseFacts:
    """Everything the check knows about one case once its voxels were read.

    Args:
        name: the case name.
        image: the image's header facts, or ``None`` without an image.
        mask: the mask's header facts, or ``None`` without a mask.
        image_content: the image's voxel facts, or ``None``.
        mask_content: the mask's voxel facts, or ``None``.
    """

    name: str
    image: VolumeFacts | None = None
    mask: VolumeFacts | None = None
    image_content: ImageFacts | None = None
    mask_content: MaskFacts | None = None

    @property
    def spacing(self) -> tuple[float, float, float]:
        """The case's voxel size: the image's, else the mask's."""
        return (self.image or self.mask).zooms

    @property
    def axcodes(self) -> str:
        """The case's axis codes: the image's, else the mask's."""
        return (self.image or self.mask).axcodes

    def to_json(self) -> str:
        """The facts as one JSON text (what :meth:`from_json` reads back).

        The parts hold only numbers, text and tuples of them, so their fields are written as
        they are (``dataclasses.asdict`` would copy every box first: most of the time).
        """
        parts = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data = {key: vars(part) if dataclasses.is_dataclass(part) else part
                for key, part in parts.items()}
        return json.dumps(data, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> CaseFacts:
        """Read back :meth:`to_json`'s text."""
        data = json.loads(text)
        kinds = {"image": VolumeFacts, "mask": VolumeFacts, "image_content": ImageFacts,
                 "mask_content": MaskFacts}
        parts = {
            key: None if data[key] is None else kind(**_tuples(data[key]))
            for key, kind in kinds.items()
        }
        return cls(name=data["name"], **parts)


def _tuples(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON lists back to the tuples the facts hold."""
    def frozen(value: Any) -> Any:
        return tuple(frozen(item) for item in value) if isinstance(value, list) else value

    return {key: frozen(value) for key, value in fields.items()}
