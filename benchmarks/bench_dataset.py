"""How fast AnnotatedSliceDataset serves training items, against reading the volumes once.

Two measurements, on deterministic CT-like cases (int16 image with noise inside a body
outline, uint8 mask of ellipsoid lesions) generated on first use under ``--cache``:

* in order: every slice of one 512 x 512 x 100 case, ``num_workers=0``, dataset built
  from scratch each time; the target is at most 1.5x the time to read its two volumes
  once (with the loader the dataset uses, and with plain ``nibabel`` for reference).
* shuffled: every slice of several cases in a random order, a cache of 2 volumes;
  prints slices/s and the cache hits and misses.

Run ``python benchmarks/bench_dataset.py [--quick] [--repeats N] [--cases N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import torch

from niprep.core.transforms import LoadNifti
from niprep.training.dataset import AnnotatedSliceDataset
from niprep.training.sampling import CaseGroupedSampler

DEFAULT_CACHE = Path("/tmp/niprep-bench/dataset")


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


def read_in_order(pair: tuple[Path, Path], target: tuple[int, int]) -> int:
    dataset = AnnotatedSliceDataset.from_pairs([pair], target_size=target)
    for index in range(len(dataset)):
        dataset[index]
    return len(dataset)


def measure_in_order(folder: Path, shape: tuple[int, int, int], repeats: int) -> None:
    pair = make_case(folder, "ct_000", shape, seed=0)
    target = (shape[0] + 16, shape[1] + 16)
    read_in_order(pair, target)  # warm-up: numba compilation, page cache
    loader = LoadNifti()
    loaded = best_of(repeats, lambda: [loader(path) for path in pair])
    plain = best_of(repeats, lambda: [np.asanyarray(nib.load(path).dataobj) for path in pair])
    items = best_of(repeats, lambda: read_in_order(pair, target))
    print(f"in order, one {shape} case (int16 image + uint8 mask), target_size {target}:")
    print(f"  read both volumes once (niprep LoadNifti): {loaded:.3f} s")
    print(f"  read both volumes once (nibabel dataobj):  {plain:.3f} s")
    print(f"  build dataset + {shape[2]} items:             {items:.3f} s "
          f"({shape[2] / items:.0f} slices/s)")
    print(f"  ratio to LoadNifti: {items / loaded:.2f}x (target <= 1.5x); "
          f"to nibabel: {items / plain:.2f}x")


def measure_shuffled(folder: Path, shape: tuple[int, int, int], cases: int) -> None:
    pairs = [make_case(folder, f"ct_{n:03d}", shape, seed=n) for n in range(cases)]
    print(f"shuffled, {cases} cases of {shape}, cache of 2 volumes, num_workers=0:")
    for name, order_of in (
        ("fully random", lambda d: torch.randperm(len(d), generator=seeded()).tolist()),
        ("CaseGroupedSampler", lambda d: list(CaseGroupedSampler(d, generator=seeded()))),
    ):
        dataset = AnnotatedSliceDataset.from_pairs(pairs, cache_size=2)
        order = order_of(dataset)
        start = time.perf_counter()
        for index in order:
            dataset[index]
        elapsed = time.perf_counter() - start
        info = dataset.cache_info()
        print(f"  {name}: {len(order)} items in {elapsed:.2f} s: "
              f"{len(order) / elapsed:.0f} slices/s; cache hits {info.hits}, misses "
              f"{info.misses} ({info.hits / (info.hits + info.misses):.0%} hits)")


def seeded() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 x 256 x 50 cases")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", type=int, default=4, help="cases of the shuffled run")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    shape = (256, 256, 50) if args.quick else (512, 512, 100)
    folder = args.cache / "x".join(str(size) for size in shape)
    measure_in_order(folder, shape, args.repeats)
    measure_shuffled(folder, shape, args.cases)


if __name__ == "__main__":
    main()
