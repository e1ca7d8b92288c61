"""A case's decoded parts for training items: its image pictures and its label's boxes.

With a :class:`~niprep.training.store.VolumeStore`, the image volume is decoded once into
the store, in the view's slice-contiguous layout (``(slices, rows, cols)``, C order), and
read back through a memory map: as stored, with its value range beside it, or already
windowed to uint8 grey levels when a ``window`` is asked for (the same
:class:`~niprep.core.window.Window` as the export, computed once per volume). The label's
boxes (:class:`~niprep.core.annotations.SliceRows`) are kept there too. Without a store,
each call decodes the files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from niprep.core.annotations import SliceRows
from niprep.core.pictures import SlicePictures, load_view
from niprep.core.pipeline import annotate
from niprep.core.window import Window, WindowSpec
from niprep.options import Settings
from niprep.options.groups import ANNOTATION
from niprep.training.store import VolumeStore

VOLUME_FILE = "volume.npy"
RANGE_FILE = "range.json"
ROWS_FILE = "rows.npz"
T = TypeVar("T")
#: the options that change a decoded image volume's bytes (and ``window``)
VOLUME_SHAPED_BY = ("view", "orientation")
#: the options that change a label's boxes: those and every annotation option
ROWS_SHAPED_BY = (*VOLUME_SHAPED_BY, "target_size",
                  *(option.name for option in ANNOTATION.options))


def no_rows() -> SliceRows:
    """The boxes of a case without a label: none."""
    corners = np.empty((0, 2), dtype=np.int64)
    index = np.empty(0, dtype=np.int64)
    return SliceRows(index, index, corners, corners, np.empty(0, dtype=np.int64))


def _fill_volume(window: WindowSpec, source: Path, options: Settings, folder: Path) -> None:
    volume = load_view(source, options)
    grey = None if window is None else Window.of(window, volume)
    stored = np.lib.format.open_memmap(folder / VOLUME_FILE, mode="w+", shape=volume.shape,
                                       dtype=volume.dtype if grey is None else np.uint8)
    for index in range(len(volume)):  # slice by slice: a window works in float64
        stored[index] = volume[index] if grey is None else grey(volume[index])
    stored.flush()
    low, high = (stored.min(), stored.max()) if stored.size else (0, 0)
    del stored
    (folder / RANGE_FILE).write_text(json.dumps({"min": float(low), "max": float(high)}))


def _read_volume(entry: Path) -> tuple[np.ndarray, tuple[float, float]]:
    volume = np.load(entry / VOLUME_FILE, mmap_mode="r")
    value_range = json.loads((entry / RANGE_FILE).read_text())
    return volume, (value_range["min"], value_range["max"])


def _fill_rows(source: Path, options: Settings, folder: Path) -> None:
    rows = annotate(source, options).slice_rows()
    np.savez(folder / ROWS_FILE, slices=rows.slices, boxes=rows.boxes, lo=rows.lo, hi=rows.hi,
             values=rows.values)


def _read_rows(entry: Path) -> SliceRows:
    with np.load(entry / ROWS_FILE) as stored:
        return SliceRows(**{name: stored[name] for name in stored.files})


class CaseReader:
    """Reads the image pictures and label boxes of cases, through a store when given.

    Args:
        options: the validated annotation and view options.
        store: the decoded-volume store, or ``None`` to decode on every call.
    """

    def __init__(self, options: Settings, store: VolumeStore | None) -> None:
        self.options = options
        self.store = store

    def _read(
        self,
        source: Path,
        kind: str,
        shaped_by: dict[str, Any],
        fill: Callable[[Path, Settings, Path], None],
        read: Callable[[Path], T],
    ) -> T:
        """What ``read`` gets from an entry of the store, filled first if missing."""
        assert self.store is not None

        def filled() -> Path:
            return self.store.entry(source, kind, shaped_by,
                                    lambda folder: fill(source, self.options, folder))

        try:
            return read(filled())
        except FileNotFoundError:  # removed between finding and opening it: fill again
            return read(filled())

    def _shaped_by(self, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: getattr(self.options, name) for name in names}

    def pictures(
        self,
        image: Path,
        dtype: Any,
        window: WindowSpec,
    ) -> SlicePictures:
        """The padded pictures of an image volume (:class:`~niprep.core.pictures.SlicePictures`).

        Args:
            image: the image file.
            dtype: the pictures' dtype.
            window: a checked window, or ``None``.
        """
        options = self.options
        if self.store is None:
            return SlicePictures(load_view(image, options), options.target_size,
                                 options.pad_value, options.normalization, dtype=dtype,
                                 window=window)
        shaped_by = {**self._shaped_by(VOLUME_SHAPED_BY), "window": window}
        volume, value_range = self._read(image, "volume", shaped_by,
                                         partial(_fill_volume, window), _read_volume)
        return SlicePictures(volume, options.target_size, options.pad_value,
                             options.normalization, dtype=dtype, value_range=value_range)

    def rows(self, label: Path | None) -> SliceRows:
        """The CSV rows of a label volume's slices (none without a label).

        Args:
            label: the label file, or ``None``.
        """
        if label is None:
            return no_rows()
        if self.store is None:
            return annotate(label, self.options).slice_rows()
        return self._read(label, "rows", self._shaped_by(ROWS_SHAPED_BY), _fill_rows,
                          _read_rows)
