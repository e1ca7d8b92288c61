"""The one validated set of options behind every entry point.

The Python functions, the ``niprep`` command and the tests all build an
:class:`ExtractOptions`; a bad value fails here, the same way everywhere, before any
file is read or written.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

VIEWS = ("axial", "coronal", "sagittal")
SAVING_MODES = ("case", "view")
EXTRACTION_MODES = ("slice", "volume")
DATA_MODES = ("center", "box", "radius")
INSTANCE_MODES = ("label", "components")
CONNECTIVITIES = (6, 18, 26)
BOX_SCOPES = ("volume", "slice")
BACKENDS = ("auto", "serial", "process", "dask")
NORMALIZATIONS = (None, "min-max")
BOX_MODES = ("csv", "monai")
_AXIS_LETTERS = ("LR", "PA", "IS")


def _choices(values: Sequence[Any]) -> str:
    return ", ".join(repr(value) for value in values)


def _fail(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is not valid; {allowed}")


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise ``ValueError`` naming ``name``, ``value`` and the ``allowed`` values unless
    ``value`` is one of them."""
    if isinstance(value, bool) or value not in allowed:
        raise _fail(name, value, f"choose one of {_choices(allowed)}")


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _fail(name, value, "use True or False")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_count(name: str, value: Any, minimum: int) -> None:
    if not _is_int(value) or value < minimum:
        raise _fail(name, value, f"use a whole number >= {minimum}")


def normalize_target_size(value: Any) -> tuple[int, int] | None:
    """Return ``target_size`` as ``(H, W)`` or ``None``; raise ``ValueError`` otherwise.

    Args:
        value: ``None`` or a sequence (or 1-D array) of two positive integers (rows,
            columns).
    """
    if value is None:
        return None
    if (
        isinstance(value, (str, bytes))
        or not (isinstance(value, Sequence) or getattr(value, "ndim", None) == 1)
        or len(value) != 2
        or not all(_is_int(size) and size > 0 for size in value)
    ):
        raise _fail("target_size", value, "use None or two positive integers (height, width)")
    return (int(value[0]), int(value[1]))


def normalize_orientation(value: Any) -> str | None:
    """Return an axis code such as ``"RAS"`` in upper case, or ``None``.

    Args:
        value: ``None`` or three letters naming one direction of each anatomical axis
            (L/R, P/A, I/S), in any order.
    """
    if value is None:
        return None
    allowed = "use None or a 3-letter axis code with one of L/R, P/A, I/S each, such as 'RAS'"
    if not isinstance(value, str) or len(value) != 3:
        raise _fail("orientation", value, allowed)
    code = value.upper()
    if sorted(next((i for i, pair in enumerate(_AXIS_LETTERS) if c in pair), -1) for c in code) != [
        0,
        1,
        2,
    ]:
        raise _fail("orientation", value, allowed)
    return code


