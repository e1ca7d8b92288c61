"""Shuffling that keeps a case's slices together, so the volume cache serves them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

from niprep.training.dataset import AnnotatedSliceDataset


class CaseGroupedSampler(Sampler[int]):
    """Shuffle the cases of an :class:`~niprep.training.AnnotatedSliceDataset`, and the slices
    within each case, but visit a case's slices one after another.

    A fully random order decodes a volume for most items once the cases outnumber the
    cache; this order decodes each case once per epoch (once per worker with
    ``num_workers > 0``, as the ``DataLoader`` deals batches to its workers in turn).

    Args:
        dataset: the dataset to sample.
        shuffle: random order of cases and of slices within a case; ``False`` keeps the
            dataset's order.
        generator: a ``torch.Generator`` for a reproducible order.
    """

    def __init__(
        self,
        dataset: AnnotatedSliceDataset,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        self.item_cases = dataset.item_cases
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return len(self.item_cases)

    def _permutation(self, size: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(size)
        return torch.randperm(size, generator=self.generator).numpy()

    def __iter__(self) -> Iterator[int]:
        # a case's items are contiguous in the dataset: split where the case changes
        groups = np.split(np.arange(len(self.item_cases)),
                          np.flatnonzero(np.diff(self.item_cases)) + 1)
        for group in self._permutation(len(groups)):
            items = groups[group]
            yield from items[self._permutation(len(items))].tolist()
