"""Slices drawn side by side as one picture: grey tiles with boxes and mask contours on top.

The one drawing routine behind the training previews (:mod:`niprep.training.preview`) and the
dataset check's thumbnails (:mod:`niprep.check.thumbnail`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

#: pixels between tiles, and the height of the caption strip under each tile
GAP = 4
CAPTION = 14
#: a tile is enlarged by a whole factor until its longer side reaches this many pixels
MIN_TILE = 256
BACKGROUND = (24, 24, 24)
CAPTION_COLOUR = (220, 220, 220)
#: box and contour colours, picked by label value
PALETTE = (
    (255, 64, 64),
    (64, 255, 64),
    (64, 160, 255),
    (255, 220, 0),
    (255, 64, 255),
    (0, 230, 230),
    (255, 140, 0),
    (170, 110, 255),
)


@dataclass(frozen=True)
class Tile:
    """One slice to draw.

    Args:
        image: the ``(H, W)`` slice, shown in grey from its own min (black) to max (white);
            its values must be finite.
        boxes: ``(N, 4)`` inclusive ``X_MIN, Y_MIN, X_MAX, Y_MAX`` pixel corners (the CSV's
            columns), outlined on their border pixels.
        values: the label value of each box, which picks its colour.
        caption: the text under the tile.
        contour: an ``(H, W)`` label slice whose regions are outlined on their inner border
            pixels, at the drawn scale (the image stays visible inside), or ``None``.
    """

    image: np.ndarray
    boxes: np.ndarray
    values: Sequence[int]
    caption: str
    contour: np.ndarray | None = None


def colour_of(value: float) -> tuple[int, int, int]:
    """The palette colour of a label value."""
    return PALETTE[int(value) % len(PALETTE)]


def zoom_for(height: int, width: int) -> int:
    """The whole factor enlarging a ``height x width`` tile (1 for images of 256+ pixels)."""
    return max(1, MIN_TILE // max(height, width))


def grey(image: np.ndarray) -> np.ndarray:
    """``image`` scaled from its min..max to 0..255 ``uint8`` (all 0 when it is constant)."""
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) * (255.0 / (high - low)) if high > low else np.zeros_like(image)
    return scaled.astype(np.uint8)


def _contour_pixels(labels: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """The zoomed label slice, and where a region's pixel has a 4-neighbour of another
    value (or the slice's edge): the inner border of each region."""
    zoomed = np.repeat(np.repeat(labels, zoom, axis=0), zoom, axis=1)
    padded = np.pad(zoomed, 1, mode="constant", constant_values=0)
    centre = padded[1:-1, 1:-1]
    differs = (
        (padded[:-2, 1:-1] != centre)
        | (padded[2:, 1:-1] != centre)
        | (padded[1:-1, :-2] != centre)
        | (padded[1:-1, 2:] != centre)
    )
    return zoomed, differs & (zoomed > 0)


def draw_tiles(tiles: Sequence[Tile], columns: int | None = None) -> Image.Image:
    """Draw ``tiles`` on a grid, ``GAP`` pixels apart, each enlarged by :func:`zoom_for`
    of the largest tile, with its caption below.

    Args:
        tiles: the slices.
        columns: tiles per row; ``None`` for ``ceil(sqrt(len(tiles)))``.
    """
    height = max(int(tile.image.shape[0]) for tile in tiles)
    width = max(int(tile.image.shape[1]) for tile in tiles)
    zoom = zoom_for(height, width)
    cell_w, cell_h = width * zoom, height * zoom + CAPTION
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    canvas = Image.new(
        "RGB", (GAP + columns * (cell_w + GAP), GAP + rows * (cell_h + GAP)), BACKGROUND
    )
    pen = ImageDraw.Draw(canvas)
    for number, tile in enumerate(tiles):
        left = GAP + (number % columns) * (cell_w + GAP)
        top = GAP + (number // columns) * (cell_h + GAP)
        picture = Image.fromarray(grey(tile.image))
        picture = picture.resize((picture.width * zoom, picture.height * zoom), Image.NEAREST)
        if tile.contour is not None:
            zoomed, border = _contour_pixels(tile.contour, zoom)
            pixels = np.asarray(picture.convert("RGB")).copy()
            # colour_of of every border pixel at once (a pass per value cost ~100 passes on
            # a multi-organ slice)
            pixels[border] = np.array(PALETTE, dtype=np.uint8)[
                zoomed[border].astype(np.int64) % len(PALETTE)]
            picture = Image.fromarray(pixels)
        canvas.paste(picture, (left, top))
        corners = np.asarray(tile.boxes).astype(int).reshape(-1, 4).tolist()
        for (x_min, y_min, x_max, y_max), value in zip(corners, tile.values):
            pen.rectangle(
                [left + x_min * zoom, top + y_min * zoom,
                 left + (x_max + 1) * zoom - 1, top + (y_max + 1) * zoom - 1],
                outline=colour_of(value),
            )
        pen.text((left, top + height * zoom + 1), tile.caption, fill=CAPTION_COLOUR)
    return canvas
