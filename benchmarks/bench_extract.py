"""``make bench``: niprep's annotation extraction against the read floor and the baseline.

For every generated dataset (``benchmarks/synthetic_masks.py``: ``sparse`` lesion masks and
``dense`` multi-organ masks) it measures, each in a fresh process (``measure.py``):

* the read floor: ``np.asanyarray(nibabel.load(path).dataobj)`` for every case;
* the baseline (``baseline.py``, nidataset's per-label scan of a float64 copy), once;
* niprep's ``extract_annotations_dataset`` with ``view="axial"``, ``saving_mode="case"``,
  ``extraction_mode="slice"``, ``data_mode="box"``, one worker, in four modes: ``label``
  (the defaults), ``components`` (``instances="components"``), ``slice-box``
  (``box_scope="slice"``) and ``components-slice-box`` (both), timed after its import and
  one warm-up call.

Times are the best of ``--repeats`` runs; peak memory growth is over the resident size
after imports and warm-up, also given as a multiple of one stored volume. It also times
the start-up: ``niprep --help``, ``import niprep`` and importing the extraction function,
and lists the heavy modules that ``niprep --help`` imports.

The targets are judged from this one run and printed as PASS/FAIL, never as timed tests:

* T1 ``label``: at least 100x faster than the baseline;
* T2 ``label``: at most 1.0x the read floor;
* T3 ``label``: peak memory growth at most 2x one stored volume;
* T4 the other modes: at most 3.0x the read floor;
* T6 ``components``: at most 1.5x the read floor, peak memory growth at most 2x one
  stored volume;
* T5 ``niprep --help`` imports none of the heavy modules;
* cases: niprep failed no case (no ``axial_annotations_failures.csv``), so its time counts;
* out: niprep's CSV tree is byte-identical to the baseline's (``label``; also
  ``components`` on the sparse data, whose every label is one connected component).

The exit status is 0 whatever the verdicts: this is a report. ``--quick`` uses smaller
volumes for a smoke run. Outputs are left in ``<cache>/out/`` for inspection.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from baseline import check_worked_example
from measure import MODES, RESULT_PREFIX
from synthetic_masks import (
    DatasetSpec,
    dataset_arguments,
    dataset_specs,
    ensure_dataset,
    ensure_worked_example,
)

HERE = Path(__file__).resolve().parent
MEASURE = HERE / "measure.py"
CHILD_TIMEOUT_S = 1800
MIB = 1024 * 1024

TARGET_SPEEDUP = 100.0
TARGET_FLOOR_LABEL = 1.0
TARGET_FLOOR_COMPONENTS = 1.5
TARGET_FLOOR_OTHER = 3.0
TARGET_MEMORY_VOLUMES = 2.0
SLOW_FIRST_RUN = 3.0
HEAVY_MODULES = ("torch", "monai", "numba", "llvmlite", "dask", "distributed", "pandas", "scipy")

HELP_VIA_ENTRY_POINT = (
    "import sys; from importlib.metadata import entry_points; "
    "(ep,) = entry_points(group='console_scripts', name='niprep'); "
    "sys.argv = ['niprep', '--help']; sys.exit(ep.load()())"
)
IMPORTTIME_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)")
TABLE_HEADER = ("dataset", "mode", "niprep s", "baseline s", "floor s", "vs base", "/ floor")
TABLE_HEADER += ("peak MiB", "x vol", "identical", "targets")


class ChildError(RuntimeError):
    """A measurement process failed; the message is the tail of its stderr."""


@dataclass
class Measurement:
    """Result of one measurement process."""

    times: list[float]
    growth_bytes: int
    peak_reset: bool
    import_s: float | None = None
    warmup_s: float | None = None

    @property
    def best(self) -> float:
        """Best wall time of the repeats, in seconds."""
        return min(self.times)


def run_measure(kind: str, folder: Path, *args: str) -> Measurement:
    """Run ``measure.py kind folder args...`` in a fresh interpreter and parse its result."""
    command = [sys.executable, str(MEASURE), kind, str(folder), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return Measurement(**json.loads(line.removeprefix(RESULT_PREFIX)))
    tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    raise ChildError(tail)


def diff_trees(expected: Path, actual: Path) -> str | None:
    """None when both trees hold the same files with the same bytes, else the first difference.

    Hidden top-level entries (niprep's ``.niprep/`` bookkeeping) are ignored.
    """

    def files(root: Path) -> set[Path]:
        found = {p.relative_to(root) for p in root.rglob("*") if p.is_file()}
        return {p for p in found if not p.parts[0].startswith(".")}

    if not actual.is_dir():
        return f"{actual} missing"
    left, right = files(expected), files(actual)
    if left != right:
        only = sorted(left ^ right)
        return f"{len(only)} file(s) in only one tree, e.g. {only[0]}"
    for rel in sorted(left):
        if (expected / rel).read_bytes() != (actual / rel).read_bytes():
            return f"{rel} differs"
    return None


def failed_cases(output: Path) -> list[str]:
    """Rows of niprep's ``axial_annotations_failures.csv``, if it wrote one."""
    report = output / "axial_annotations_failures.csv"
    return report.read_text().splitlines()[1:] if report.is_file() else []


@dataclass
class Row:
    """One dataset x mode line of the report."""

    spec: DatasetSpec
    mode: str
    floor: Measurement | None
    baseline: Measurement | None
    niprep: Measurement | None = None
    difference: str | None = None
    compared: bool = False
    case_failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def speedup(self) -> float | None:
        """Baseline time over niprep time."""
        if self.niprep and self.baseline:
            return self.baseline.best / self.niprep.best
        return None

    @property
    def floor_ratio(self) -> float | None:
        """niprep time over read-floor time."""
        if self.niprep and self.floor:
            return self.niprep.best / self.floor.best
        return None

    @property
    def growth_volumes(self) -> float | None:
        """niprep's peak memory growth as a multiple of one stored volume."""
        return self.niprep.growth_bytes / self.spec.volume_bytes if self.niprep else None

    def checks(self) -> list[tuple[str, bool | None]]:
        """``(target, passed)`` for the targets this row is judged on (None: not measured)."""

        def at_least(value: float | None, bound: float) -> bool | None:
            return None if value is None else value >= bound

        def at_most(value: float | None, bound: float) -> bool | None:
            return None if value is None else value <= bound

        if self.mode == "label":
            checks = [
                ("T1", at_least(self.speedup, TARGET_SPEEDUP)),
                ("T2", at_most(self.floor_ratio, TARGET_FLOOR_LABEL)),
                ("T3", at_most(self.growth_volumes, TARGET_MEMORY_VOLUMES)),
            ]
        elif self.mode == "components":
            checks = [
                ("T6", at_most(self.floor_ratio, TARGET_FLOOR_COMPONENTS)),
                ("T6", at_most(self.growth_volumes, TARGET_MEMORY_VOLUMES)),
            ]
        else:
            checks = [("T4", at_most(self.floor_ratio, TARGET_FLOOR_OTHER))]
        checks.append(("cases", not self.case_failures if self.niprep else None))
        if self.compared:
            checks.append(("out", self.difference is None if self.niprep else None))
        return checks


def verdict(passed: bool | None) -> str:
    """PASS, FAIL, or ``n/a`` when the value could not be measured."""
    return "n/a" if passed is None else ("PASS" if passed else "FAIL")


def _try(measure: str, errors: list[str], *args: object) -> Measurement | None:
    """``run_measure(measure, *args)``, or None with the failure appended to ``errors``."""
    try:
        return run_measure(measure, *(str(a) for a in args))
    except (ChildError, subprocess.TimeoutExpired) as error:
        errors.append(f"{measure}: {error}")
        return None


def bench_dataset(spec: DatasetSpec, cache: Path, warmup: Path, repeats: int) -> list[Row]:
    """Floor, baseline and every niprep mode on one dataset."""
    folder = ensure_dataset(spec, cache)
    out = cache / "out" / spec.name
    shutil.rmtree(out, ignore_errors=True)
    errors: list[str] = []
    print(f"[{spec.name}] read floor ...", flush=True)
    floor = _try("floor", errors, folder, "--repeats", repeats)
    print(f"[{spec.name}] baseline (once) ...", flush=True)
    baseline = _try("baseline", errors, folder, out / "baseline")
    rows = []
    for mode in MODES:
        print(f"[{spec.name}] niprep {mode} ...", flush=True)
        row = Row(spec, mode, floor, baseline)
        options = ("--mode", mode, "--warmup", warmup, "--repeats", repeats)
        row.niprep = _try("niprep", row.errors, folder, out / mode, *options)
        row.compared = baseline is not None and (
            mode == "label" or (mode == "components" and spec.kind == "sparse")
        )
        if row.niprep:
            row.case_failures = failed_cases(out / mode)
        if row.compared and row.niprep:
            row.difference = diff_trees(out / "baseline", out / mode)
        rows.append(row)
    rows[0].errors[:0] = errors
    return rows


def best_wall_time(command: list[str], repeats: int, cwd: Path) -> float | str:
    """Best wall time of ``command`` over ``repeats`` runs, or its error line if it fails."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            return (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return min(times)


def help_imports(cwd: Path) -> tuple[dict[str, float], str | None]:
    """Top-level modules ``niprep --help`` imports, with cumulative seconds; or an error."""
    command = [sys.executable, "-X", "importtime", "-c", HELP_VIA_ENTRY_POINT]
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    modules: dict[str, float] = {}
    for match in IMPORTTIME_LINE.finditer(done.stderr):
        cumulative_us, indent, name = match.groups()
        if len(indent) == 1:
            top = name.split(".")[0]
            modules[top] = modules.get(top, 0.0) + int(cumulative_us) / 1e6
    if done.returncode != 0:
        return modules, (done.stderr.strip().splitlines() or ["failed"])[-1]
    return modules, None


def startup_report(repeats: int, cwd: Path) -> tuple[list[str], bool | None]:
    """Lines describing the start-up cost, and the T5 verdict."""
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        'python -c "import niprep"': [python, "-c", "import niprep"],
        'python -c "from niprep import extract_annotations_dataset"': [
            python,
            "-c",
            "from niprep import extract_annotations_dataset",
        ],
        "niprep --help": [str(Path(python).with_name("niprep")), "--help"],
    }
    lines = [f"start-up (best of {repeats} wall times, each a fresh process):"]
    for label, command in commands.items():
        result = best_wall_time(command, repeats, cwd)
        shown = f"{result:8.3f} s" if isinstance(result, float) else f"failed: {result}"
        lines.append(f"  {label:<60} {shown}")
    modules, error = help_imports(cwd)
    heavy = sorted(m for m in modules if m in HEAVY_MODULES)
    slowest = sorted(modules.items(), key=lambda item: -item[1])[:6]
    if not error:
        listed = ", ".join(f"{m} {s:.3f} s" for m, s in slowest)
        lines.append(f"  niprep --help slowest imports: {listed}")
    passed = None if error else not heavy
    detail = error or (f"heavy modules imported: {', '.join(heavy)}" if heavy else "none heavy")
    lines.append(
        f"  T5 niprep --help imports none of {', '.join(HEAVY_MODULES)}: "
        f"{verdict(passed)} ({detail})"
    )
    return lines, passed


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    """``value`` formatted with ``spec``, or ``-`` when missing."""
    return "-" if value is None else f"{value:{spec}}{suffix}"


def identical_cell(row: Row) -> str:
    """``yes``/``NO`` against the baseline, ``-`` when not compared, ``n/a`` when not run."""
    if not row.compared:
        return "-"
    if not row.niprep:
        return "n/a"
    return "yes" if row.difference is None else "NO"


def table_cells(row: Row) -> tuple[str, ...]:
    """The printed cells of one row."""
    niprep, baseline, floor = row.niprep, row.baseline, row.floor
    return (
        row.spec.name,
        row.mode,
        _fmt(niprep.best if niprep else None, ".3f"),
        _fmt(baseline.best if baseline else None, ".2f"),
        _fmt(floor.best if floor else None, ".3f"),
        _fmt(row.speedup, ".0f", "x"),
        _fmt(row.floor_ratio, ".2f", "x"),
        _fmt(niprep.growth_bytes / MIB if niprep else None, ".1f"),
        _fmt(row.growth_volumes, ".2f", "x"),
        identical_cell(row),
        " ".join(f"{name} {verdict(passed)}" for name, passed in row.checks()),
    )


def format_table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned text table with a header rule."""
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def reference_lines(rows: list[Row]) -> list[str]:
    """Per dataset: the volume size, floor and baseline memory, niprep start-up, errors."""
    lines = []
    for row in rows:
        spec = row.spec
        if row.mode == "label":
            lines.append(
                f"{spec.name}: {spec.n_cases} case(s) of {spec.shape} uint8, "
                f"one volume {spec.volume_bytes / MIB:.1f} MiB"
            )
            for name, m in (("read floor", row.floor), ("baseline", row.baseline)):
                if m:
                    lines.append(
                        f"  {name} peak growth {m.growth_bytes / MIB:.1f} MiB "
                        f"({m.growth_bytes / spec.volume_bytes:.2f}x volume)"
                    )
        if row.niprep:
            lines.append(
                f"  niprep {row.mode}: import {row.niprep.import_s:.3f} s, "
                f"warm-up call {row.niprep.warmup_s:.3f} s, "
                f"runs {', '.join(f'{t:.3f}' for t in row.niprep.times)} s"
            )
            if row.niprep.times[0] > SLOW_FIRST_RUN * row.niprep.best:
                lines.append(
                    f"  niprep {row.mode}: first run {row.niprep.times[0]:.1f} s, "
                    f"over {SLOW_FIRST_RUN:.0f}x the best: work the warm-up did not cover "
                    "(JIT compilation of another specialization?)"
                )
        if row.case_failures:
            lines.append(
                f"  niprep {row.mode}: {len(row.case_failures)} case(s) failed, "
                f"e.g. {row.case_failures[0]}"
            )
        if row.difference:
            lines.append(f"  niprep {row.mode} output differs from the baseline: {row.difference}")
        lines.extend(f"  {row.mode}: {error}" for error in row.errors)
    measured = [m for row in rows for m in (row.floor, row.baseline, row.niprep) if m]
    if not all(m.peak_reset for m in measured):
        lines.append("note: the peak-RSS counter could not be reset; growth is over the")
        lines.append("      highest of the post-import resident size and the import-time peak")
    return lines


def failures(rows: list[Row], t5: bool | None) -> list[str]:
    """One line per target that failed or could not be measured."""
    found = [
        f"{verdict(passed)}: {row.spec.name} {row.mode} {name}"
        for row in rows
        for name, passed in row.checks()
        if passed is not True
    ]
    if t5 is not True:
        found.append(f"{verdict(t5)}: T5 start-up")
    return found


def _parse_args() -> argparse.Namespace:
    """Command-line options."""
    return dataset_arguments(__doc__.splitlines()[0], repeats=3).parse_args()


def main() -> None:
    """Run every measurement and print the report; always exit 0."""
    args = _parse_args()
    check_worked_example()
    print("baseline reproduces the worked example (axial, slice, box): ok", flush=True)
    warmup = ensure_worked_example(args.cache)
    rows = [
        row
        for spec in dataset_specs(args.quick)
        for row in bench_dataset(spec, args.cache, warmup, args.repeats)
    ]
    startup, t5 = startup_report(args.repeats, args.cache)
    print()
    print(format_table([TABLE_HEADER, *(table_cells(row) for row in rows)]))
    print()
    print("\n".join(reference_lines(rows)))
    print()
    print("\n".join(startup))
    print()
    if args.quick:
        print("quick run: the volumes are too small for the targets to mean much\n")
    failed = failures(rows, t5)
    print("\n".join(failed) if failed else "all targets PASS")


if __name__ == "__main__":
    main()
