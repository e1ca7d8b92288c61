"""The export's QC picture: written PNGs with the boxes the dataset files give them.

What is drawn is what a detector will read: the PNG files of the export and the boxes of
the cases' parts, not a new rendering of the volumes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from niprep.training.preview import draw_montage, preview_file, spread


def _item(output: Any, split: str, picture: dict[str, Any], channels: int) -> dict[str, Any]:
    """One picture and its boxes as :func:`~niprep.training.preview.draw_montage` takes it."""
    pixels = np.asarray(Image.open(output / "images" / split / picture["file_name"]))
    if channels == 3:
        pixels = pixels[..., 1]  # the slice itself, between its neighbours
    boxes = np.array([a["bbox"] for a in picture["annotations"]], dtype=np.int64).reshape(-1, 4)
    corners = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:] - 1], axis=1)
    labels = [a["category_id"] for a in picture["annotations"]]
    return {"image": torch.from_numpy(pixels.astype(np.float32)[None]),
            "box": torch.from_numpy(corners), "label": torch.tensor(labels, dtype=torch.int64),
            "case": picture["case"], "slice": picture["slice"]}


def export_preview(
    output: Any, parts: Sequence[dict[str, Any]], count: int, view: str, task_name: str,
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
    items = [_item(output, *shown[n], channels) for n in spread(count, len(shown))]
    buffer = io.BytesIO()
    draw_montage(items).save(buffer, format="PNG")
    return preview_file(view, task_name), buffer.getvalue()
