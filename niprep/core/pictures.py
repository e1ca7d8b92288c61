"""An image volume's slices as the pictures the CSV boxes refer to: viewed and padded.

An image volume is read like a mask (:class:`~niprep.core.transforms.LoadNiftid`,
:class:`~niprep.core.transforms.Orientd`, :class:`~niprep.core.transforms.SliceViewd`),
kept in its stored dtype, and each slice is placed at the padding offset the CSV writer
uses (:func:`~niprep.core.transforms.padding_offset`), so a CSV row lands on the right
pixels by construction.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from niprep.core.pipeline import apply_chain, view_transforms
from niprep.core.transforms import padding_offset
from niprep.core.window import Window, WindowSpec
from niprep.options import Settings

IMAGE_KEY = "image"


def load_view(path: str | os.PathLike, options: Settings) -> np.ndarray:
    """An image volume with axes ``(slice, row, col)`` for the options' view, as stored.

    Args:
        path: the NIfTI file.
        options: the validated options (``view``, ``orientation``, ``max_voxels``).
    """
    return apply_chain(view_transforms(IMAGE_KEY, options), {IMAGE_KEY: path})[IMAGE_KEY]


class SlicePictures:
    """The slices of one ``(slice, row, col)`` image volume, padded and optionally rescaled.

    Each picture is ``target_size`` (or the slice size), filled with ``pad_value``, with the
    slice placed at :func:`~niprep.core.transforms.padding_offset`. With
    ``normalization="min-max"`` the voxels are mapped from the volume's ``[min, max]`` to
    ``[0, 1]`` in float32 (a constant volume gives 0); with a ``window`` they become grey
    levels 0..255 (:mod:`niprep.core.window`), uint8 unless ``dtype`` says otherwise.
    ``pad_value`` is in the pictures' units. The volume itself is never converted: each
    slice is, when it is asked for.

    Args:
        volume: the image volume, axes ``(slice, row, col)`` (any strides, any dtype).
        target_size: ``(H, W)`` of the pictures, or ``None`` for the slice size.
        pad_value: the value of the added pixels.
        normalization: ``None`` or ``"min-max"``.
        dtype: the dtype of the pictures; ``None`` keeps the stored dtype (float32 when
            normalized, uint8 when windowed).
        window: ``None`` or a checked window (:func:`~niprep.core.window.check_window`).
        value_range: the volume's ``(min, max)`` when known, so that ``"min-max"`` does not
            read a memory-mapped volume whole.

    Raises:
        ValueError: ``target_size`` is smaller than a slice, ``pad_value`` cannot be held
            by the pictures' dtype, or both ``normalization`` and ``window`` are given.
    """

    def __init__(
        self,
        volume: np.ndarray,
        target_size: tuple[int, int] | None = None,
        pad_value: float = 0.0,
        normalization: str | None = None,
        dtype: Any = None,
        window: WindowSpec = None,
        value_range: tuple[float, float] | None = None,
    ) -> None:
        if normalization is not None and window is not None:
            raise ValueError(
                f"normalization={normalization!r} and window={window!r} both rescale the "
                "image; use one of them"
            )
        self.volume = volume
        height, width = volume.shape[1:]
        self.offset = padding_offset((height, width), target_size)
        self.size = target_size or (height, width)
        self.scale: tuple[float, float] | None = None
        if normalization == "min-max":
            if value_range is None:
                value_range = (volume.min(), volume.max()) if volume.size else (0, 0)
            low, high = float(value_range[0]), float(value_range[1])
            self.scale = (low, 1.0 / (high - low) if high > low else 0.0)
        self.window = None if window is None else Window.of(window, volume)
        default = np.float32 if normalization else np.uint8 if window else volume.dtype
        self.dtype = np.dtype(default if dtype is None else dtype)
        if normalization and self.dtype.kind != "f":
            raise ValueError(f"normalized pictures need a float dtype, not {self.dtype}")
        with np.errstate(invalid="ignore", over="ignore"):
            self.pad_value = np.array(pad_value).astype(self.dtype)
        if self.dtype.kind == "f":
            held = bool(np.isfinite(self.pad_value))
        else:
            held = self.pad_value.item() == pad_value
        if not held:
            raise ValueError(
                f"pad_value={pad_value!r} cannot be held by the {self.dtype} pixels of this "
                f"image; use a value of that type or normalization='min-max'"
            )

    def __len__(self) -> int:
        return self.volume.shape[0]

    def __call__(self, index: int) -> np.ndarray:
        """The picture of slice ``index``, shape ``(H, W)``, laid out in memory like the
        volume's slices (Fortran order for an axial slice of a NIfTI volume): copying a
        slice into the other order costs three times as much."""
        rows_outer = abs(self.volume.strides[1]) >= abs(self.volume.strides[2])
        picture = np.full(self.size, self.pad_value, dtype=self.dtype,
                          order="C" if rows_outer else "F")
        self._place(index, picture)
        return picture

    def _place(self, index: int, picture: np.ndarray) -> None:
        """Write slice ``index`` into ``picture``, already filled with ``pad_value``."""
        row, col = self.offset
        height, width = self.volume.shape[1:]
        inside = picture[row : row + height, col : col + width]
        if self.window is not None:
            inside[...] = self.window(self.volume[index])
        else:
            inside[...] = self.volume[index]
        if self.scale is not None:
            low, factor = self.scale
            inside -= np.float32(low)
            inside *= np.float32(factor)

    def stack(self, index: int, channels: int = 1) -> np.ndarray:
        """The pictures of slice ``index`` and its neighbours, shape ``(channels, H, W)``.

        ``channels=3`` gives the previous, this and the next slice (2.5-D input), an edge
        slice repeating itself where a neighbour is missing; ``channels=1`` this slice.

        Args:
            index: the slice.
            channels: 1 or 3.
        """
        if channels == 1:
            # not picture[None]: its stride 0 sends torch.stack down a path 5x slower
            return np.expand_dims(self(index), 0)
        last = len(self) - 1
        pictures = np.full((channels, *self.size), self.pad_value, dtype=self.dtype)
        for channel, step in enumerate((-1, 0, 1)):
            self._place(min(max(index + step, 0), last), pictures[channel])
        return pictures
