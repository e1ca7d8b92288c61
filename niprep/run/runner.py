"""Cases in, files out: maps a task over the cases of a folder, safely.

A run first reaches its backend (:mod:`niprep.run.backends`) and makes sure the output folder
can be written (:mod:`niprep.run.output_tree`), before writing anything. Then, holding the
output folder's lock (:mod:`niprep.run.output_lock`) to the end, it:

1. finishes what a killed run left half done (:mod:`niprep.run.manifest`), clears the
   staging area and saves its config as ``.niprep/<task>-<view>.yaml``;
2. with ``resume``, skips the cases whose input, options and files are unchanged;
3. has the backend process every other case and write its files aside
   (:mod:`niprep.run.staging`);
4. moves each case's files into place as it arrives, after removing exactly the files the
   case wrote last time (the manifest lists them), never through a link; a case that
   fails keeps no file at all;
5. writes the stats and failures files, in case order whatever the backend.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from tqdm.auto import tqdm

from niprep.run.atomic import write_then_move
from niprep.run.backends import Backend, backend_for
from niprep.run.fingerprint import task_fingerprint
from niprep.run.inputs import Case
from niprep.run.manifest import CaseRecord, Manifest, Slot
from niprep.run.output_lock import OutputLock
from niprep.run.output_tree import STATE_DIR, OutputTree, prepare_output
from niprep.run.progress import Progress
from niprep.run.staging import StagedCase, describe_error, stage_case

if TYPE_CHECKING:
    from niprep.tasks.base import Task

MANIFEST_FILE = "manifest.jsonl"
LOCK_FILE = "lock"
SCRATCH_DIR = "staging"

__all__ = ["CaseResult", "RunSummary", "run"]


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
        total: annotations (or slices) of the cases in the output (done or skipped), the
            ``TOTAL_...`` row of the stats file.
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


def run(
    task: Task,
    cases: Sequence[Case],
    output_path: str | os.PathLike,
    *,
    failures_file: bool = True,
) -> RunSummary:
    """Run ``task`` over ``cases`` into ``output_path``; write stats and failures.

    Args:
        task: what to do to each case; ``task.options`` says how the run goes
            (``workers``, ``backend``, ``dask_address``, ``resume``, ``progress``,
            ``save_stats``).
        cases: the cases, in the order they are reported.
        output_path: the output folder (created if needed).
        failures_file: keep ``<view>_<task>_failures.csv`` (written when a case fails,
            removed when none does); ``False`` leaves it alone, for a caller that reports
            failures itself (``extract_annotations`` raises).

    Raises:
        ValueError: ``dask_address`` without the dask backend, or a link in the way.
        OSError: the output folder cannot be written, or (``OutputInUseError``) another
            run holds it; ``ConnectionError`` when the dask scheduler cannot be reached.
    """
    options = task.options
    with backend_for(options, len(cases), [type(task).__module__]) as backend:
        output = prepare_output(output_path)
        state = output / STATE_DIR
        with OutputLock(state / LOCK_FILE):
            scratch = state / SCRATCH_DIR
            _clear(scratch)
            scratch.mkdir()
            manifest = Manifest.open(state / MANIFEST_FILE, scratch)
            try:
                tree = OutputTree(output)
                for slot, files in manifest.unfinished().items():
                    tree.remove(files)
                    manifest.forget(slot)
                _save_config(task, cases, output, scratch)
                results, skipped = _process(task, cases, backend, tree, manifest, scratch)
                return _finish(task, results, skipped, tree, scratch, failures_file)
            finally:
                manifest.close()
                _clear(scratch)


def _clear(path: Path) -> None:
    """Remove ``path`` (a leftover staging folder, or a link or file planted there)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _slot(task: Task, case: Case) -> Slot:
    return (task.name, task.options.view, case.name)


def _process(
    task: Task,
    cases: Sequence[Case],
    backend: Backend,
    tree: OutputTree,
    manifest: Manifest,
    scratch: Path,
) -> tuple[list[CaseResult], set[int]]:
    """Skip the current cases, process the others; return results in case order and
    the indexes of the cases skipped."""
    fingerprint = task_fingerprint(task)
    results: list[CaseResult | None] = [None] * len(cases)
    todo = []
    with Progress(total=len(cases), disable=not task.options.progress, unit="case",
              desc=f"niprep {task.name} {task.options.view}") as bar:
        for index, case in enumerate(cases):
            record = _current_record(task, case, fingerprint, tree, manifest)
            if record is None:
                todo.append(index)
            else:
                results[index] = CaseResult(case.filename, record.count, tuple(record.files))
        skipped = set(range(len(cases))) - set(todo)
        bar.update(len(skipped))
        failed = 0
        work = partial(stage_case, task, str(scratch))
        for position, staged in backend.imap_unordered(work, [cases[i] for i in todo]):
            index = todo[position]
            if isinstance(staged, Exception):  # the worker died, not the case's own error
                reason = f"the worker processing it stopped: {describe_error(staged)}"
                staged = StagedCase(cases[index].filename, error=reason)
            result = _commit(staged, cases[index], task, fingerprint, tree, manifest)
            if result.error is not None:
                failed += 1
                name = result.filename if result.filename.isprintable() else ascii(result.filename)
                tqdm.write(f"niprep: {name}: {result.error}", file=sys.stderr)
            results[index] = result
            bar.set_postfix(failed=failed, skipped=len(skipped), refresh=False)
            bar.update()
    return results, skipped


