"""``make bench``: the dataset check's time against the annotation extraction alone.

On the generated datasets of ``benchmarks/synthetic_masks.py`` (masks only), it times
``niprep.check_dataset(None, masks, out)`` and ``niprep.extract_annotations_dataset`` (axial,
case, slice, box: the defaults of ``bench_extract.py``), one worker each, in this process
after one warm-up call of each on the worked example; times are the best of ``--repeats``,
taken in turns.
The target, printed as PASS/FAIL: the check takes at most 1.5x the extraction, since it
reads the same volumes once. The exit status is 0 whatever the verdict: this is a report.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from synthetic_masks import (
    dataset_arguments,
    dataset_specs,
    ensure_dataset,
    ensure_worked_example,
)

import niprep

TARGET_RATIO = 1.5
EXTRACT_OPTIONS = {"view": "axial", "saving_mode": "case", "extraction_mode": "slice",
                   "data_mode": "box", "progress": False}


def wall_time(run: Callable[[Path], object], scratch: Path) -> float:
    """The wall time of ``run(output)`` into an empty folder."""
    shutil.rmtree(scratch, ignore_errors=True)
    start = time.perf_counter()
    run(scratch)
    return time.perf_counter() - start


def main() -> None:
    arguments = dataset_arguments(__doc__.splitlines()[0], repeats=5).parse_args()
    example = ensure_worked_example(arguments.cache)
    with tempfile.TemporaryDirectory(prefix="niprep-bench-check-") as temporary:
        scratch = Path(temporary) / "out"

        def extract(folder: Path) -> Callable[[Path], object]:
            return lambda out: niprep.extract_annotations_dataset(folder, out, **EXTRACT_OPTIONS)

        def check(folder: Path) -> Callable[[Path], object]:
            return lambda out: niprep.check_dataset(None, folder, out, progress=False)

        wall_time(extract(example), scratch)  # warm-up: imports, numba caches
        wall_time(check(example), scratch)
        print(f"{'dataset':<14} {'extract s':>10} {'check s':>10} {'ratio':>7}  target")
        for spec in dataset_specs(arguments.quick):
            folder = ensure_dataset(spec, arguments.cache)
            # taken in turns, so that a busy machine slows both alike
            times = [(wall_time(extract(folder), scratch), wall_time(check(folder), scratch))
                     for _ in range(arguments.repeats)]
            extracted, checked = (min(column) for column in zip(*times))
            ratio = checked / extracted
            verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
            print(f"{spec.name:<14} {extracted:>10.3f} {checked:>10.3f} {ratio:>7.2f}  "
                  f"{verdict} (<= {TARGET_RATIO}x)", flush=True)


if __name__ == "__main__":
    main()
