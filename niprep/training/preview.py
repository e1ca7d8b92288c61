"""Quality-control pictures: a few slices with their boxes drawn, as one PNG montage.

The slices shown are training items of :class:`~niprep.training.dataset.AnnotatedSliceDataset`, so a
box drawn here sits exactly where the CSV row of that slice puts it on the padded image.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from niprep.core.boxes import inclusive_corners
from niprep.core.drawing import Tile, draw_tiles
from niprep.options import Settings
from niprep.options.groups import ANNOTATION, IMAGE, INPUT
from niprep.run.atomic import write_then_move
from niprep.run.inputs import Case, CasePair, pair_cases
from niprep.run.output_tree import STATE_DIR, OutputTree
from niprep.training.dataset import AnnotatedSliceDataset

PREVIEW_FOLDER = "preview"


def spread(count: int, total: int) -> list[int]:
    """``count`` indices of ``range(total)`` spread evenly, first and last included.

    Args:
        count: how many to pick (all when ``count >= total``).
        total: how many there are.
    """
    if count >= total:
        return list(range(total))
    if count == 1:
        return [(total - 1) // 2]
    return np.linspace(0, total - 1, count).round().astype(int).tolist()


def draw_montage(items: Sequence[dict[str, Any]], box_format: str = "csv") -> Image.Image:
    """Draw items of :class:`~niprep.training.AnnotatedSliceDataset` side by side, boxes on top.

    Tiles sit on a grid of ``ceil(sqrt(n))`` columns (:func:`~niprep.core.drawing.draw_tiles`),
    each showing its image in grey (its own min..max) with every box outlined on its border
    pixels and a ``case s=slice`` caption below.

    Args:
        items: the items (``image``, ``box``, ``label``, ``case``, ``slice``).
        box_format: the ``box_format`` of the dataset the items come from.
    """
    return draw_tiles([
        Tile(item["image"].numpy()[0],
             inclusive_corners(item["box"].numpy(), box_format, item["image"].shape[-2:]),
             item["label"].tolist(), f"{item['case']} s={item['slice']}")
        for item in items
    ])


def save_preview(dataset: AnnotatedSliceDataset, path: str | os.PathLike, count: int = 8) -> Path:
    """Write a PNG montage of ``count`` items of ``dataset``, spread evenly over it.

    The choice depends only on the dataset's length, so the same dataset gives the same
    picture. The file is written aside and moved in place.

    Args:
        dataset: where the slices and boxes come from.
        path: the PNG file to write (its folder is created).
        count: how many slices to show.

    Raises:
        ValueError: the dataset has no item.
    """
    png = montage_png(dataset, count)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_then_move(png, path, path.parent)
    return path


def montage_png(dataset: AnnotatedSliceDataset, count: int = 8) -> bytes:
    """The PNG bytes of :func:`save_preview`'s montage.

    Args:
        dataset: where the slices and boxes come from.
        count: how many slices to show.

    Raises:
        ValueError: the dataset has no item.
    """
    if len(dataset) == 0:
        raise ValueError("the dataset has no slice to preview")
    items = [dataset[index] for index in spread(count, len(dataset))]
    buffer = io.BytesIO()
    draw_montage(items, dataset.box_format).save(buffer, format="PNG")
    return buffer.getvalue()


def preview_file(view: str, task_name: str) -> str:
    """Where a run's preview goes, relative to its output folder."""
    return f"{PREVIEW_FOLDER}/{view}_{task_name}_preview.png"


def preview_run(
    output_path: str | os.PathLike,
    task_name: str,
    images: Sequence[Case] | None,
    labels: Sequence[Case] | None,
    options: Settings,
) -> Path:
    """Write ``<output>/preview/<view>_<task>_preview.png`` for a finished run.

    Up to ``options.preview`` cases are picked evenly among the pairs (sorted by case
    name), then as many slices evenly among their slices holding a box (all their slices
    when none does).

    Args:
        output_path: the run's output folder.
        task_name: ``"annotations"`` or ``"slices"``.
        images: the image cases, or ``None`` to draw the boxes over the masks.
        labels: the mask cases, or ``None`` for images without boxes.
        options: the run's validated options (``preview`` > 0).
    """
    if images is None:
        pairs = [CasePair(case.name, case.path, case.path) for case in labels]
    elif labels is None:
        pairs = [CasePair(case.name, case.path, None) for case in images]
    else:
        pairs = pair_cases(images, labels)
    pairs = sorted(pairs, key=lambda pair: pair.name)
    chosen = [(pairs[n].image, pairs[n].label) for n in spread(options.preview, len(pairs))]
    settings = {option.name: options.values[option.name]
                for group in (INPUT, ANNOTATION, IMAGE) for option in group.options}
    # a few slices: decoding them beats filling the decoded-volume store with whole volumes
    settings["store"] = None
    dataset = AnnotatedSliceDataset.from_pairs(
        chosen, options.view, options.target_size, include_empty=False, **settings
    )
    if len(dataset) == 0:
        dataset = AnnotatedSliceDataset.from_pairs(
            chosen, options.view, options.target_size, **settings
        )
    relative = preview_file(options.view, task_name)
    output = Path(output_path)
    write_then_move(montage_png(dataset, options.preview), relative, output / STATE_DIR,
                    move=OutputTree(output).place)  # never through a link
    return output / relative

