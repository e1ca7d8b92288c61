"""Deterministic benchmark datasets for niprep, generated on first use and cached.

Two kinds of label masks, stored as uint8 ``.nii.gz`` the way real masks are:

* ``sparse``: CT lesion masks. Each case is a 512 x 512 x 120 volume holding 20 ellipsoid
  lesions of varied radii, labelled 1..20, with at least one empty voxel between any two
  lesion boxes (so every label is also exactly one connected component).
* ``dense``: multi-organ segmentations such as TotalSegmentator's. Each case is a
  384 x 384 x 120 volume whose body outline (an ellipse per slice, breathing slowly along
  the slices) is tiled into 117 labelled regions: a Voronoi partition of 117 seeds placed
  inside the body, computed slab by slab on a 2x coarser in-plane grid so memory stays at
  a few volumes' worth.

Everything is drawn from ``numpy.random.default_rng`` with fixed seeds, so the files are
the same on every machine. A dataset lives in ``<cache>/<name>/`` and is reused when its
stamp file matches the generator version and parameters; otherwise it is written again.
``--quick`` selects smaller volumes for a fast smoke run.

Also here: the worked-example volume of docs/reference.md, used as the baseline's self-check and
as the tiny warm-up case of the timing runs.

Run ``python benchmarks/synthetic_masks.py [--quick] [--cache DIR]`` to (re)generate and list them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

GENERATOR_VERSION = 1
DEFAULT_CACHE = Path("/tmp/niprep-bench")
STAMP_NAME = ".dataset-stamp.json"
SLAB_SLICES = 8
DENSE_COARSE_FACTOR = 2


@dataclass(frozen=True)
class DatasetSpec:
    """Parameters of one generated dataset.

    Args:
        name: folder name under the cache directory.
        kind: ``"sparse"`` (ellipsoid lesions) or ``"dense"`` (tiled body outline).
        shape: ``(i, j, k)`` shape of every case.
        n_cases: number of mask files.
        n_labels: labels per case (values ``1..n_labels``).
        seed: base seed; case ``c`` uses ``seed + c``.
        spacing: voxel size in mm written into the affine.
    """

    name: str
    kind: str
    shape: tuple[int, int, int]
    n_cases: int
    n_labels: int
    seed: int
    spacing: tuple[float, float, float]

    def case_file(self, case: int) -> str:
        """File name of case number ``case`` (sparse names carry nidataset's ``_bbox``)."""
        if self.kind == "sparse":
            return f"lesions_{case:03d}_bbox.nii.gz"
        return f"organs_{case:03d}.nii.gz"

    @property
    def volume_bytes(self) -> int:
        """In-memory size of one stored (uint8) volume."""
        return int(np.prod(self.shape))


FULL_SPECS = (
    DatasetSpec("sparse", "sparse", (512, 512, 120), 2, 20, 1000, (0.7, 0.7, 2.5)),
    DatasetSpec("dense", "dense", (384, 384, 120), 2, 117, 2000, (1.0, 1.0, 1.5)),
)
QUICK_SPECS = (
    DatasetSpec("sparse-quick", "sparse", (256, 256, 60), 2, 20, 1000, (0.7, 0.7, 2.5)),
    DatasetSpec("dense-quick", "dense", (192, 192, 60), 1, 117, 2000, (1.0, 1.0, 1.5)),
)


def dataset_arguments(description: str, repeats: int) -> argparse.ArgumentParser:
    """The options every benchmark over these datasets takes: ``--quick`` (the smaller
    volumes), ``--repeats`` (timed runs, the best kept) and ``--cache`` (where they live).

    Args:
        description: the benchmark's one-line description.
        repeats: the default of ``--repeats``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller volumes")
    parser.add_argument("--repeats", type=int, default=repeats, help="timed runs, best kept")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="dataset cache")
    return parser


def dataset_specs(quick: bool) -> tuple[DatasetSpec, ...]:
    """The datasets of a full run, or the smaller ones of a ``--quick`` run."""
    return QUICK_SPECS if quick else FULL_SPECS


def _box_is_free(box: np.ndarray, taken: list[np.ndarray]) -> bool:
    """True when ``box`` (rows ``lo``/``hi``, inclusive) keeps one empty voxel from all others."""
    return all(np.any(box[0] > other[1] + 1) or np.any(other[0] > box[1] + 1) for other in taken)


def _lesion_radii(rng: np.random.Generator, shape: tuple[int, int, int]) -> np.ndarray:
    """Log-uniform semi-axes (in voxels): small nodules up to large masses."""
    in_plane = np.exp(rng.uniform(np.log(2.0), np.log(shape[0] / 18), size=2))
    through = np.exp(rng.uniform(np.log(1.0), np.log(shape[2] / 12)))
    return np.array([in_plane[0], in_plane[1], through])


def _draw_ellipsoid(vol: np.ndarray, center: np.ndarray, radii: np.ndarray, value: int) -> None:
    """Set the voxels of an axis-aligned ellipsoid to ``value`` (its center voxel included)."""
    lo = center - np.floor(radii).astype(int)
    hi = center + np.floor(radii).astype(int)
    grids = np.ogrid[lo[0] : hi[0] + 1, lo[1] : hi[1] + 1, lo[2] : hi[2] + 1]
    dist = sum(((g - c) / r) ** 2 for g, c, r in zip(grids, center, radii, strict=True))
    region = vol[lo[0] : hi[0] + 1, lo[1] : hi[1] + 1, lo[2] : hi[2] + 1]
    region[dist <= 1.0] = value


def make_sparse_volume(
    shape: tuple[int, int, int], n_lesions: int, rng: np.random.Generator
) -> np.ndarray:
    """A uint8 mask of ``n_lesions`` separated ellipsoids labelled ``1..n_lesions``."""
    vol = np.zeros(shape, dtype=np.uint8)
    taken: list[np.ndarray] = []
    dims = np.array(shape)
    while len(taken) < n_lesions:
        radii = _lesion_radii(rng, shape)
        half = np.floor(radii).astype(int)
        center = rng.integers(half, dims - half)
        box = np.stack([center - half, center + half])
        if _box_is_free(box, taken):
            taken.append(box)
            _draw_ellipsoid(vol, center, radii, len(taken))
    return vol


def _body_semi_axes(shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-slice semi-axes (rows, cols) of the elliptical body outline."""
    phase = np.linspace(0.0, np.pi, shape[2])
    rows = shape[0] * (0.30 + 0.04 * np.sin(phase))
    cols = shape[1] * (0.42 + 0.03 * np.sin(2 * phase))
    return rows, cols


def _body_mask(shape: tuple[int, int, int], k0: int, k1: int, step: int = 1) -> np.ndarray:
    """Boolean body mask of slices ``k0..k1-1``, sampled every ``step`` voxels in-plane."""
    rows, cols = _body_semi_axes(shape)
    i = np.arange(0, shape[0], step)[:, None, None] - (shape[0] - 1) / 2
    j = np.arange(0, shape[1], step)[None, :, None] - (shape[1] - 1) / 2
    return (i / rows[k0:k1]) ** 2 + (j / cols[k0:k1]) ** 2 <= 1.0


def _dense_seeds(
    shape: tuple[int, int, int], n_labels: int, rng: np.random.Generator
) -> np.ndarray:
    """``n_labels`` distinct coarse-grid points ``(ci, cj, k)`` inside the body."""
    f = DENSE_COARSE_FACTOR
    seeds: set[tuple[int, int, int]] = set()
    while len(seeds) < n_labels:
        ci, cj = rng.integers(0, shape[0] // f), rng.integers(0, shape[1] // f)
        k = int(rng.integers(0, shape[2]))
        if _body_mask(shape, k, k + 1)[ci * f, cj * f, 0]:
            seeds.add((int(ci), int(cj), k))
    return np.array(sorted(seeds), dtype=np.float32)


def _nearest_seed(seeds: np.ndarray, coarse_shape: tuple[int, int], k0: int, k1: int) -> np.ndarray:
    """Label (1-based seed index) of the nearest seed for every coarse voxel of a slab."""
    ci = np.arange(coarse_shape[0], dtype=np.float32)[:, None, None]
    cj = np.arange(coarse_shape[1], dtype=np.float32)[None, :, None]
    k = np.arange(k0, k1, dtype=np.float32)[None, None, :]
    best = np.full((coarse_shape[0], coarse_shape[1], k1 - k0), np.inf, dtype=np.float32)
    labels = np.zeros(best.shape, dtype=np.uint8)
    for index, (si, sj, sk) in enumerate(seeds, start=1):
        dist = (ci - si) ** 2 + (cj - sj) ** 2 + (k - sk) ** 2
        closer = dist < best
        np.copyto(best, dist, where=closer)
        labels[closer] = index
    return labels


def make_dense_volume(
    shape: tuple[int, int, int], n_labels: int, rng: np.random.Generator
) -> np.ndarray:
    """A uint8 mask whose body outline is tiled into regions labelled ``1..n_labels``."""
    f = DENSE_COARSE_FACTOR
    seeds = _dense_seeds(shape, n_labels, rng)
    coarse = (shape[0] // f, shape[1] // f)
    vol = np.zeros(shape, dtype=np.uint8)
    for k0 in range(0, shape[2], SLAB_SLICES):
        k1 = min(k0 + SLAB_SLICES, shape[2])
        labels = _nearest_seed(seeds, coarse, k0, k1).repeat(f, axis=0).repeat(f, axis=1)
        vol[: labels.shape[0], : labels.shape[1], k0:k1] = labels
        vol[:, :, k0:k1] *= _body_mask(shape, k0, k1)
    return vol


def save_mask(vol: np.ndarray, path: Path, spacing: tuple[float, float, float]) -> None:
    """Write ``vol`` as a NIfTI file of its own dtype (no scaling) with the given voxel size."""
    affine = np.diag([*spacing, 1.0])
    nib.save(nib.Nifti1Image(vol, affine), str(path))


def _generate(spec: DatasetSpec, folder: Path) -> None:
    """Write every case of ``spec`` into a fresh ``folder``."""
    make = make_sparse_volume if spec.kind == "sparse" else make_dense_volume
    for case in range(spec.n_cases):
        vol = make(spec.shape, spec.n_labels, np.random.default_rng(spec.seed + case))
        save_mask(vol, folder / spec.case_file(case), spec.spacing)


def _stamp(spec: DatasetSpec) -> str:
    """What a cached dataset folder must record to be reused."""
    return json.dumps({"version": GENERATOR_VERSION, **asdict(spec)}, sort_keys=True)


def ensure_dataset(spec: DatasetSpec, cache: Path = DEFAULT_CACHE) -> Path:
    """The folder of ``spec``'s masks, generated unless a matching cached copy exists."""
    folder = cache / spec.name
    stamp = folder / STAMP_NAME
    if stamp.is_file() and stamp.read_text() == _stamp(spec):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _generate(spec, folder)
    stamp.write_text(_stamp(spec))
    return folder


def worked_example_volume() -> np.ndarray:
    """The worked example's 10 x 12 x 8 volume: value 3 and value 7 in two boxes."""
    vol = np.zeros((10, 12, 8), dtype=np.uint8)
    vol[2:5, 4:9, 1:4] = 3
    vol[6, 0:2, 5:8] = 7
    return vol


def ensure_worked_example(cache: Path = DEFAULT_CACHE) -> Path:
    """A folder holding only ``case_001_bbox.nii.gz``, the worked example's volume."""
    folder = cache / "worked-example"
    folder.mkdir(parents=True, exist_ok=True)
    save_mask(worked_example_volume(), folder / "case_001_bbox.nii.gz", (1.0, 1.0, 1.0))
    return folder


def main() -> None:
    """Generate (or reuse) the datasets and print where they are and what they hold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller volumes")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="cache directory")
    args = parser.parse_args()
    for spec in dataset_specs(args.quick):
        start = time.perf_counter()
        folder = ensure_dataset(spec, args.cache)
        seconds = time.perf_counter() - start
        files = sorted(folder.glob("*.nii.gz"))
        print(f"{spec.name}: {len(files)} x {spec.shape} uint8 in {folder} ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
