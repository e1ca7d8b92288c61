"""The options of a detection-dataset export, validated on construction."""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from niprep.config import (
    BACKENDS,
    BOX_SCOPES,
    CONNECTIVITIES,
    INSTANCE_MODES,
    VIEWS,
    ExtractOptions,
    check_choice,
)
from niprep.core.classes import check_classes
from niprep.core.window import check_window

FORMATS = ("yolo", "coco", "monai")
SPLITS = ("train", "val", "test")
CHANNELS = (1, 3)
NEGATIVES = ("all", "none")
NEGATIVES_WITHIN = (None, "image")
BOX_SPACES = ("voxel", "world")
WORLD_FRAMES = ("RAS", "LPS")
#: the options only the 2-D formats (PNG slices) use
PICTURE_OPTIONS = ("view", "orientation", "target_size", "box_scope", "window", "channels",
                   "pad_value", "negatives", "negatives_within", "preview")
#: the options only the MONAI 3-D data list uses
MONAI_OPTIONS = ("box_space", "world_frame")
#: the options of ExtractOptions the export passes on to the annotation pipeline
EXTRACTION_OPTIONS = ("view", "target_size", "instances", "connectivity", "min_voxels",
                      "min_volume_mm3", "box_scope", "orientation", "strip_suffix", "max_voxels",
                      "workers", "backend", "dask_address", "resume", "progress", "save_stats")


