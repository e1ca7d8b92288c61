"""How niprep's runner scales: one dataset, one worker against two, local processes and dask.

The same generated dataset (``synthetic_masks.py``: dense multi-organ masks, 117 labels,
cached) goes through ``extract_annotations_dataset`` (axial, case, slice, box; ``--mode
components``, the default, splits labels into connected components, the CPU-heavy mode;
``--mode label`` is the light default of the API) with:

* ``serial``: ``workers=1``, after warm-up runs (imports, the numba kernels compiled and
  loaded: :func:`measure.prime`);
* ``process``: ``workers=2``, a pool of two local processes started by the call (forked
  from this process, with its imports; a fork server where this process runs threads);
* ``dask local``: ``backend="dask"``, ``workers=2``, a 2-worker ``LocalCluster`` started
  by the call, startup included;
* ``dask cluster``: ``backend="dask"`` against a 2-worker ``LocalCluster`` started
  beforehand (``dask_address``): the first run is the one whose workers import niprep,
  the best is the steady state of a cluster.

It prints each wall time and its speed-up over ``serial``, the CPU time the calling
process itself spent (``parent CPU``: receiving results, moving files into place, the
manifest, progress; the workers' time not counted) as a fraction of the serial wall time
(target <= 5% for the process pool: the parent must not cap the workers; the serial run
does the work itself, the local cluster starts it; a dask client spends 1.5-4 ms of its
own per task, futures and messages, which this prints but does not judge), and checks
that every output tree is byte-identical to the serial one. On a machine with fewer than
two free cores the speed-ups say so; this is a report, the exit status is 0
unless the outputs differ.

    python benchmarks/bench_scaling.py [--cases 16] [--mode components] [--repeats 2] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from measure import prime
from synthetic_masks import DEFAULT_CACHE, DatasetSpec, ensure_dataset, ensure_worked_example

OPTIONS = dict(view="axial", saving_mode="case", extraction_mode="slice", data_mode="box",
               save_stats=True, progress=False)


MODES = {"components": dict(instances="components"), "label": {}}


def scaling_spec(cases: int, quick: bool) -> DatasetSpec:
    """Dense masks: ``cases`` volumes of 384 x 384 x 120 (``quick``: 192 x 192 x 60)."""
    shape = (192, 192, 60) if quick else (384, 384, 120)
    name = f"scaling-dense-{cases}{'-quick' if quick else ''}"
    return DatasetSpec(name, "dense", shape, cases, 117, 4000, (1.0, 1.0, 1.5))


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (``.niprep`` left out) by relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".niprep" not in path.relative_to(folder).parts
    }


def timed(run: Callable[[Path], object], out: Path, repeats: int) -> list[tuple[float, float]]:
    """``(wall time, this process's CPU time)`` of ``repeats`` runs, each into an emptied
    ``out``."""
    times = []
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        start, cpu = time.perf_counter(), time.process_time()
        run(out)
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def main() -> None:
    """Measure every configuration and print times, speed-ups and the identity check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=16)
    parser.add_argument("--mode", choices=tuple(MODES), default="components")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smaller volumes")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()

    from distributed import LocalCluster

    from niprep import extract_annotations_dataset as extract

    spec = scaling_spec(args.cases, args.quick)
    masks = ensure_dataset(spec, args.cache)
    outputs = args.cache / "out-scaling"
    mode = MODES[args.mode]
    extract(ensure_worked_example(args.cache), outputs / "warmup", **OPTIONS, **mode)
    prime(lambda: (extract(masks, outputs / "primed", **OPTIONS, **mode),
                   shutil.rmtree(outputs / "primed")))
    print(f"{spec.n_cases} cases of {spec.shape} uint8 in {masks}, mode {args.mode}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    def api(**options: object) -> Callable[[Path], object]:
        return lambda out: extract(masks, out, **OPTIONS, **mode, **options)

    results: dict[str, list[tuple[float, float]]] = {}
    results["serial (workers=1)"] = timed(api(workers=1), outputs / "serial", args.repeats)
    results["process (workers=2)"] = timed(api(workers=2, backend="process"),
                                           outputs / "process", args.repeats)
    results["dask local (workers=2)"] = timed(api(workers=2, backend="dask"),
                                              outputs / "dask-local", args.repeats)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        on_cluster = api(backend="dask", dask_address=cluster.scheduler_address)
        # the first run is the one whose workers import niprep
        results["dask cluster (2 workers)"] = timed(on_cluster, outputs / "dask-cluster",
                                                    args.repeats + 1)

    serial = min(wall for wall, _ in results["serial (workers=1)"])
    print(f"{'configuration':<26} {'first s':>8} {'best s':>8} {'speed-up':>9} "
          f"{'parent CPU / serial wall':>25}")
    for name, times in results.items():
        best = min(wall for wall, _ in times)
        parent = min(cpu for _, cpu in times) / serial
        judged = name.startswith("process")
        verdict = ("PASS" if parent <= 0.05 else "FAIL") if judged else ""
        print(f"{name:<26} {times[0][0]:8.2f} {best:8.2f} {serial / best:8.2f}x "
              f"{parent:19.1%} {verdict}")

    reference = tree_bytes(outputs / "serial")
    different = [name for name in ("process", "dask-local", "dask-cluster")
                 if tree_bytes(outputs / name) != reference]
    print("outputs byte-identical to serial:", "yes" if not different else f"NO: {different}")
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
