"""Shuffling that keeps a case's slices together, so each case is decoded once per epoch.

These orders matter without the decoded-volume store (``store=None``), when every process
decodes the volumes it reads; with the store, ``shuffle=True`` is as fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

from niprep.options import checks
from niprep.training.dataset import AnnotatedSliceDataset


class CaseGroupedSampler(Sampler[int]):
    """Shuffle the cases of an :class:`~niprep.training.AnnotatedSliceDataset`, and the slices
    within each case, but visit a case's slices one after another.

    A fully random order decodes a volume for most items once the cases outnumber the
    cache; this order decodes each case once per epoch with ``num_workers=0``. With
    workers, the ``DataLoader`` deals batches to its workers in turn, so each worker would
    decode each case: use :class:`CaseGroupedBatchSampler` there.

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

    def _order(self) -> np.ndarray:
        # a case's items are contiguous in the dataset: split where the case changes
        groups = np.split(np.arange(len(self.item_cases)),
                          np.flatnonzero(np.diff(self.item_cases)) + 1)
        runs = [groups[g][self._permutation(len(groups[g]))]
                for g in self._permutation(len(groups))]
        return np.concatenate(runs) if runs else np.empty(0, dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        yield from self._order().tolist()


class CaseGroupedBatchSampler(CaseGroupedSampler):
    """Batches in case-grouped order, dealt so that each ``DataLoader`` worker reads whole
    cases: a case is decoded once per epoch, not once per worker.

    The ``DataLoader`` hands batch ``k`` to worker ``k % num_workers``. The grouped order is
    cut into ``num_workers`` runs of equal length (cases in a run stay whole, except the
    one the cut falls in, at most ``num_workers - 1`` cases per epoch), each run is batched,
    and the batches are interleaved in that dealing order. Give it as
    ``DataLoader(dataset, batch_sampler=..., num_workers=...)`` with the same
    ``num_workers``.

    Args:
        dataset: the dataset to sample.
        batch_size: items per batch.
        num_workers: the ``DataLoader``'s ``num_workers``.
        shuffle: as :class:`CaseGroupedSampler`.
        generator: as :class:`CaseGroupedSampler`.

    Raises:
        ValueError: ``batch_size`` < 1 or ``num_workers`` < 0.
    """

    def __init__(
        self,
        dataset: AnnotatedSliceDataset,
        batch_size: int,
        num_workers: int = 0,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dataset, shuffle, generator)
        self.batch_size = checks.count(1)("batch_size", batch_size)
        self.num_workers = checks.count(0)("num_workers", num_workers)

    def _runs(self) -> list[int]:
        """The item count of each worker's run, the longer runs first."""
        workers = max(self.num_workers, 1)
        share, extra = divmod(len(self.item_cases), workers)
        return [share + (worker < extra) for worker in range(workers)]

    def __len__(self) -> int:
        return sum(-(-run // self.batch_size) for run in self._runs())

    def __iter__(self) -> Iterator[list[int]]:  # type: ignore[override]
        order = self._order()
        bounds = np.cumsum([0, *self._runs()])
        batched = [
            [order[at : min(at + self.batch_size, stop)].tolist()
             for at in range(start, stop, self.batch_size)]
            for start, stop in zip(bounds[:-1], bounds[1:])
        ]
        for rank in range(max((len(batches) for batches in batched), default=0)):
            for batches in batched:
                if rank < len(batches):
                    yield batches[rank]