@dataclass(frozen=True)
class ExtractOptions:
    """Every option of an extraction run, validated on construction.

    Args:
        view: ``"axial"``, ``"coronal"`` or ``"sagittal"``: the array axis sliced (SPEC 3).
        saving_mode: ``"case"`` (``<out>/<case>/<view>/``) or ``"view"`` (``<out>/<view>/``).
        extraction_mode: ``"slice"`` (a CSV per slice) or ``"volume"`` (a CSV per case).
        data_mode: ``"center"``, ``"box"`` or ``"radius"``: the columns written.
        target_size: ``(H, W)`` the images were padded to, or ``None``.
        save_stats: write ``<view>_annotations_stats.csv``.
        instances: ``"label"`` (a value is an annotation) or ``"components"``.
        connectivity: 6, 18 or 26, for ``instances="components"``.
        min_voxels: components with fewer voxels are dropped.
        min_volume_mm3: components with a smaller physical volume are dropped.
        box_scope: ``"volume"`` (the 3-D box on every slice) or ``"slice"`` (tight per slice).
        include_label: append a ``LABEL`` column.
        write_empty: write a header-only CSV for every slice with no annotation.
        orientation: reorient to this axis code first (``None``: as stored).
        strip_suffix: removed from the end of case names (``None`` or ``""``: kept).
        workers: number of cases processed at once.
        backend: ``"auto"``, ``"serial"``, ``"process"`` or ``"dask"``.
        dask_address: scheduler of an existing dask cluster (``backend="dask"``).
        resume: skip cases whose input and options are unchanged since written.
        progress: show a progress bar.
        max_voxels: refuse volumes whose header declares more voxels than this.
        pad_value: the value of the pixels added around an image slice for ``target_size``.
        normalization: ``None`` (image values as stored) or ``"min-max"`` (per volume, to
            0..1 float32).
        include_empty: training samples include slices without annotation.
        box_mode: training-sample boxes as the CSVs write them (``"csv"``: ``X_MIN, Y_MIN,
            X_MAX, Y_MAX``, inclusive) or as MONAI detection takes them (``"monai"``: array
            axis order ``row, col``, exclusive max).
        preview: draw this many slices with their boxes into ``<out>/preview/`` (0: none).
        preview_images: the annotation task's preview draws over these images (paired by
            case name) instead of over the masks.
        preview_masks: the slices task's preview draws the boxes of these masks (paired by
            case name) over the images.
    """

    view: str = "axial"
    saving_mode: str = "case"
    extraction_mode: str = "slice"
    data_mode: str = "center"
    target_size: tuple[int, int] | None = None
    save_stats: bool = False
    instances: str = "label"
    connectivity: int = 26
    min_voxels: int = 0
    min_volume_mm3: float = 0.0
    box_scope: str = "volume"
    include_label: bool = False
    write_empty: bool = False
    orientation: str | None = None
    strip_suffix: str | None = "_bbox"
    workers: int = 1
    backend: str = "auto"
    dask_address: str | None = None
    resume: bool = False
    progress: bool = True
    max_voxels: int = 2**31
    pad_value: float = 0.0
    normalization: str | None = None
    include_empty: bool = True
    box_mode: str = "csv"
    preview: int = 0
    preview_images: str | None = None
    preview_masks: str | None = None

    def __post_init__(self) -> None:
        check_choice("view", self.view, VIEWS)
        check_choice("saving_mode", self.saving_mode, SAVING_MODES)
        check_choice("extraction_mode", self.extraction_mode, EXTRACTION_MODES)
        check_choice("data_mode", self.data_mode, DATA_MODES)
        object.__setattr__(self, "target_size", normalize_target_size(self.target_size))
        check_choice("instances", self.instances, INSTANCE_MODES)
        check_choice("connectivity", self.connectivity, CONNECTIVITIES)
        _check_count("min_voxels", self.min_voxels, 0)
        if (
            not isinstance(self.min_volume_mm3, numbers.Real)
            or isinstance(self.min_volume_mm3, bool)
            or not self.min_volume_mm3 >= 0
        ):
            raise _fail("min_volume_mm3", self.min_volume_mm3, "use a number >= 0")
        check_choice("box_scope", self.box_scope, BOX_SCOPES)
        for flag in ("save_stats", "include_label", "write_empty", "resume", "progress"):
            _check_flag(flag, getattr(self, flag))
        object.__setattr__(self, "orientation", normalize_orientation(self.orientation))
        if self.strip_suffix is not None and not isinstance(self.strip_suffix, str):
            raise _fail("strip_suffix", self.strip_suffix, "use None or a string")
        _check_count("workers", self.workers, 1)
        check_choice("backend", self.backend, BACKENDS)
        if self.dask_address is not None and not isinstance(self.dask_address, str):
            raise _fail("dask_address", self.dask_address, "use None or an address string")
        _check_count("max_voxels", self.max_voxels, 1)
        if (
            not isinstance(self.pad_value, numbers.Real)
            or isinstance(self.pad_value, bool)
            or not math.isfinite(self.pad_value)
        ):
            raise _fail("pad_value", self.pad_value, "use a finite number")
        check_choice("normalization", self.normalization, NORMALIZATIONS)
        _check_flag("include_empty", self.include_empty)
        check_choice("box_mode", self.box_mode, BOX_MODES)
        _check_count("preview", self.preview, 0)
        for name in ("preview_images", "preview_masks"):
            folder = getattr(self, name)
            if folder is None:
                continue
            if not isinstance(folder, (str, os.PathLike)):
                raise _fail(name, folder, "use None or a folder path")
            if self.preview == 0:
                raise _fail(name, folder, "it is drawn only with preview=N, N > 0")
            object.__setattr__(self, name, os.fspath(folder))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ExtractOptions:
        """Build options from a mapping, refusing keys that are not options.

        Args:
            values: option names to values, e.g. the keyword arguments of an API call.
        """
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown option {unknown[0]!r}; the options are {_choices(sorted(known))}"
            )
        return cls(**values)
