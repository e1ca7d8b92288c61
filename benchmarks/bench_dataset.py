"""How fast AnnotatedSliceDataset serves training items, in any order and through workers.

Deterministic CT-like cases (int16 image with noise inside a body outline, uint8 mask of
ellipsoid lesions) are generated on first use under ``--cache``; slices are padded to
``(rows + 16, cols + 16)``, batches of 16. Measurements, all in one run:

* in order, no store: every slice of one case, dataset built from scratch each time,
  against reading its two volumes once (target: at most 1.5x).
* random order (``shuffle=True``), the default construction (decoded-volume store on, in
  a store emptied first): the first epoch (filling the store) and a later epoch, with the
  store's size on disk; against the case-grouped order with the same settings (target
  >= 0.8x) and against the random order without a store, as before the store (target
  >= 20x; measured on ``--old-items`` items only, it is slow).
* workers: ``DataLoader(shuffle=True, num_workers=2)`` against a trivial dataset
  returning fresh tensors of the same shape and dtype through identical settings (the
  ``DataLoader``'s own ceiling; target >= 0.7x), for float32 items and for uint8 items
  (``window=..., image_dtype="uint8"``).

Run ``python benchmarks/bench_dataset.py [--quick] [--cases N] [--slices N]``;
``bench_dataset_workers.py`` repeats the worker measurement for 0/4/8/16 workers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
from measure import prime
from torch.utils.data import DataLoader, Dataset

from niprep.core.transforms import LoadNifti
from niprep.training import AnnotatedSliceDataset, CaseGroupedSampler, collate_detection
from niprep.training.store import CACHE_ENV

DEFAULT_CACHE = Path("/tmp/niprep-bench/dataset")
BATCH = 16
WINDOWED = {"window": "ct-soft-tissue", "image_dtype": "uint8"}


def make_case(folder: Path, name: str, shape: tuple[int, int, int], seed: int) -> tuple[Path, Path]:
    """Write (once) ``images/<name>.nii.gz`` and ``labels/<name>_bbox.nii.gz``."""
    image_path = folder / "images" / f"{name}.nii.gz"
    label_path = folder / "labels" / f"{name}_bbox.nii.gz"
    if image_path.exists() and label_path.exists():
        return image_path, label_path
    rng = np.random.default_rng(seed)
    i, j = np.ogrid[: shape[0], : shape[1]]
    body = ((i - shape[0] / 2) / (shape[0] * 0.42)) ** 2 + (
        (j - shape[1] / 2) / (shape[1] * 0.36)
    ) ** 2 <= 1
    image = np.full(shape, -1000, dtype=np.int16, order="F")
    tissue = rng.normal(40, 30, size=(int(body.sum()), shape[2])).astype(np.int16)
    image[body] = tissue
    mask = np.zeros(shape, dtype=np.uint8, order="F")
    ii, jj, kk = np.ogrid[: shape[0], : shape[1], : shape[2]]
    for label in range(1, 11):
        center = rng.uniform((0.3, 0.3, 0.1), (0.7, 0.7, 0.9)) * shape
        radii = rng.uniform((4, 4, 2), (20, 20, 8))
        inside = sum(((g - c) / r) ** 2 for g, c, r in zip((ii, jj, kk), center, radii)) <= 1
        mask[inside] = label
    for path, volume in ((image_path, image), (label_path, mask)):
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.tmp.nii.gz")
        nib.save(nib.Nifti1Image(volume, np.diag([0.7, 0.7, 2.5, 1.0])), staged)
        staged.replace(path)
    return image_path, label_path


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The shortest wall time of ``repeats`` runs of ``work``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def timed(work: Callable[[], int]) -> float:
    """Items per second of ``work``, which returns how many items it read."""
    start = time.perf_counter()
    count = work()
    return count / (time.perf_counter() - start)


def read_all(dataset: Dataset, order: Iterable[int]) -> int:
    count = 0
    for index in order:
        dataset[index]
        count += 1
    return count


def drain(loader: DataLoader) -> int:
    return sum(len(targets) for _, targets in loader)


def measure_in_order(pair: tuple[Path, Path], target: tuple[int, int], repeats: int) -> None:
    def read_in_order() -> None:
        dataset = AnnotatedSliceDataset.from_pairs([pair], target_size=target, store=None)
        read_all(dataset, range(len(dataset)))

    prime(read_in_order)  # warm-up: numba kernels compiled and loaded, page cache
    loader = LoadNifti()
    loaded = best_of(repeats, lambda: [loader(path) for path in pair])
    items = best_of(repeats, read_in_order)
    print(f"in order, no store, one case, target_size {target}:")
    print(f"  read both volumes once (LoadNifti): {loaded:.3f} s; build dataset + every "
          f"item: {items:.3f} s: {items / loaded:.2f}x (target <= 1.5x)")


class FreshTensors(Dataset):
    """The ceiling: items of the same shape and dtype, made fresh, doing nothing else."""

    def __init__(self, size: int, shape: tuple[int, ...], dtype: torch.dtype) -> None:
        self.size, self.shape, self.dtype = size, shape, dtype

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"image": torch.zeros(self.shape, dtype=self.dtype),
                "box": torch.zeros((2, 4)), "label": torch.zeros(2, dtype=torch.int64)}


def loader_rate(dataset: Dataset, workers: int) -> float:
    """Slices/s of one epoch of a shuffled ``DataLoader`` (workers started afresh)."""
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers,
                        collate_fn=collate_detection,
                        generator=torch.Generator().manual_seed(0))
    return timed(lambda: drain(loader))


def measure_workers(pairs: list, target: tuple[int, int], workers: Iterable[int],
                    rounds: int) -> None:
    """Slices/s through a ``DataLoader`` next to the trivial dataset's ceiling, each the
    best of ``rounds`` epochs taken in turns (the machine's load changes meanwhile)."""
    for name, options in (("float32", {}), ("uint8, windowed", WINDOWED)):
        dataset = AnnotatedSliceDataset.from_pairs(pairs, target_size=target, **options)
        read_all(dataset, range(len(dataset)))  # the store is filled
        sample = dataset[0]["image"]
        fresh = FreshTensors(len(dataset), tuple(sample.shape), sample.dtype)
        loader_rate(fresh, 0)  # warm-up: torch's first collate
        print(f"DataLoader(shuffle=True, batch_size={BATCH}), {name} items "
              f"{tuple(sample.shape)}, best of {rounds} epochs:")
        for count in workers:
            rates = [(loader_rate(dataset, count), loader_rate(fresh, count))
                     for _ in range(rounds)]
            rate, ceiling = (max(column) for column in zip(*rates))
            print(f"  num_workers={count:2d}: {rate:6.0f} slices/s, trivial dataset "
                  f"{ceiling:6.0f}: {rate / ceiling:.2f}x (target >= 0.7x)")


def measure_orders(pairs: list, target: tuple[int, int], store: Path, old_items: int) -> None:
    os.environ[CACHE_ENV] = str(store)  # the default construction, in a store of our own
    shutil.rmtree(store, ignore_errors=True)
    dataset = AnnotatedSliceDataset.from_pairs(pairs, target_size=target)
    seeded = torch.Generator().manual_seed(0)

    def epoch() -> list[int]:
        return torch.randperm(len(dataset), generator=seeded).tolist()

    first = timed(lambda: read_all(dataset, epoch()))
    info = dataset.store_info()
    later = timed(lambda: read_all(dataset, epoch()))
    grouped = timed(lambda: read_all(dataset, CaseGroupedSampler(dataset, generator=seeded)))
    without = AnnotatedSliceDataset.from_pairs(pairs, target_size=target, store=None)
    grouped_old = timed(lambda: read_all(without, CaseGroupedSampler(without, generator=seeded)))
    old = timed(lambda: read_all(without, epoch()[:old_items]))
    print(f"random order, {len(pairs)} cases, {len(dataset)} slices, num_workers=0, "
          "default construction (store on):")
    print(f"  first epoch (filling the store): {first:7.0f} slices/s; store "
          f"{info.entries} entries, {info.bytes / 2**20:.0f} MiB")
    print(f"  later epoch:                     {later:7.0f} slices/s")
    print(f"  case-grouped order, same dataset: {grouped:6.0f} slices/s: random / grouped "
          f"{later / grouped:.2f}x (target >= 0.8x)")
    print(f"  without a store: grouped {grouped_old:.0f} slices/s, random {old:.1f} slices/s "
          f"({old_items} items): random now / random before {later / old:.0f}x "
          "(target >= 20x)")


def prepare(args: argparse.Namespace) -> tuple[list, tuple[int, int]]:
    shape = (256, 256, 32) if args.quick else (512, 512, args.slices)
    folder = args.cache / "x".join(str(size) for size in shape)
    pairs = [make_case(folder, f"ct_{n:03d}", shape, seed=n) for n in range(args.cases)]
    return pairs, (shape[0] + 16, shape[1] + 16)


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="256 x 256 x 32 cases")
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--slices", type=int, default=64, help="slices of a 512 x 512 case")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--rounds", type=int, default=3, help="epochs per worker rate")
    return parser


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--old-items", type=int, default=48,
                        help="items read in random order without a store")
    args = parser.parse_args()
    pairs, target = prepare(args)
    measure_in_order(pairs[0], target, args.repeats)
    measure_orders(pairs, target, args.cache / "store", args.old_items)
    measure_workers(pairs, target, (2,), args.rounds)


if __name__ == "__main__":
    main()
