"""A case at a glance: its three central slices, image under the mask contour and boxes.

The thumbnail is drawn by :func:`~niprep.core.drawing.draw_tiles`, like the training
previews: one row of axial, coronal and sagittal tiles of the (oriented) volume through
the centre of the largest annotation box (of the volume when there is none), the mask's regions
outlined on their inner border so the image stays visible, and the annotation boxes
projected on each tile. When image and mask differ in shape, a second row shows the mask
on its own.
"""

from __future__ import annotations

import math

import numpy as np

from niprep.check.png import png_bytes
from niprep.core.drawing import Tile, draw_tiles
from niprep.core.transforms.slice_view import VIEW_AXES

#: a slice larger than this is shown every n-th voxel, so a thumbnail stays small
MAX_SIDE = 256


def _finite(picture: np.ndarray) -> np.ndarray:
    """``picture`` with NaN and inf shown as its smallest finite value (black)."""
    if picture.dtype.kind != "f" or np.isfinite(picture).all():
        return picture
    finite = np.isfinite(picture)
    low = picture[finite].min() if finite.any() else 0
    return np.where(finite, picture, low)


def centre(shape: tuple[int, ...], boxes: np.ndarray) -> np.ndarray:
    """The voxel the thumbnail's slices go through: the centre of the largest annotation
    box (the first of them on a tie), or the volume's centre when there is none.

    Args:
        shape: the volume's shape.
        boxes: ``(N, 6)`` inclusive ``lo, hi`` of each annotation.
    """
    if not len(boxes):
        return np.array(shape) // 2
    largest = np.argmax(np.prod(boxes[:, 3:] - boxes[:, :3] + 1, axis=1))
    return (boxes[largest, :3] + boxes[largest, 3:]) // 2


def _tiles(name: str, volume: np.ndarray, mask: np.ndarray | None,
           boxes: np.ndarray, values: np.ndarray) -> list[Tile]:
    """Three slices of ``volume`` through :func:`centre`, ``mask`` outlined, ``boxes`` drawn.

    Args:
        name: the caption's case name.
        volume: the volume shown in grey.
        mask: a label volume of the same shape, or ``None``.
        boxes: ``(N, 6)`` inclusive ``lo, hi`` of each annotation along the volume's axes.
        values: the value of each annotation.
    """
    tiles = []
    middle = centre(volume.shape, boxes)
    for view, axes in VIEW_AXES.items():
        viewed = volume.transpose(axes)
        index = int(middle[axes[0]])
        step = max(1, math.ceil(max(viewed.shape[1:]) / MAX_SIDE))
        picture = _finite(np.asarray(viewed[index, ::step, ::step]))
        contour = None if mask is None else np.asarray(mask.transpose(axes)[index, ::step, ::step])
        lo, hi = boxes[:, :3][:, axes], boxes[:, 3:][:, axes]
        shown = (lo[:, 0] <= index) & (index <= hi[:, 0])
        corners = np.stack([lo[shown, 2], lo[shown, 1], hi[shown, 2], hi[shown, 1]], axis=1)
        tiles.append(Tile(picture, corners // step, values[shown].tolist(),
                          f"{name} {view} {index}", contour))
    return tiles


def thumbnail_png(name: str, image: np.ndarray | None, mask: np.ndarray | None,
                  boxes: np.ndarray, values: np.ndarray) -> bytes:
    """The PNG bytes of a case's thumbnail.

    Args:
        name: the case name, in the captions.
        image: the image volume (axes as the mask's), or ``None``.
        mask: the label volume, or ``None``.
        boxes: ``(N, 6)`` inclusive ``lo, hi`` of each annotation along the mask's axes.
        values: ``(N,)`` the value of each annotation (it picks the colour).
    """
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 6)
    values = np.asarray(values)
    none = np.zeros((0, 6), dtype=np.int64)
    if image is None:
        tiles = _tiles(name, mask, mask, boxes, values)
    elif mask is None:
        tiles = _tiles(name, image, None, none, values[:0])
    elif image.shape == mask.shape:
        tiles = _tiles(name, image, mask, boxes, values)
    else:
        tiles = (_tiles(f"{name} image", image, None, none, values[:0])
                 + _tiles(f"{name} mask", mask, mask, boxes, values))
    return png_bytes(draw_tiles(tiles, columns=len(VIEW_AXES)))
