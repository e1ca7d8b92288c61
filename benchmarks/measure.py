"""One benchmark measurement, run in a fresh interpreter by ``bench_extract.py``.

Each measurement gets its own process so that imports, JIT caches and the peak resident
set size of one never leak into another. The child prints one line
``BENCH-RESULT {json}`` on stdout; everything else it prints is ignored.

Kinds of measurement:

* ``floor FOLDER``: ``np.asanyarray(nibabel.load(path).dataobj)`` for every case, the
  least any reader of the files has to do.
* ``niprep FOLDER OUT --mode M``: ``niprep.extract_annotations_dataset`` (axial, case,
  slice, box, one worker) with mode ``M``'s options. The import and one warm-up call on a
  tiny volume (``--warmup``) are timed on their own (start-up cost: numba JIT / cache
  load), then the dataset run is timed.
* ``baseline FOLDER OUT``: ``baseline.baseline_extract_annotations_dataset``, once.

Timings are the best of ``--repeats`` runs (each from an emptied output folder). Peak
memory growth is the peak resident set size during the runs minus the resident size just
before them (after imports and warm-up): the kernel's peak counter (``VmHWM``) is reset
through ``/proc/self/clear_refs`` first, so earlier peaks are not counted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

RESULT_PREFIX = "BENCH-RESULT "
NIFTI_SUFFIXES = (".nii.gz", ".nii")
COMMON_OPTIONS = {
    "view": "axial",
    "saving_mode": "case",
    "extraction_mode": "slice",
    "data_mode": "box",
    "progress": False,
}
MODES: dict[str, dict[str, str]] = {
    "label": {},
    "components": {"instances": "components"},
    "slice-box": {"box_scope": "slice"},
    "components-slice-box": {"instances": "components", "box_scope": "slice"},
}


def _status_kib(field: str) -> int:
    """A ``kB`` field (``VmRSS``, ``VmHWM``) of ``/proc/self/status``."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class PeakMemory:
    """Peak resident memory growth from the moment of construction."""

    def __init__(self) -> None:
        """Reset the kernel's peak counter and remember the current resident size."""
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
            self.reset = True
        except OSError:
            self.reset = False
        self.base_kib = _status_kib("VmRSS") if self.reset else _status_kib("VmHWM")

    def growth_bytes(self) -> int:
        """Peak resident size since construction minus the resident size at construction."""
        return max(0, _status_kib("VmHWM") - self.base_kib) * 1024


def prime(run: Callable[[], object]) -> None:
    """Call ``run`` until niprep's numba kernels for its data are compiled and loaded.

    A kernel missing from numba's cache is compiled in a background process while numpy
    stands in (:mod:`niprep.core.compile_aside`): a benchmark of the steady state waits
    for that compile, then loads the kernel, before it times anything.
    """
    from niprep.core.compile_aside import wait_for_compiles

    run()
    wait_for_compiles()
    run()


def case_files(folder: Path) -> list[Path]:
    """The NIfTI files of ``folder`` in sorted name order, as both implementations see them."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(NIFTI_SUFFIXES))


def _timed_runs(repeats: int, run: Callable[[], None], before: Callable[[], None]) -> list[float]:
    """Wall times of ``repeats`` calls of ``run``, each preceded by an untimed ``before``."""
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def _emptied(folder: Path) -> Callable[[], None]:
    """A callable that removes ``folder`` (the next run writes it afresh)."""
    return lambda: shutil.rmtree(folder, ignore_errors=True)


def measure_floor(folder: Path, repeats: int) -> dict[str, object]:
    """Time reading every case into a numpy array of its stored dtype."""
    import nibabel as nib
    import numpy as np

    files = case_files(folder)

    def read_all() -> None:
        for path in files:
            np.asanyarray(nib.load(path).dataobj)

    memory = PeakMemory()
    times = _timed_runs(repeats, read_all, lambda: None)
    return {"times": times, "growth_bytes": memory.growth_bytes(), "peak_reset": memory.reset}


def measure_niprep(
    folder: Path, out: Path, mode: str, warmup: Path, repeats: int
) -> dict[str, object]:
    """Time the import, a warm-up call, then ``repeats`` runs over ``folder``."""
    start = time.perf_counter()
    from niprep import extract_annotations_dataset

    import_s = time.perf_counter() - start
    options = {**COMMON_OPTIONS, **MODES[mode]}
    warm_out = out.with_name(out.name + "-warmup")
    start = time.perf_counter()
    extract_annotations_dataset(str(warmup), str(warm_out), **options)
    warmup_s = time.perf_counter() - start
    shutil.rmtree(warm_out, ignore_errors=True)
    prime(lambda: (extract_annotations_dataset(str(folder), str(out), **options),
                   shutil.rmtree(out)))

    memory = PeakMemory()
    times = _timed_runs(
        repeats,
        lambda: extract_annotations_dataset(str(folder), str(out), **options),
        _emptied(out),
    )
    return {
        "times": times,
        "growth_bytes": memory.growth_bytes(),
        "peak_reset": memory.reset,
        "import_s": import_s,
        "warmup_s": warmup_s,
    }


def measure_baseline(folder: Path, out: Path) -> dict[str, object]:
    """Time one run of the nidataset-style baseline over ``folder``."""
    from baseline import baseline_extract_annotations_dataset

    memory = PeakMemory()
    times = _timed_runs(1, lambda: baseline_extract_annotations_dataset(folder, out), _emptied(out))
    return {"times": times, "growth_bytes": memory.growth_bytes(), "peak_reset": memory.reset}


def _parse_args() -> argparse.Namespace:
    """Command line of one measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("floor", "niprep", "baseline"))
    parser.add_argument("folder", type=Path, help="folder of NIfTI masks")
    parser.add_argument("out", type=Path, nargs="?", help="output folder (niprep, baseline)")
    parser.add_argument("--mode", choices=tuple(MODES), default="label")
    parser.add_argument("--warmup", type=Path, help="folder of a tiny case for the warm-up")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.kind != "floor" and args.out is None:
        parser.error(f"{args.kind} needs an output folder")
    if args.kind == "niprep" and args.warmup is None:
        parser.error("niprep needs --warmup")
    return args


def main() -> None:
    """Run the measurement named on the command line and print its result line."""
    args = _parse_args()
    if args.kind == "floor":
        result = measure_floor(args.folder, args.repeats)
    elif args.kind == "niprep":
        result = measure_niprep(args.folder, args.out, args.mode, args.warmup, args.repeats)
    else:
        result = measure_baseline(args.folder, args.out)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
