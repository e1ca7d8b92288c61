"""One case of a 2-D export: its slices as PNG pictures with YOLO label lines and COCO entries.

The pictures are the image slices padded exactly as the CSV offsets say
(:class:`~niprep.core.pictures.SlicePictures`), windowed to 8-bit grey (or 16-bit stored
values without a window); the boxes are the mask's rows of the same slice
(:meth:`~niprep.core.annotations.Annotations.slice_rows`) in the consumer's convention
(:func:`~niprep.core.boxes.convert_boxes`).
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from niprep.core.annotations import Annotations
from niprep.core.boxes import convert_boxes
from niprep.core.classes import ClassMap
from niprep.core.pictures import SlicePictures
from niprep.options import Settings

UINT16_MAX = np.iinfo(np.uint16).max


def png_bytes(stack: np.ndarray, level: int = 1) -> bytes:
    """A ``(channels, H, W)`` picture as PNG: 8-bit grey (``L``), 8-bit ``RGB`` for three
    channels, or 16-bit grey (``I;16``) for uint16.

    Args:
        stack: uint8 with 1 or 3 channels, or uint16 with 1 channel.
        level: the zlib compression level, 0 to 9.
    """
    picture = np.ascontiguousarray(stack[0] if len(stack) == 1 else np.moveaxis(stack, 0, -1))
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def check_stored_values(volume: np.ndarray) -> None:
    """Refuse an image whose values are not whole numbers in 0..65535 (``window=None``).

    Args:
        volume: the image volume.

    Raises:
        ValueError: a value cannot be held by a 16-bit PNG; the message says which.
    """
    if volume.size == 0:
        return
    low, high = volume.min(), volume.max()
    whole = volume.dtype.kind in "ui" or bool(np.all(np.mod(volume, 1) == 0))
    if low < 0 or high > UINT16_MAX or not whole:
        kind = "whole numbers" if whole else "fractional values"
        raise ValueError(
            f"window=None writes the stored values as 16-bit PNG, but the image holds {kind} "
            f"from {low:g} to {high:g} ({volume.dtype}); give a window such as "
            "'ct-soft-tissue' or 'percentile'"
        )


@dataclass(frozen=True)
class SliceEntry:
    """The boxes of one picture.

    Args:
        ids: ``(N,)`` class id of each box.
        lo: ``(N, 2)`` inclusive ``(row, col)`` minimum of each box, in the padded picture.
        hi: ``(N, 2)`` inclusive maximum.
        areas: ``(N,)`` pixels of each box's annotation on the slice.
    """

    ids: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    areas: np.ndarray

    def yolo_text(self, size: tuple[int, int]) -> str:
        """The YOLO label file: ``class x_center y_center width height`` per box,
        normalised by the picture ``size`` ``(H, W)``, 6 decimals."""
        boxes = convert_boxes(self.lo, self.hi, "cxcywh", size)
        return "".join(f"{i} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n"
                       for i, (x, y, w, h) in zip(self.ids.tolist(), boxes.tolist()))

    def coco_annotations(self) -> list[dict]:
        """The COCO annotations of the picture, without ids: ``category_id``, ``bbox``
        ``[x, y, w, h]`` (half-open pixels), ``area``, ``iscrowd``."""
        boxes = convert_boxes(self.lo, self.hi, "coco").astype(np.int64)
        return [{"category_id": i, "bbox": box, "area": area, "iscrowd": 0}
                for i, box, area in zip(self.ids.tolist(), boxes.tolist(), self.areas.tolist())]


def slice_entries(
    annotations: Annotations,
    mask: np.ndarray,
    offset: tuple[int, int],
    class_map: ClassMap,
    instance_labels: tuple[np.ndarray, np.ndarray] | None = None,
    areas: bool = True,
) -> tuple[dict[int, SliceEntry], int]:
    """The boxes of every slice holding a box of a listed class, and the boxes left out.

    Args:
        annotations: the mask's table, in the padded view frame, with per-slice boxes
            (``box_scope="slice"``).
        mask: the mask, axes ``(slice, row, col)``, not padded.
        offset: ``(row, col)`` where the slice sits in the padded picture.
        class_map: the dataset's classes.
        instance_labels: ``(labels, ids)`` of
            :meth:`~niprep.core.transforms.MaskToBoxes.component_labels` for
            ``instances="components"``; ``None``: an annotation is all voxels of its value.
        areas: count each box's pixels (COCO's ``area``); ``False`` leaves them 0.

    Returns:
        ``({slice index: its boxes}, number of boxes of unlisted values)``.
    """
    table = annotations.slice_rows()  # with per-slice boxes, row n shows box n
    members = np.nonzero(annotations.slice_present)[1]  # the annotation of each row
    ids, kept = class_map.lookup(table.values)
    lo, hi = table.lo[kept], table.hi[kept]
    slices, members = table.slices[kept], members[kept]
    counts = np.zeros(len(slices), dtype=np.int64)
    for row, (s, member) in enumerate(zip(slices.tolist(), members.tolist())):
        if not areas:
            break
        r0, c0 = lo[row] - offset
        r1, c1 = hi[row] - offset + 1
        if instance_labels is None:
            inside = mask[s, r0:r1, c0:c1] == annotations.values[member]
        else:
            labels, label_ids = instance_labels
            inside = labels[s, r0:r1, c0:c1] == label_ids[member]
        counts[row] = np.count_nonzero(inside)
    entries = {}
    starts = np.flatnonzero(np.r_[True, slices[1:] != slices[:-1]]) if len(slices) else []
    for start, stop in zip(starts, [*starts[1:], len(slices)]):
        s = int(slices[start])
        entries[s] = SliceEntry(ids[start:stop], lo[start:stop], hi[start:stop],
                                counts[start:stop])
    return entries, int(np.count_nonzero(~kept))


def choose_slices(
    positives: list[int],
    count: int,
    options: Settings,
    case: str,
    inside: np.ndarray | None = None,
) -> list[int]:
    """The slices a case exports: its positives and the negatives ``options`` asks for.

    Args:
        positives: the slices holding a box, ascending.
        count: the number of slices.
        options: the export options (``negatives``, ``split_seed``).
        case: the case name (seeds the choice of negatives with ``split_seed``).
        inside: ``(count,)`` whether each slice may be a negative
            (``negatives_within="image"``), or ``None``: all may.
    """
    taken = set(positives)
    candidates = [s for s in range(count)
                  if s not in taken and (inside is None or inside[s])]
    if options.negatives == "none":
        negatives: list[int] = []
    elif options.negatives == "all":
        negatives = candidates
    else:
        wanted = min(len(candidates), round(options.negatives * len(positives)))
        negatives = random.Random(f"{options.split_seed}:{case}").sample(candidates, wanted)
    return sorted(taken | set(negatives))


def body_slices(volume: np.ndarray) -> np.ndarray:
    """``(slices,)`` whether each slice holds a voxel above the volume's minimum (inside the
    body, for ``negatives_within="image"``)."""
    if volume.size == 0:
        return np.zeros(len(volume), dtype=bool)
    low = volume.min()
    return np.array([bool((volume[s] > low).any()) for s in range(len(volume))])


def slice_files(
    pictures: SlicePictures,
    entries: dict[int, SliceEntry],
    chosen: list[int],
    stems: dict[int, str],
    folder: str,
    channels: int,
    yolo: bool,
    png_level: int = 1,
) -> Iterator[tuple[str, str | bytes]]:
    """Yield ``(path, content)`` of each chosen slice's PNG (and YOLO label file), one
    picture encoded at a time.

    Args:
        pictures: the case's padded pictures.
        entries: the boxes of the slices holding any.
        chosen: the slices to write.
        stems: the file name stem of each chosen slice.
        folder: the split, e.g. ``"train"``.
        channels: 1 or 3.
        yolo: also write ``labels/<split>/<stem>.txt``.
        png_level: the PNGs' zlib level.
    """
    empty = SliceEntry(*(np.empty((0,) + shape, dtype=np.int64) for shape in ((), (2,), (2,), ())))
    for s in chosen:
        yield f"images/{folder}/{stems[s]}.png", png_bytes(pictures.stack(s, channels), png_level)
        if yolo:
            yield f"labels/{folder}/{stems[s]}.txt", entries.get(s, empty).yolo_text(
                pictures.size)
