"""Training samples on the fly: image slices with the boxes the CSVs hold.

What an item holds is described in docs/reference.md, Training samples; how to train with
it fast, in the README's training section.

An item is built from the same transforms as the CSV pipeline: the boxes are the mask's
``Annotations.slice_rows()``, the rows the CSV writer writes for that slice, in the box
format the model takes, and the image is the slice placed at the same padding offset
(:mod:`niprep.tasks.slices`), windowed as the export windows it.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from niprep.core.annotations import SliceRows
from niprep.core.boxes import convert_boxes
from niprep.core.classes import ClassMap, format_label
from niprep.core.nifti_read import NiftiHeader, read_header
from niprep.core.pictures import SlicePictures
from niprep.core.transforms import Orient, SliceView, padding_offset
from niprep.options import SLICE_SAMPLES, Settings, checks
from niprep.run.inputs import CasePair, case_for, find_cases, pair_cases
from niprep.training.case_data import CaseReader
from niprep.training.store import StoreInfo, VolumeStore, store_folder

#: cases a process keeps open with a store (an open memory map holds no decoded copy)
STORE_CACHE_SIZE = 64


class CacheInfo(NamedTuple):
    """How the volume cache of one process went: look-ups served, volumes decoded."""

    hits: int
    misses: int
    size: int
    capacity: int


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
    return _view_of(read_header(path, options.max_voxels), options)


def _view_of(header: NiftiHeader, options: Settings) -> tuple[int, int, int]:
    stand_in = np.broadcast_to(np.zeros((), dtype=np.uint8), header.shape)
    oriented, _ = Orient(options.orientation)(stand_in, header.affine)
    return SliceView(options.view)(oriented).shape


def _settings(view: str, target_size: Any, options: dict[str, Any]) -> Settings:
    settings = SLICE_SAMPLES.settings(dict(view=view, target_size=target_size, **options))
    if settings.normalization is not None and settings.window is not None:
        raise ValueError(
            f"normalization={settings.normalization!r} and window={settings.window!r} both "
            "rescale the image; use one of them"
        )
    return settings


@contextmanager
def _naming(pair: CasePair) -> Iterator[None]:
    """Raise any error met reading ``pair`` as a ``ValueError`` naming the case and its
    files: a dataset is many files."""
    try:
        yield
    except Exception as error:
        files = pair.image.name + (f" / {pair.label.name}" if pair.label else "")
        raise ValueError(f"case {pair.name!r} ({files}): {error}") from error


def _box_format(options: Settings) -> str:
    """``box_format``, or ``box_mode`` (its older name) when it is not given."""
    if options.box_format is None:
        return options.box_mode
    if options.box_mode not in ("csv", options.box_format):
        raise ValueError(
            f"box_mode={options.box_mode!r} and box_format={options.box_format!r} disagree; "
            "give box_format alone"
        )
    return options.box_format


class AnnotatedSliceDataset(Dataset):
    """One training item per slice of every image volume that has a label volume.

    Images and labels are paired by case name (after ``strip_suffix``); files without a
    partner are reported once, in a warning. Every volume's header is read on
    construction, so shape mismatches and slices larger than ``target_size`` fail here,
    naming the file. An item is a dict:

    * ``image``: ``[C, H, W]`` (``C`` is ``channels``), the slice padded to ``target_size``
      with ``pad_value`` at the padding offset (see docs/reference.md, Padding offset);
      float32 values as stored, or 0..1 with ``normalization="min-max"`` (the volume's
      range) or a ``window`` (grey level / 255, as the exported pictures read as float);
      uint8 grey levels with ``image_dtype="uint8"``. ``pad_value`` is in the pictures'
      units (a grey level with a window);
    * ``box``: float32 ``[N, 4]``, the boxes of the slice in ``box_format``
      (:mod:`niprep.core.boxes`): ``"csv"`` gives the ``X_MIN, Y_MIN, X_MAX, Y_MAX`` rows
      ``extract_annotations`` writes; ``[0, 4]`` when none;
    * ``label``: int64 ``[N]``: with ``classes``, each box's class id (from
      ``label_offset``; boxes of values not listed are left out); without, the mask value,
      which must be a whole number;
    * ``case``: the case name; ``slice``: the slice index.

    By default each image volume is decoded once into a store on disk shared by all
    processes and runs (``store``, :mod:`niprep.training.store`), and items are read from
    it, so any order is fast. Each process also keeps the last ``cache_size`` cases it
    opened. Batch with :func:`~niprep.training.collate_slices` or, for detection models,
    :func:`~niprep.training.collate_detection`.

    Args:
        image_dir: folder of image volumes (``.nii.gz`` / ``.nii``).
        label_dir: folder of label volumes.
        view: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
        target_size: ``(H, W)`` the slices are padded to, or ``None``.
        cache_size: cases kept open per process; ``None``: 2 without a store (each holds
            its decoded volume), 64 with one.
        options: ``pad_value`` (0.0), ``normalization`` (``None`` or ``"min-max"``),
            ``include_empty`` (``True``: also slices without a box; ``False`` reads every
            label on construction to find the slices with one), ``box_mode`` (``"csv"`` or
            ``"monai"``, the older name of ``box_format``), ``box_format``, ``classes``,
            ``label_offset``, ``window``, ``channels``, ``image_dtype``, ``store``,
            ``store_limit`` (see the README's training section), and the annotation and
            input options (``instances``, ``connectivity``, ``min_voxels``,
            ``min_volume_mm3``, ``box_scope``, ``orientation``, ``strip_suffix``,
            ``max_voxels``).

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
        cache_size: int | None = None,
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
        cache_size: int | None = None,
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

    def _prepare(self, pairs: list[CasePair], options: Settings, cache_size: int | None) -> None:
        folder = store_folder(options.store)
        store = None if folder is None else VolumeStore(folder, options.store_limit)
        if cache_size is None:
            cache_size = 2 if store is None else STORE_CACHE_SIZE
        cache_size = checks.count(1)("cache_size", cache_size)
        self.pairs = tuple(pairs)
        self.options = options
        self.box_format = _box_format(options)
        self.cache_size = cache_size
        self._reader = CaseReader(options, store)
        self._class_map = (
            None if options.classes is None
            else ClassMap.build((), options.classes, options.label_offset)
        )
        self._rows: dict[int, SliceRows] = {}
        cases, slices, stored = [], [], 0
        for number, pair in enumerate(self.pairs):
            with _naming(pair):
                shape, itemsize = self._inspect(pair)
            stored += int(np.prod(shape)) * (1 if options.window else itemsize)
            if self.options.include_empty:
                present = range(shape[0])
            else:
                present = np.unique(self._case_rows(number).slices)
            cases.append(np.full(len(present), number, dtype=np.int64))
            slices.append(np.asarray(present, dtype=np.int64))
        self._cases = np.concatenate(cases) if cases else np.empty(0, dtype=np.int64)
        self._slices = np.concatenate(slices) if slices else np.empty(0, dtype=np.int64)
        self._cache: OrderedDict[int, SlicePictures] = OrderedDict()
        self._hits = self._misses = 0
        if store is not None and stored > store.limit:
            warnings.warn(
                f"the decoded image volumes take at least {stored / 2**30:.1f} GiB, more than "
                f"store_limit={store.limit} ({store.limit / 2**30:.1f} GiB): a random order "
                "would decode them again and again; raise store_limit, or use store=None "
                "with CaseGroupedBatchSampler",
                stacklevel=3,
            )

    def _inspect(self, pair: CasePair) -> tuple[tuple[int, int, int], int]:
        """Check a pair from the headers; return its ``(slices, rows, cols)`` and the bytes
        of an image voxel as stored."""
        header = read_header(pair.image, self.options.max_voxels)
        shape = _view_of(header, self.options)
        padding_offset(shape[1:], self.options.target_size)
        if pair.label is not None:
            label_shape = viewed_shape(pair.label, self.options)
            if label_shape != shape:
                raise ValueError(
                    f"image and label differ in (slices, rows, cols) in the "
                    f"{self.options.view} view: {shape} and {label_shape}"
                )
        return shape, header.dtype.itemsize

    def _case_rows(self, number: int) -> SliceRows:
        """The boxes of a case with their labels as class ids, kept once computed."""
        rows = self._rows.get(number)
        if rows is None:
            with _naming(self.pairs[number]):
                rows = self._classify(self._reader.rows(self.pairs[number].label))
            self._rows[number] = rows
        return rows

    def _classify(self, rows: SliceRows) -> SliceRows:
        """``rows`` with class ids as values, without the rows of values not mapped."""
        if self._class_map is None:
            whole = np.equal(np.mod(rows.values, 1), 0)
            if not whole.all():
                value = format_label(rows.values[~whole][0])
                raise ValueError(
                    f"mask value {value} is not a whole number "
                    f"and would lose its class as a label; give classes={{{value}: 'name', "
                    "...}} to name the classes of the values"
                )
            return SliceRows(rows.slices, rows.boxes, rows.lo, rows.hi,
                             rows.values.astype(np.int64))
        ids, kept = self._class_map.lookup(rows.values)
        labels = np.zeros(len(rows.values), dtype=np.int64)
        labels[kept] = ids
        shown = kept[rows.boxes]
        return SliceRows(rows.slices[shown], rows.boxes[shown], rows.lo, rows.hi, labels)

    def __len__(self) -> int:
        return len(self._slices)

    @property
    def item_cases(self) -> np.ndarray:
        """The case number (index into ``pairs``) of every item, in item order."""
        return self._cases

    @property
    def class_names(self) -> dict[int, str] | None:
        """``{class id: name}`` with ``classes``, else ``None`` (labels are mask values)."""
        return None if self._class_map is None else self._class_map.id_names()

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = range(len(self))[index]
        number, s = int(self._cases[index]), int(self._slices[index])
        pictures = self._pictures(number)
        lo, hi, labels = self._case_rows(number).on_slice(s)
        image = pictures.stack(s, self.options.channels)
        if self.options.window is not None and image.dtype.kind == "f":
            image /= np.float32(255)
        box = convert_boxes(lo, hi, self.box_format, pictures.size)
        return {
            "image": torch.from_numpy(image),
            "box": torch.from_numpy(box.astype(np.float32)),
            "label": torch.from_numpy(labels),
            "case": self.pairs[number].name,
            "slice": s,
        }

    def _pictures(self, number: int) -> SlicePictures:
        pictures = self._cache.get(number)
        if pictures is not None:
            self._hits += 1
            self._cache.move_to_end(number)
            return pictures
        self._misses += 1
        with _naming(self.pairs[number]):
            pictures = self._reader.pictures(self.pairs[number].image,
                                             np.dtype(self.options.image_dtype),
                                             self.options.window)
        self._cache[number] = pictures
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return pictures

    def cache_info(self) -> CacheInfo:
        """How this process's cache of open cases went so far."""
        return CacheInfo(self._hits, self._misses, len(self._cache), self.cache_size)

    def store_info(self) -> StoreInfo | None:
        """The decoded-volume store's folder, entries and bytes; ``None`` without a store."""
        store = self._reader.store
        return None if store is None else store.info()

    def __getstate__(self) -> dict[str, Any]:
        # a worker started by pickling gets the index and the boxes, not the volumes
        state = dict(self.__dict__)
        state["_cache"] = OrderedDict()
        return state
