"""The validated options of a dataset check (``niprep.check_dataset``, ``task=check``)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from niprep.config import ExtractOptions

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


def normalize_classes(value: Any) -> dict[int, str] | None:
    """``classes`` as ``{value: name}``; ``ValueError`` naming the bad entry otherwise.

    Args:
        value: ``None``, a mapping of label values (whole numbers > 0) to class names, or a
            sequence of label values (each named after its value).
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        pairs = [(item, str(item)) for item in value]
    else:
        raise ValueError(f"classes={value!r} is not valid; use None, {{value: name}} or a "
                         "list of label values")
    classes = {}
    for key, name in pairs:
        number = int(key) if isinstance(key, str) and key.isdigit() else key
        if not isinstance(number, numbers.Integral) or isinstance(number, bool) or number < 1:
            raise ValueError(f"classes has the key {key!r}; label values are whole numbers > 0")
        classes[int(number)] = str(name)
    if not classes:
        raise ValueError("classes={} names no label value; use None to check without classes")
    return dict(sorted(classes.items()))


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
        classes: ``{label value: class name}`` of the values a mask may hold, or ``None``.
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
    classes: dict[int, str] | None = field(default=None)
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
        object.__setattr__(self, "classes", normalize_classes(self.classes))
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
