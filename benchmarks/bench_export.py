"""Export time against extraction alone, and where the export's time goes.

For every benchmark dataset (``synthetic_masks.py``) it pairs each mask with a CT-like int16
image (air outside an elliptic body, soft tissue inside, each label a little brighter,
Gaussian noise; generated once into ``<cache>/<dataset>-images/``) and times, in this
process, one worker, best of ``--repeats``:

* ``csv``: ``extract_annotations_dataset`` (axial, box, ``box_scope="slice"``): the masks only;
* ``tiff``: ``extract_slices_dataset`` of the images (every slice, lossless TIFF);
* ``yolo``, ``coco``: ``export_detection_dataset`` with ``window="ct-soft-tissue"``
  (every slice as an 8-bit PNG, negatives included);
* ``monai``: ``export_detection_dataset(format="monai")`` (masks read, images referenced).

Then it profiles one ``yolo`` export and splits its time into: the first pass over the masks
(``scan``), the mask pipeline of the export itself, reading the images, windowing, PNG
encoding, and writing/committing the files (the rest).

Run ``python benchmarks/bench_export.py [--quick] [--repeats N]``.
"""

from __future__ import annotations

import cProfile
import pstats
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import nibabel as nib
import numpy as np
from synthetic_masks import dataset_arguments, dataset_specs, ensure_dataset

import niprep
from niprep import export_detection_dataset

#: profiled functions: (module path end, function name), cumulative time
FUNCTIONS = {
    "scan": ("niprep/export/run.py", "_scan"),
    "annotate": ("niprep/core/pipeline.py", "annotate"),  # called by the scan only
    "chains": ("niprep/core/pipeline.py", "apply_chain"),  # masks (scan, task) and images
    "images": ("niprep/core/pictures.py", "load_view"),
    "window": ("niprep/core/window.py", "__call__"),
    "png": ("niprep/export/slices.py", "png_bytes"),
}


def ensure_images(masks: Path, cache: Path) -> Path:
    """A CT-like int16 image for every mask of ``masks``, in ``<cache>/<name>-images``."""
    folder = cache / f"{masks.name}-images"
    stamp = folder / ".done"
    if stamp.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for path in sorted(masks.glob("*.nii.gz")):
        mask_image = nib.load(path)
        mask = np.asanyarray(mask_image.dataobj)
        x, y = np.ogrid[: mask.shape[0], : mask.shape[1]]
        body = ((x - mask.shape[0] / 2) / (0.45 * mask.shape[0])) ** 2 + (
            (y - mask.shape[1] / 2) / (0.4 * mask.shape[1])) ** 2 < 1
        image = np.where(body[..., None], 40, -1000).astype(np.int16) + np.zeros_like(
            mask, dtype=np.int16)
        image += (mask.astype(np.int16) % 7) * 15
        image += rng.normal(0, 12, mask.shape).astype(np.int16)
        name = path.name.replace("_bbox", "")
        nib.save(nib.Nifti1Image(image, mask_image.affine), folder / name)
    stamp.touch()
    return folder


def export_runs(masks: Path, images: Path) -> dict[str, Callable[[Path], object]]:
    """The timed runs of one dataset, each taking its output folder."""
    common = {"progress": False}
    window = {"window": "ct-soft-tissue", **common}
    return {
        "csv": partial(niprep.extract_annotations_dataset, masks, data_mode="box",
                       box_scope="slice", **common),
        "tiff": partial(niprep.extract_slices_dataset, images, **common),
        "yolo": partial(_export, images, masks, format="yolo", **window),
        "coco": partial(_export, images, masks, format="coco", **window),
        "monai": partial(_export, images, masks, format="monai", **common),
    }


def _export(images: Path, masks: Path, out: Path, **options: object) -> object:
    return export_detection_dataset(images, masks, out, **options)


def best_time(run: Callable[[Path], object], out: Path, repeats: int) -> float:
    """The best wall time of ``repeats`` runs, each into an emptied ``out``."""
    times = []
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        run(out)
        times.append(time.perf_counter() - start)
    return min(times)


def profile_buckets(run: Callable[[], object]) -> tuple[float, dict[str, float]]:
    """The total time of ``run`` and its share spent on each step of the export."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(run)
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    spent = {key: sum(entry[3] for (filename, _, name), entry in stats.items()
                      if filename.endswith(module) and name == function)
             for key, (module, function) in FUNCTIONS.items()}
    return total, {
        "scan masks": spent["scan"],
        "export's mask pipeline": spent["chains"] - spent["images"] - spent["annotate"],
        "read images": spent["images"],
        "window": spent["window"],
        "PNG encode": spent["png"],
    }


def main() -> None:
    arguments = dataset_arguments(__doc__.splitlines()[0], repeats=2).parse_args()
    print(f"{'dataset':<14}{'slices':>8}{'csv s':>8}{'tiff s':>8}{'yolo s':>8}{'coco s':>8}"
          f"{'monai s':>9}{'yolo/csv':>10}")
    for spec in dataset_specs(arguments.quick):
        masks = ensure_dataset(spec, arguments.cache)
        images = ensure_images(masks, arguments.cache)
        out = arguments.cache / "out" / f"export-{spec.name}"
        runs = export_runs(masks, images)
        runs["csv"](out / "warm-up")  # numba compiled or loaded from its cache
        times = {name: best_time(run, out / name, arguments.repeats)
                 for name, run in runs.items()}
        slices = spec.n_cases * spec.shape[2]
        print(f"{spec.name:<14}{slices:>8}{times['csv']:>8.2f}{times['tiff']:>8.2f}"
              f"{times['yolo']:>8.2f}{times['coco']:>8.2f}{times['monai']:>9.2f}"
              f"{times['yolo'] / times['csv']:>10.1f}")
        shutil.rmtree(out / "profile", ignore_errors=True)
        total, buckets = profile_buckets(partial(runs["yolo"], out / "profile"))
        rest = total - sum(buckets.values())
        parts = ", ".join(f"{label} {seconds / total:.0%}" for label, seconds in
                          [*buckets.items(), ("files and the rest", rest)])
        print(f"  yolo export under cProfile {total:.2f} s: {parts}")


if __name__ == "__main__":
    main()
