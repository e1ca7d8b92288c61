"""How soon niprep answers on a fresh install: import, first calls, first pool, the command.

Every measurement runs in a fresh interpreter whose numba cache is a new, empty temporary
folder (``NUMBA_CACHE_DIR``), as on a machine that never ran niprep:

* ``import``: ``from niprep import extract_annotations_dataset``;
* ``first call``: ``extract_annotations_dataset`` on ``examples/sample_masks`` (3 cases
  of 64 x 64 x 24), the import left out, for the masks stored as uint8, int16 and float32
  and with ``orientation="RAS"``; target <= 1.0 s;
* ``first pool call``: the same with ``workers=2, backend="process"``, minus the same call
  made again in that process; target <= 1.0 s;
* ``command``: ``niprep nii_folder=... output_path=...`` end to end (interpreter start
  included), against a bare ``python -c "from niprep import ..."``, best of two runs
  each; target <= 1.5 s more. Their CPU times are printed too: on a busy machine they
  say more than wall times.

A child waits, after its timings, for the kernels it had compiled in the background, so
that compiling never slows the next measurement; that wait is printed as ``compiled
aside in``. Prints each figure with its target and PASS/FAIL; exits 1 when one fails.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_masks"
RESULT = "STARTUP-RESULT "
IMPORT_ONLY = "from niprep import extract_annotations_dataset"
COMMAND = "import sys; from niprep.cli import main; sys.argv[0] = 'niprep'; main()"


def child(folder: str, options: dict) -> None:
    """Time the import, a first and a second call in this (fresh) process; print them."""
    start = time.perf_counter()
    from niprep import extract_annotations_dataset

    imported = time.perf_counter()
    times = []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as out:
            begin = time.perf_counter()
            extract_annotations_dataset(folder, out, progress=False, **options)
            times.append(time.perf_counter() - begin)
    from niprep.core.compile_aside import wait_for_compiles

    begin = time.perf_counter()
    wait_for_compiles()
    print(RESULT + json.dumps({"import": imported - start, "first": times[0],
                               "again": times[1], "aside": time.perf_counter() - begin}))


def fresh_env(cache: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": path}


def measure(folder: Path, **options: object) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), json.dumps(options)],
            env=fresh_env(cache), capture_output=True, text=True, check=True,
        )
    line = next(line for line in done.stdout.splitlines() if line.startswith(RESULT))
    return json.loads(line[len(RESULT):])


def wall(arguments: list[str], runs: int = 2) -> tuple[float, float]:
    """Seconds a fresh interpreter takes to run ``arguments`` with an empty numba cache,
    and the CPU seconds it uses, best of ``runs`` (then the wait for what it left
    compiling in the background is not counted)."""
    best = (float("inf"), float("inf"))
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, *arguments], env=fresh_env(cache), check=True,
                           capture_output=True)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            marker = f"NUMBA_CACHE_DIR={cache}\0".encode()
            while any(marker in environ for environ in _environments()):
                time.sleep(0.2)
        best = (min(best[0], seconds), min(best[1], cpu))
    return best


def _environments() -> list[bytes]:
    """The environment of every process of this user (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            found.append((entry / "environ").read_bytes() if entry.name.isdigit() else b"")
        except OSError:
            continue
    return found


def recast(folder: Path, dtype: str) -> Path:
    """The sample's masks stored as ``dtype`` in ``folder``."""
    import nibabel as nib
    import numpy as np

    folder.mkdir()
    for path in sorted(SAMPLE.glob("*.nii.gz")):
        image = nib.load(path)
        data = np.asanyarray(image.dataobj).astype(dtype)
        nib.save(nib.Nifti1Image(data, image.affine), folder / path.name)
    return folder


def main() -> None:
    rows: list[tuple[str, float, float | None]] = []  # (what, seconds, target)
    with tempfile.TemporaryDirectory() as scratch:
        folders = {"uint8": SAMPLE}
        for dtype in ("int16", "float32"):
            folders[dtype] = recast(Path(scratch) / dtype, dtype)
        imports = []
        for name, folder in folders.items():
            found = measure(folder)
            imports.append(found["import"])
            rows.append((f"first call, {name} masks", found["first"], 1.0))
            rows.append((f"  same call again, {name}", found["again"], None))
            rows.append((f"  kernel compiled aside in ({name})", found["aside"], None))
        found = measure(SAMPLE, orientation="RAS")
        rows.append(('first call, orientation="RAS"', found["first"], 1.0))
        found = measure(SAMPLE, workers=2, backend="process")
        rows.append(("first pool call (workers=2) - same call again",
                     found["first"] - found["again"], 1.0))
        rows.append(("  first pool call", found["first"], None))
        rows.append(("  same pool call again", found["again"], None))
        bare = wall(["-c", IMPORT_ONLY])
        out = Path(scratch) / "out"
        command = wall(["-c", COMMAND, f"nii_folder={SAMPLE}", f"output_path={out}"])
        pool = wall(["-c", COMMAND, f"nii_folder={SAMPLE}", f"output_path={out}-2",
                     "workers=2"])
    print(f"import (in-process, best of {len(imports)}): {min(imports):.2f} s; "
          f"python + import: {bare[0]:.2f} s ({bare[1]:.2f} s CPU); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    rows.append(("niprep command - (python + import)", command[0] - bare[0], 1.5))
    rows.append(("  niprep command end to end", command[0], None))
    rows.append(("  its CPU time - that of python + import", command[1] - bare[1], None))
    rows.append(("niprep command workers=2 - (python + import)", pool[0] - bare[0], 1.5))
    failed = False
    print(f"{'measurement':<48} {'seconds':>8} {'target':>8}")
    for what, seconds, target in rows:
        verdict = ""
        if target is not None:
            verdict = "PASS" if seconds <= target else "FAIL"
            failed |= seconds > target
        shown = f"<= {target:.1f}" if target is not None else ""
        print(f"{what:<48} {seconds:8.2f} {shown:>8} {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], json.loads(sys.argv[3]))
    else:
        main()
