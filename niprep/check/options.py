"""The validated options of a dataset check (``niprep.check_dataset``, ``task=check``)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from niprep.config import ExtractOptions
from niprep.core.classes import check_classes

#: the options a check shares with the extraction, validated by it (same messages)
SHARED_OPTIONS = ("view", "strip_suffix", "orientation", "instances", "connectivity",
                  "min_voxels", "max_voxels", "workers", "backend", "dask_address", "resume",
                  "progress", "save_stats")


def _positive_number(name: str, value: Any, upper: float = math.inf) -> None:
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not 0 <= value <= upper
        or not math.isfinite(value)
    ):
        limit = "" if upper == math.inf else f" and <= {upper:g}"
        raise ValueError(f"{name}={value!r} is not valid; use a number >= 0{limit}")


@dataclass(frozen=True)
class CheckOptions:
    """Every option of a dataset check, validated on construction.

    Args:
        view: the view of the distribution sheet's box sizes and annotated slices (the
            thumbnails show all three).
        strip_suffix: removed from the end of case names before pairing images and masks.
        orientation: reorient to this axis code first; the ``orientation`` check is then off.
        instances: ``"label"`` (a value is an annotation) or ``"components"``.
        connectivity: 6, 18 or 26: what a connected component is.
        min_voxels: ``tiny_component`` counts the components under
            ``max(min_voxels, 2)`` voxels (so a stray voxel is always counted); with
            ``instances="components"`` smaller components are no annotation either.
        max_voxels: refuse volumes whose header declares more voxels than this.
        classes: ``{mask value: class name}`` of the values a mask may hold, or ``None``
            (validated as everywhere, by :func:`~niprep.core.classes.check_classes`).
        affine_tolerance: largest distance, in mm, between where image and mask put the
            same corner of their volumes.
        spacing_tolerance: largest relative difference between image and mask voxel sizes.
        spacing_outlier: a case whose voxel size on an axis is more than this many times
            (or under one over this) the dataset's median is reported.
        rare_label_share: without ``classes``, a value held by fewer than this share of
            the masks is reported.
        workers, backend, dask_address, resume, progress, save_stats: how the run goes,
            as for the extraction.
    """

    view: str = "axial"
    strip_suffix: str | None = "_bbox"
    orientation: str | None = None
    instances: str = "label"
    connectivity: int = 26
    min_voxels: int = 0
    max_voxels: int = 2**31
    classes: dict[float, str] | None = None
    affine_tolerance: float = 0.01
    spacing_tolerance: float = 0.01
    spacing_outlier: float = 2.0
    rare_label_share: float = 0.05
    workers: int = 1
    backend: str = "auto"
    dask_address: str | None = None
    resume: bool = False
    progress: bool = True
    save_stats: bool = False

    def __post_init__(self) -> None:
        shared = ExtractOptions(**{name: getattr(self, name) for name in SHARED_OPTIONS})
        object.__setattr__(self, "orientation", shared.orientation)
        object.__setattr__(self, "classes", check_classes(self.classes))
        _positive_number("affine_tolerance", self.affine_tolerance)
        _positive_number("spacing_tolerance", self.spacing_tolerance)
        _positive_number("rare_label_share", self.rare_label_share, upper=1.0)
        _positive_number("spacing_outlier", self.spacing_outlier)
        if self.spacing_outlier < 1:
            raise ValueError(f"spacing_outlier={self.spacing_outlier!r} is not valid; use a "
                             "factor >= 1")

    @property
    def tiny_below(self) -> int:
        """Components with fewer voxels than this are ``tiny_component``."""
        return max(self.min_voxels, 2)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CheckOptions:
        """Build options from a mapping, refusing keys that are not options.

        Args:
            values: option names to values, e.g. the keyword arguments of a call.
        """
        known = {option.name for option in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r} for the check; the options are "
                             f"{', '.join(sorted(known))}")
        return cls(**values)
