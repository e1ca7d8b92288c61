"""Cases in, files out: maps a task over the cases of a folder, safely.

Each case's files are written aside, then moved in; a case that fails leaves nothing
and is listed in the failures file. Stats are written once every case is done.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tqdm.auto import tqdm

from niprep.config import ExtractOptions
from niprep.inputs import Case
from niprep.tasks import CaseOutput

STATE_DIR = ".niprep"


class Task(Protocol):
    name: str
    count_column: str
    total_row: str
    options: ExtractOptions

    def __call__(self, case: Case) -> CaseOutput: ...


@dataclass(frozen=True)
class CaseResult:
    """How one case went.

    Args:
        filename: the input file name.
        count: annotations (or slices) written.
        files: paths written, relative to the output folder.
        error: the one-line reason of a failure, else ``None``.
    """

    filename: str
    count: int = 0
    files: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class RunSummary:
    """What a run did; ``int(summary)`` is the total count (annotations or slices).

    Args:
        done: cases written.
        failed: cases that failed.
        skipped: cases left as they were (``resume``).
        total: annotations (or slices) of the cases done.
        files_written: files written.
        failures: ``(file name, reason)`` of each failed case.
    """

    done: int = 0
    failed: int = 0
    skipped: int = 0
    total: int = 0
    files_written: int = 0
    failures: tuple[tuple[str, str], ...] = field(default=())

    def __int__(self) -> int:
        return self.total


def describe_error(error: BaseException) -> str:
    """One line saying what went wrong, without a traceback."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, (ValueError, OSError)) else f"{type(error).__name__}: {text}"


def _write_case(output: Path, produced: CaseOutput) -> tuple[str, ...]:
    """Write a case's files aside in the output folder, then move each into place."""
    staging_root = output / STATE_DIR
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=staging_root))
    try:
        for index, (_, content) in enumerate(produced.files):
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(staging / str(index), mode, newline="" if mode == "w" else None) as handle:
                handle.write(content)
        for index, (relative, _) in enumerate(produced.files):
            target = output / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / str(index), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tuple(relative for relative, _ in produced.files)


def run_case(task: Task, case: Case, output: Path) -> CaseResult:
    """Process one case and write its files; any error becomes a failed result."""
    try:
        if case.name is None:
            raise ValueError(case.problem)
        produced = task(case)
        return CaseResult(case.filename, produced.count, _write_case(output, produced))
    except Exception as error:  # one bad case must cost exactly that case
        return CaseResult(case.filename, error=describe_error(error))


def _write_table(path: Path, header: str, rows: Sequence[tuple[str, object]]) -> None:
    lines = [header] + [f"{_csv_field(name)},{_csv_field(str(value))}" for name, value in rows]
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text("\n".join(lines) + "\n", newline="")
    os.replace(staged, path)


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def run(task: Task, cases: Sequence[Case], output_path: str | os.PathLike) -> RunSummary:
    """Run ``task`` over ``cases`` into ``output_path``; write stats and failures.

    Args:
        task: what to do to each case.
        cases: the cases, in the order they are reported.
        output_path: the output folder (created if needed).
    """
    options = task.options
    output = Path(output_path)
    output.mkdir(parents=True, exist_ok=True)
    results = []
    with tqdm(total=len(cases), disable=not options.progress, unit="case",
              desc=f"niprep {task.name}") as bar:
        for case in cases:
            result = run_case(task, case, output)
            if result.error is not None:
                tqdm.write(f"niprep: {result.filename}: {result.error}", file=sys.stderr)
            results.append(result)
            bar.update()
            bar.set_postfix(failed=sum(r.error is not None for r in results))
    done = [r for r in results if r.error is None]
    failures = tuple((r.filename, r.error) for r in results if r.error is not None)
    total = sum(r.count for r in done)
    view = options.view
    if options.save_stats:
        _write_table(output / f"{view}_{task.name}_stats.csv", f"FILENAME,{task.count_column}",
                     [(r.filename, r.count) for r in done] + [(task.total_row, total)])
    failures_file = output / f"{view}_{task.name}_failures.csv"
    if failures:
        _write_table(failures_file, "FILENAME,ERROR", failures)
    else:
        failures_file.unlink(missing_ok=True)
    return RunSummary(
        done=len(done),
        failed=len(failures),
        total=total,
        files_written=sum(len(r.files) for r in done),
        failures=failures,
    )