def _current_record(
    task: Task, case: Case, fingerprint: str, tree: OutputTree, manifest: Manifest
) -> CaseRecord | None:
    """The case's record when ``resume`` may skip it: same input, options and files."""
    if not task.options.resume or case.name is None:
        return None
    record = manifest.records.get(_slot(task, case))
    if (
        record is None
        or record.task != fingerprint
        or record.filename != case.filename
        or record.source is None
        or not record.source.matches(case.path)
    ):
        return None
    if not all(tree.has_file(path, size) for path, size in record.files.items()):
        return None
    return record


def _commit(
    staged: StagedCase,
    case: Case,
    task: Task,
    fingerprint: str,
    tree: OutputTree,
    manifest: Manifest,
) -> CaseResult:
    """Replace the case's old files by its staged ones (or, if it failed, by nothing)."""
    if case.name is None:
        return CaseResult(staged.filename, error=staged.error)
    slot = _slot(task, case)
    old = manifest.files_of(slot)
    error = staged.error
    if error is None:
        new = [path for path, _ in staged.files]
        manifest.begin(slot, new)
        try:
            tree.remove(set(old) - set(new))
            tree.move_in(staged.folder)
        except (OSError, ValueError) as failure:
            error = describe_error(failure)
            tree.remove(set(old) | set(new))
            manifest.forget(slot)
        else:
            record = CaseRecord(staged.filename, staged.count, dict(staged.files), fingerprint,
                                staged.source)
            manifest.finish(slot, record)
    elif old:
        manifest.begin(slot, [])
        tree.remove(old)
        manifest.forget(slot)
    if staged.folder is not None:
        shutil.rmtree(staged.folder, ignore_errors=True)
    if error is not None:
        return CaseResult(staged.filename, error=error)
    return CaseResult(staged.filename, staged.count, tuple(path for path, _ in staged.files))


def _finish(
    task: Task,
    results: list[CaseResult],
    skipped: set[int],
    tree: OutputTree,
    scratch: Path,
    failures_file: bool,
) -> RunSummary:
    """Write (or remove) the stats and failures files; sum the run up."""
    done = [result for result in results if result.error is None]
    failures = tuple((r.filename, r.error) for r in results if r.error is not None)
    total = sum(result.count for result in done)
    prefix = f"{task.options.view}_{task.name}"
    stats = [(result.filename, result.count) for result in done] + [(task.total_row, total)]
    tables = {
        f"{prefix}_stats.csv": (("FILENAME", task.count_column), stats)
        if task.options.save_stats else None,
    }
    if failures_file:
        tables[f"{prefix}_failures.csv"] = (("FILENAME", "ERROR"), failures) if failures else None
    for name, table in tables.items():
        if table is None:
            tree.remove([name])  # a file from an earlier run that this one would not write
        else:
            write_then_move(_table_bytes(*table), name, scratch, move=tree.place)
    return RunSummary(
        done=len(done) - len(skipped),
        failed=len(failures),
        skipped=len(skipped),
        total=total,
        files_written=sum(len(r.files) for i, r in enumerate(results) if i not in skipped
                          and r.error is None),
        failures=failures,
    )


class _Lines(list):
    """The lines a ``csv.writer`` writes, each ending in ``\\n``.

    The writer quotes a field holding a line break only when that character is in its
    ``lineterminator``, so it writes ``\\r\\n`` (quoting ``\\r`` and ``\\n`` alike) and the
    two characters that end each record become ``\\n``.
    """

    def write(self, record: str) -> None:
        self.append(record[:-2] + "\n")


def _table_bytes(header: tuple[str, str], rows: Sequence[tuple[str, object]]) -> bytes:
    """The stats or failures file: standard CSV, UTF-8, lines ending in ``\\n``."""
    lines = _Lines()
    writer = csv.writer(lines, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    # file names that are not UTF-8 on disk are written with backslash escapes
    return "".join(lines).encode("utf-8", "backslashreplace")


def _save_config(task: Task, cases: Sequence[Case], output: Path, scratch: Path) -> None:
    """Write ``.niprep/<task>-<view>.yaml``: every option of the run, paths absolute."""
    folders = sorted({str(case.path.parent.absolute()) for case in cases})
    options = json.loads(json.dumps(dict(task.options.values)))  # tuples to lists
    config = {
        "task": task.name,
        "nii_folder": folders[0] if len(folders) == 1 else folders,
        "output_path": str(output),
        **options,
    }
    write_then_move(yaml.safe_dump(config, sort_keys=False).encode("utf-8"),
                    output / STATE_DIR / f"{task.name}-{task.options.view}.yaml", scratch)
