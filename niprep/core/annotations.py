"""The table of annotations of one case, in the frame of a view."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class SliceRows:
    """The rows of the per-slice CSVs of one case, each showing one of a table of boxes.

    A 3-D box projected on every slice it spans (``box_scope="volume"``) is one box shown
    by many rows, so each distinct box is stored once.

    Args:
        slices: ``(M,)`` the slice index of each row, ascending; the rows of one slice are
            in annotation order, as the CSVs list them.
        boxes: ``(M,)`` the box each row shows: an index into ``lo``, ``hi`` and ``values``.
        lo: ``(K, 2)`` inclusive smallest ``(row, col)`` of each box.
        hi: ``(K, 2)`` inclusive largest ``(row, col)`` of each box.
        values: ``(K,)`` the voxel value of each box's annotation.
    """

    slices: np.ndarray
    boxes: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    values: np.ndarray

    def on_slice(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(lo, hi, values)`` of the rows of slice ``index``, empty when it has none."""
        start, stop = np.searchsorted(self.slices, [index, index + 1])
        shown = self.boxes[start:stop]
        return self.lo[shown], self.hi[shown], self.values[shown]


@dataclass(frozen=True)
class Annotations:
    """Every annotation of one volume, as boxes in the view frame ``(slice, row, col)``.

    Rows are in the order the CSVs list them: ascending value, then (components) by first voxel.

    Args:
        values: ``(N,)`` the voxel value of each annotation.
        lo: ``(N, 3)`` inclusive smallest ``(slice, row, col)`` index of each annotation.
        hi: ``(N, 3)`` inclusive largest ``(slice, row, col)`` index.
        voxels: ``(N,)`` voxel count of each annotation.
        num_slices: number of slices along the view.
        slice_shape: ``(rows, cols)`` of one slice, before any padding.
        slice_lo: ``(num_slices, N, 2)`` tight ``(row, col)`` minimum of each annotation on
            each slice (``-1`` where it has no voxel), or ``None`` when per-slice boxes were
            not computed.
        slice_hi: like ``slice_lo``, the maxima.
    """

    values: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    voxels: np.ndarray
    num_slices: int
    slice_shape: tuple[int, int]
    slice_lo: np.ndarray | None = None
    slice_hi: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)

    @property
    def slice_present(self) -> np.ndarray | None:
        """``(num_slices, N)`` whether each annotation has voxels on each slice."""
        return None if self.slice_lo is None else self.slice_lo[..., 0] >= 0

    def take(self, order: np.ndarray) -> Annotations:
        """Return the annotations picked and ordered by the index array ``order``."""
        per_slice = {}
        if self.slice_lo is not None:
            per_slice = {
                "slice_lo": self.slice_lo[:, order],
                "slice_hi": self.slice_hi[:, order],
            }
        return replace(
            self,
            values=self.values[order],
            lo=self.lo[order],
            hi=self.hi[order],
            voxels=self.voxels[order],
            **per_slice,
        )

    def slice_rows(self) -> SliceRows:
        """Every row of the per-slice CSVs (``extraction_mode="slice"``).

        See docs/reference.md, Annotation CSVs.

        Without per-slice boxes, each annotation's 3-D box is projected on every slice from
        its smallest to its largest slice index (``box_scope="volume"``); with them, each
        row is the tight box of the annotation on a slice where it has voxels.
        """
        if self.slice_lo is None:
            spans = self.hi[:, 0] - self.lo[:, 0] + 1
            members = np.repeat(np.arange(len(self)), spans)
            starts = np.cumsum(spans) - spans
            slices = self.lo[members, 0] + np.arange(len(members)) - starts[members]
            order = np.lexsort((members, slices))
            return SliceRows(slices[order], members[order], self.lo[:, 1:], self.hi[:, 1:],
                             self.values)
        slices, members = np.nonzero(self.slice_present)
        return SliceRows(slices, np.arange(len(slices)), self.slice_lo[slices, members],
                         self.slice_hi[slices, members], self.values[members])

    def shifted(self, rows: int, cols: int) -> Annotations:
        """Return the annotations moved by ``rows`` and ``cols`` within the slice."""
        step = np.array([0, rows, cols], dtype=np.int64)
        per_slice = {}
        if self.slice_lo is not None:
            in_plane = np.array([rows, cols], dtype=np.int64)
            present = self.slice_present[..., None]
            per_slice = {
                "slice_lo": np.where(present, self.slice_lo + in_plane, self.slice_lo),
                "slice_hi": np.where(present, self.slice_hi + in_plane, self.slice_hi),
            }
        return replace(self, lo=self.lo + step, hi=self.hi + step, **per_slice)
