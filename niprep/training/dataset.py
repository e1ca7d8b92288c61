"""Training samples on the fly: image slices with the boxes the CSVs hold.

What an item holds is described in docs/reference.md, Training samples.

An item is built from the same transforms as the CSV pipeline: the boxes are the mask's
``Annotations.slice_rows()``, the rows the CSV writer writes for that slice, and the image
is the slice placed at the same padding offset (:mod:`niprep.tasks.slices`).
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from niprep.core.annotations import SliceRows
from niprep.core.nifti_read import read_header
from niprep.core.pictures import SlicePictures, load_view
from niprep.core.pipeline import annotate
from niprep.core.transforms import Orient, SliceView, padding_offset
from niprep.options import SLICE_SAMPLES, Settings
from niprep.run.inputs import Case, case_for, find_cases


@dataclass(frozen=True)
class CasePair:
    """An image volume and the label volume annotating it.

    Args:
        name: the case name (file name without extension and ``strip_suffix``).
        image: the image file.
        label: the label file, or ``None`` for an image without annotations.
    """

    name: str
    image: Path
    label: Path | None


class CacheInfo(NamedTuple):
    """How the volume cache of one process went: look-ups served, volumes decoded."""

    hits: int
    misses: int
    size: int
    capacity: int


def pair_cases(images: Sequence[Case], labels: Sequence[Case]) -> list[CasePair]:
    """Pair image and label files by case name; warn once about the files left out.

    Args:
        images: the image cases, as :func:`~niprep.run.inputs.find_cases` gives them.
        labels: the label cases.

    Raises:
        ValueError: no image has a label.
    """
    by_name = {case.name: case for case in labels if case.name is not None}
    pairs = [
        CasePair(case.name, case.path, by_name[case.name].path)
        for case in images
        if case.name in by_name
    ]
    paired = {pair.name for pair in pairs}
    left_out = [f"image {case.filename!r}" for case in images if case.name not in paired] + [
        f"label {case.filename!r}" for case in labels if case.name not in paired
    ]
    if not pairs:
        raise ValueError(
            "no image has a label of the same case name (after strip_suffix); "
            f"left out: {', '.join(left_out[:6])}"
        )
    if left_out:
        shown = ", ".join(left_out[:6]) + (", ..." if len(left_out) > 6 else "")
        warnings.warn(
            f"left out {len(left_out)} file(s) with no partner of the same case name: {shown}",
            stacklevel=3,
        )
    return pairs


def viewed_shape(path: str | os.PathLike, options: Settings) -> tuple[int, int, int]:
    """The ``(slices, rows, cols)`` a volume has in the options' view, from its header alone.

    The header's shape goes through the same :class:`~niprep.core.transforms.Orient` and
    :class:`~niprep.core.transforms.SliceView` as the voxels would, on a zero-byte stand-in.

    Args:
        path: the NIfTI file.
        options: the validated options (``view``, ``orientation``, ``max_voxels``).

    Raises:
        ValueError: the file is not a 3-D NIfTI volume niprep can read; the message is
            the one a run's failures file gives.
    """
    header = read_header(path, options.max_voxels)
    stand_in = np.broadcast_to(np.zeros((), dtype=np.uint8), header.shape)
    oriented, _ = Orient(options.orientation)(stand_in, header.affine)
    return SliceView(options.view)(oriented).shape


def _settings(view: str, target_size: Any, options: dict[str, Any]) -> Settings:
    return SLICE_SAMPLES.settings(dict(view=view, target_size=target_size, **options))


def _no_rows() -> SliceRows:
    corners = np.empty((0, 2), dtype=np.int64)
    index = np.empty(0, dtype=np.int64)
    return SliceRows(index, index, corners, corners, np.empty(0, dtype=np.int64))


@contextmanager
def _naming(pair: CasePair) -> Iterator[None]:
    """Raise any error met reading ``pair`` as a ``ValueError`` naming the case and its
    files: a dataset is many files."""
    try:
        yield
    except Exception as error:
        files = pair.image.name + (f" / {pair.label.name}" if pair.label else "")
        raise ValueError(f"case {pair.name!r} ({files}): {error}") from error


@dataclass(frozen=True)
class _LoadedCase:
    pictures: SlicePictures
    rows: SliceRows


class AnnotatedSliceDataset(Dataset):
    """One training item per slice of every image volume that has a label volume.

    Images and labels are paired by case name (after ``strip_suffix``); files without a
    partner are reported once, in a warning. Every volume's header is read on
    construction, so shape mismatches and slices larger than ``target_size`` fail here,
    naming the file. An item is a dict:

    * ``image``: float32 ``[1, H, W]``, the slice padded to ``target_size`` with
      ``pad_value`` at the padding offset (see docs/reference.md, Padding offset),
      ``normalization="min-max"`` mapping the volume's range to 0..1 (``pad_value`` is
      then in those units); its memory follows the volume's (an axial slice of a NIfTI
      volume is a transposed, Fortran-ordered tensor, which ``collate_slices`` stacks into
      a contiguous batch);
    * ``box``: float32 ``[N, 4]``, the ``X_MIN, Y_MIN, X_MAX, Y_MAX`` rows
      ``extract_annotations`` writes for the slice (``[0, 4]`` when none); with
      ``box_mode="monai"`` the same boxes as MONAI detection takes them: ``row_min,
      col_min, row_max + 1, col_max + 1`` (array axis order, exclusive max);
    * ``label``: int64 ``[N]``, the voxel value of each box (cast to an integer);
    * ``case``: the case name; ``slice``: the slice index.

    Each process keeps the last ``cache_size`` cases it read, so iterating the slices of a
    case decodes its volumes once per ``DataLoader`` worker, not once per slice. Batch
    with :func:`collate_slices`.

    Args:
        image_dir: folder of image volumes (``.nii.gz`` / ``.nii``).
        label_dir: folder of label volumes.
        view: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
        target_size: ``(H, W)`` the slices are padded to, or ``None``.
        cache_size: cases kept decoded per process.
        options: ``pad_value`` (0.0), ``normalization`` (``None`` or ``"min-max"``),
            ``include_empty`` (``True``: also slices without a box; ``False`` reads every
            label on construction to find the slices with one), ``box_mode`` (``"csv"`` or
            ``"monai"``) and the annotation and input options (``instances``,
            ``connectivity``, ``min_voxels``, ``min_volume_mm3``, ``box_scope``,
            ``orientation``, ``strip_suffix``, ``max_voxels``).

    Raises:
        ValueError: an option is not valid, no image has a label, or a volume cannot be
            used (the message names it).
        FileNotFoundError: a folder is missing or holds no NIfTI file.
    """

    def __init__(
        self,
        image_dir: str | os.PathLike,
        label_dir: str | os.PathLike,
        view: str = "axial",
        target_size: tuple[int, int] | None = None,
        *,
        cache_size: int = 2,
        **options: Any,
    ) -> None:
        settings = _settings(view, target_size, options)
        pairs = pair_cases(
            find_cases(image_dir, settings.strip_suffix),
            find_cases(label_dir, settings.strip_suffix),
        )
        self._prepare(pairs, settings, cache_size)

    @classmethod
    def from_pairs(
        cls,
        pairs: Sequence[tuple[str | os.PathLike, str | os.PathLike | None]],
        view: str = "axial",
        target_size: tuple[int, int] | None = None,
        *,
        cache_size: int = 2,
        **options: Any,
    ) -> AnnotatedSliceDataset:
        """A dataset of explicit ``(image, label)`` file pairs, in the order given.

        The case name comes from the image file. A label of ``None`` gives items without
        boxes; the mask itself as the image (``(mask, mask)``) shows the boxes over it.

        Args:
            pairs: ``(image path, label path or None)`` of each case.
            view: as the constructor.
            target_size: as the constructor.
            cache_size: as the constructor.
            options: as the constructor.
        """
        settings = _settings(view, target_size, options)
        cases = []
        for image, label in pairs:
            case = case_for(image, settings.strip_suffix)
            if case.name is None:
                raise ValueError(f"{case.filename}: {case.problem}")
            cases.append(CasePair(case.name, Path(image), None if label is None else Path(label)))
        dataset = cls.__new__(cls)
        dataset._prepare(cases, settings, cache_size)
        return dataset

    def _prepare(self, pairs: list[CasePair], options: Settings, cache_size: int) -> None:
        if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 1:
            raise ValueError(f"cache_size={cache_size!r} is not valid; use a whole number >= 1")
        self.pairs = tuple(pairs)
        self.options = options
        self.cache_size = cache_size
        self._rows: list[SliceRows] | None = None if options.include_empty else []
        cases, slices = [], []
        for number, pair in enumerate(self.pairs):
            with _naming(pair):
                present = self._inspect(pair)
            cases.append(np.full(len(present), number, dtype=np.int64))
            slices.append(np.asarray(present, dtype=np.int64))
        self._cases = np.concatenate(cases) if cases else np.empty(0, dtype=np.int64)
        self._slices = np.concatenate(slices) if slices else np.empty(0, dtype=np.int64)
        self._cache: OrderedDict[int, _LoadedCase] = OrderedDict()
        self._hits = self._misses = 0

    def _inspect(self, pair: CasePair) -> Sequence[int]:
        """Check a pair from the headers; return the slices it contributes."""
        shape = viewed_shape(pair.image, self.options)
        padding_offset(shape[1:], self.options.target_size)
        if pair.label is not None:
            label_shape = viewed_shape(pair.label, self.options)
            if label_shape != shape:
                raise ValueError(
                    f"image and label differ in (slices, rows, cols) in the "
                    f"{self.options.view} view: {shape} and {label_shape}"
                )
        if self._rows is None:
            return range(shape[0])
        rows = self._annotate(pair)
        self._rows.append(rows)
        return np.unique(rows.slices)

    def _annotate(self, pair: CasePair) -> SliceRows:
        if pair.label is None:
            return _no_rows()
        return annotate(pair.label, self.options).slice_rows()

    def __len__(self) -> int:
        return len(self._slices)

    @property
    def item_cases(self) -> np.ndarray:
        """The case number (index into ``pairs``) of every item, in item order."""
        return self._cases

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = range(len(self))[index]
        number, s = int(self._cases[index]), int(self._slices[index])
        loaded = self._load(number)
        lo, hi, values = loaded.rows.on_slice(s)
        if self.options.box_mode == "monai":
            box = np.concatenate([lo, hi + 1], axis=1)
        else:
            box = np.concatenate([lo[:, ::-1], hi[:, ::-1]], axis=1)
        return {
            "image": torch.from_numpy(loaded.pictures(s)[None]),
            "box": torch.from_numpy(box.astype(np.float32)),
            "label": torch.from_numpy(values.astype(np.int64)),
            "case": self.pairs[number].name,
            "slice": s,
        }

    def _load(self, number: int) -> _LoadedCase:
        loaded = self._cache.get(number)
        if loaded is not None:
            self._hits += 1
            self._cache.move_to_end(number)
            return loaded
        self._misses += 1
        pair, options = self.pairs[number], self.options
        with _naming(pair):
            pictures = SlicePictures(
                load_view(pair.image, options),
                options.target_size,
                options.pad_value,
                options.normalization,
                dtype=np.float32,
            )
            rows = self._annotate(pair) if self._rows is None else self._rows[number]
        loaded = self._cache[number] = _LoadedCase(pictures, rows)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return loaded

    def cache_info(self) -> CacheInfo:
        """How this process's volume cache went so far."""
        return CacheInfo(self._hits, self._misses, len(self._cache), self.cache_size)

    def __getstate__(self) -> dict[str, Any]:
        # a worker started by pickling gets the index, not the decoded volumes
        state = dict(self.__dict__)
        state["_cache"] = OrderedDict()
        return state


def collate_slices(batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Batch items of :class:`AnnotatedSliceDataset` whose box counts differ.

    Returns ``image`` stacked ``[B, 1, H, W]``, ``slice`` an int64 ``[B]`` tensor, and
    ``box``, ``label`` and ``case`` as lists of the items' values.

    Args:
        batch: the items.

    Raises:
        ValueError: the images differ in size (give the dataset a ``target_size``).
    """
    sizes = sorted({tuple(item["image"].shape) for item in batch})
    if len(sizes) > 1:
        raise ValueError(
            f"images of sizes {sizes} cannot be stacked; give the dataset a target_size"
        )
    return {
        "image": torch.stack([item["image"] for item in batch]),
        "box": [item["box"] for item in batch],
        "label": [item["label"] for item in batch],
        "case": [item["case"] for item in batch],
        "slice": torch.tensor([item["slice"] for item in batch], dtype=torch.int64),
    }