def _fail(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is not valid; {allowed}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_fractions(value: Any) -> tuple[float, float, float]:
    """Return ``split`` as ``(train, val, test)`` fractions; raise ``ValueError`` otherwise.

    Args:
        value: three numbers ``>= 0`` summing to 1.
    """
    allowed = "use three fractions [train, val, test], each >= 0, summing to 1, e.g. [0.8, 0.2, 0]"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 3:
        raise _fail("split", value, allowed)
    if not all(_is_number(part) and math.isfinite(part) and part >= 0 for part in value):
        raise _fail("split", value, allowed)
    if not math.isclose(math.fsum(value), 1.0, abs_tol=1e-9):
        raise _fail("split", list(value), f"they sum to {math.fsum(value):g}; {allowed}")
    return tuple(float(part) for part in value)


def check_group_pattern(value: Any) -> str | None:
    """Return ``group_pattern`` if it is ``None`` or a regex with a group; raise otherwise.

    Args:
        value: a regular expression whose first group names the patient of a case name.
    """
    if value is None:
        return None
    example = "use a regular expression whose first group names the patient, e.g. '(sub-[^_]+)'"
    if not isinstance(value, str):
        raise _fail("group_pattern", value, example)
    try:
        pattern = re.compile(value)
    except re.error as error:
        raise _fail("group_pattern", value, f"it does not compile ({error}); {example}") from None
    if pattern.groups < 1:
        raise _fail("group_pattern", value, f"it has no group; {example}")
    return value


@dataclass(frozen=True)
class ExportOptions:
    """Every option of :func:`~niprep.export.export_detection_dataset`.

    Args:
        format: ``"yolo"``, ``"coco"`` or ``"monai"``.
        split: ``[train, val, test]`` fractions of the cases (whole cases, never slices).
        split_seed: the seed of the deterministic split.
        group_pattern: a regex whose first group names the patient of a case name; the
            cases of one patient stay in one split (``None``: each case is its own group).
        split_file: a ``split.json`` of an earlier export to reuse (``split``,
            ``split_seed`` and ``group_pattern`` are then not used).
        classes: ``{mask value: class name}`` (merges several values into one class and
            leaves out values not listed), or ``None``: every value found is a class.
        window: how image values become 8-bit grey: a CT preset name
            (``"ct-soft-tissue"``, ``"ct-lung"``, ``"ct-bone"``, ``"ct-brain"``,
            ``"ct-liver"``), ``[level, width]``, ``"percentile"`` (0.5-99.5 % of the
            volume's non-zero voxels) or ``None`` (16-bit PNG of the stored values).
        channels: 1 (grey) or 3 (previous, this and next slice as RGB, 2.5-D).
        pad_value: the value of the pixels added for ``target_size`` (grey levels with a
            window, stored values without).
        negatives: slices without a box: ``"all"``, ``"none"``, or a number ``r >= 0``:
            ``round(r * positives)`` of them per case, chosen deterministically.
        negatives_within: ``"image"``: only slices holding image voxels above the volume's
            minimum count as negatives; ``None``: every slice.
        box_space: MONAI boxes in ``"voxel"`` (``xyzxyz``, half-open) or ``"world"``
            coordinates (``cccwhd`` in mm).
        world_frame: ``"RAS"`` (NIfTI, MONAI's default) or ``"LPS"`` (ITK, the LUNA16
            tutorial) for ``box_space="world"``.
        affine_tolerance: largest difference, in mm, between an image's and its mask's
            affine entries.
        view, target_size, instances, connectivity, min_voxels, min_volume_mm3, box_scope,
            orientation, strip_suffix, max_voxels: as for the annotation CSVs
            (:class:`~niprep.config.ExtractOptions`); ``box_scope`` is ``"slice"`` (tight
            per-slice boxes) by default.
        workers, backend, dask_address, resume, progress, save_stats: how the run goes, as
            for the annotation CSVs.
        preview: draw this many exported pictures with their boxes into
            ``<out>/preview/<view>_<format>_preview.png`` (0: none; 2-D formats).
    """

    format: str = "yolo"
    split: tuple[float, float, float] = (0.8, 0.2, 0.0)
    split_seed: int = 0
    group_pattern: str | None = None
    split_file: str | None = None
    classes: dict[float, str] | None = None
    window: Any = "percentile"
    channels: int = 1
    pad_value: float = 0.0
    negatives: Any = "all"
    negatives_within: str | None = None
    box_space: str = "voxel"
    world_frame: str = "RAS"
    affine_tolerance: float = 1e-3
    view: str = "axial"
    target_size: tuple[int, int] | None = None
    instances: str = "label"
    connectivity: int = 26
    min_voxels: int = 0
    min_volume_mm3: float = 0.0
    box_scope: str = "slice"
    orientation: str | None = None
    strip_suffix: str | None = "_bbox"
    max_voxels: int = 2**31
    workers: int = 1
    backend: str = "auto"
    dask_address: str | None = None
    resume: bool = False
    progress: bool = True
    save_stats: bool = False
    preview: int = 0

    def __post_init__(self) -> None:
        check_choice("format", self.format, FORMATS)
        object.__setattr__(self, "split", check_fractions(self.split))
        if not isinstance(self.split_seed, numbers.Integral) or isinstance(self.split_seed, bool):
            raise _fail("split_seed", self.split_seed, "use a whole number")
        check_group_pattern(self.group_pattern)
        if self.split_file is not None:
            if not isinstance(self.split_file, (str, os.PathLike)):
                raise _fail("split_file", self.split_file, "use None or the path of a split.json")
            object.__setattr__(self, "split_file", os.fspath(self.split_file))
        object.__setattr__(self, "classes", check_classes(self.classes))
        object.__setattr__(self, "window", check_window(self.window))
        check_choice("channels", self.channels, CHANNELS)
        if self.channels == 3 and self.window is None:
            raise _fail("channels", 3, "RGB pictures are 8-bit: give a window, such as "
                                       "window='percentile'")
        if not _is_number(self.pad_value) or not math.isfinite(self.pad_value):
            raise _fail("pad_value", self.pad_value, "use a finite number")
        top, unit = (255, "a grey level") if self.window is not None else (65535, "a 16-bit value")
        if not (0 <= self.pad_value <= top and float(self.pad_value).is_integer()):
            raise _fail("pad_value", self.pad_value, f"it is {unit} of the PNG: use a whole "
                                                     f"number in 0..{top}")
        if self.negatives not in NEGATIVES and not (
            _is_number(self.negatives) and math.isfinite(self.negatives) and self.negatives >= 0
        ):
            raise _fail("negatives", self.negatives, "use 'all', 'none' or a number >= 0 "
                                                     "(negatives per positive slice)")
        check_choice("negatives_within", self.negatives_within, NEGATIVES_WITHIN)
        check_choice("box_space", self.box_space, BOX_SPACES)
        check_choice("world_frame", self.world_frame, WORLD_FRAMES)
        if not _is_number(self.affine_tolerance) or not self.affine_tolerance >= 0:
            raise _fail("affine_tolerance", self.affine_tolerance, "use a number >= 0 (mm)")
        check_choice("view", self.view, VIEWS)
        check_choice("box_scope", self.box_scope, BOX_SCOPES)
        check_choice("instances", self.instances, INSTANCE_MODES)
        check_choice("connectivity", self.connectivity, CONNECTIVITIES)
        check_choice("backend", self.backend, BACKENDS)
        if not isinstance(self.preview, numbers.Integral) or isinstance(self.preview, bool) or (
                self.preview < 0):
            raise _fail("preview", self.preview, "use a whole number >= 0")
        # the shared options are checked by ExtractOptions, with its messages
        extraction = self.extraction()
        for name in ("target_size", "orientation"):
            object.__setattr__(self, name, getattr(extraction, name))
        self._refuse_inapplicable()

    def _refuse_inapplicable(self) -> None:
        """Refuse options the format does not use, unless left at their default."""
        unused = MONAI_OPTIONS if self.format != "monai" else PICTURE_OPTIONS
        for field in fields(self):
            if field.name in unused and getattr(self, field.name) != field.default:
                raise ValueError(f"{field.name}={getattr(self, field.name)!r} does not apply "
                                 f"to format={self.format!r}; leave it out")

    def extraction(self) -> ExtractOptions:
        """The options of the annotation pipeline (:mod:`niprep.core.pipeline`) for a case."""
        return ExtractOptions(**{name: getattr(self, name) for name in EXTRACTION_OPTIONS})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ExportOptions:
        """Build options from a mapping, refusing keys that are not options.

        Args:
            values: option names to values, e.g. the keyword arguments of an API call.
        """
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r} for the export; the options are "
                             + ", ".join(repr(name) for name in sorted(known)))
        return cls(**values)
