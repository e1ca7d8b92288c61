"""The export's QC picture: written PNGs with the boxes the dataset files give them.

What is drawn is what a detector will read: the PNG files of the export and the boxes of
the cases' parts, not a new rendering of the volumes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from niprep.core.drawing import Tile, draw_tiles
from niprep.training.preview import preview_file, spread


def _tile(output: Path, split: str, picture: dict[str, Any], channels: int) -> Tile:
    """One exported picture and its boxes (``[x, y, w, h]`` to inclusive corners)."""
    pixels = np.asarray(Image.open(output / "images" / split / picture["file_name"]))
    if channels == 3:
        pixels = pixels[..., 1]  # the slice itself, between its neighbours
    boxes = np.array([a["bbox"] for a in picture["annotations"]], dtype=np.int64).reshape(-1, 4)
    corners = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:] - 1], axis=1)
    return Tile(pixels, corners, [a["category_id"] for a in picture["annotations"]],
                f"{picture['case']} s={picture['slice']}")


def export_preview(
    output: Path, parts: Sequence[dict[str, Any]], count: int, view: str, task_name: str,
    channels: int,
) -> tuple[str, bytes] | None:
    """``(relative path, PNG bytes)`` of a montage of ``count`` exported pictures holding a
    box (any pictures when none does), spread evenly in case order; ``None`` without any.

    Args:
        output: the output folder.
        parts: the parts of the cases written, in case order.
        count: how many pictures to show.
        view: the view, for the file name.
        task_name: the task's name, for the file name.
        channels: 1 or 3 (the middle channel is shown).
    """
    pictures = [(part["split"], picture) for part in parts for picture in part["images"]]
    shown = [entry for entry in pictures if entry[1]["annotations"]] or pictures
    if not shown:
        return None
    tiles = [_tile(output, *shown[n], channels) for n in spread(count, len(shown))]
    buffer = io.BytesIO()
    draw_tiles(tiles).save(buffer, format="PNG")
    return preview_file(view, task_name), buffer.getvalue()
