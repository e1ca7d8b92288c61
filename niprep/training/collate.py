"""Batching training items whose box counts differ: as lists, or as detection targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def _stacked_images(batch: Sequence[dict[str, Any]]) -> torch.Tensor:
    sizes = sorted({tuple(item["image"].shape) for item in batch})
    if len(sizes) > 1:
        raise ValueError(
            f"images of sizes {sizes} cannot be stacked; give the dataset a target_size"
        )
    return torch.stack([item["image"] for item in batch])


def collate_slices(batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Batch items of :class:`~niprep.training.AnnotatedSliceDataset`.

    Returns ``image`` stacked ``[B, C, H, W]``, ``slice`` an int64 ``[B]`` tensor, and
    ``box``, ``label`` and ``case`` as lists of the items' values.

    Args:
        batch: the items.

    Raises:
        ValueError: the images differ in size (give the dataset a ``target_size``).
    """
    return {
        "image": _stacked_images(batch),
        "box": [item["box"] for item in batch],
        "label": [item["label"] for item in batch],
        "case": [item["case"] for item in batch],
        "slice": torch.tensor([item["slice"] for item in batch], dtype=torch.int64),
    }


def collate_detection(
    batch: Sequence[dict[str, Any]],
) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """Batch items as detection models take them: ``(images, targets)``.

    ``images`` is ``[B, C, H, W]`` (a torchvision detector also takes it as the list of its
    images); ``targets[b]`` is ``{"boxes": float32 [N, 4], "labels": int64 [N]}`` of image
    ``b``, in the dataset's ``box_format`` and class ids: torchvision's detectors and
    MONAI's ``RetinaNetDetector`` read these keys.

    Args:
        batch: the items.

    Raises:
        ValueError: the images differ in size (give the dataset a ``target_size``).
    """
    targets = [{"boxes": item["box"], "labels": item["label"]} for item in batch]
    return _stacked_images(batch), targets
