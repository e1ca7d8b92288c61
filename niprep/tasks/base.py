"""What every task shares: the Task protocol the runner maps, and a case's output files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Protocol

from niprep.run.inputs import Case


@dataclass(frozen=True)
class CaseOutput:
    """The files one case produces, not yet on disk.

    Args:
        count: what the stats file counts for the case (annotations, slices).
        files: ``(path relative to the output folder, text or bytes)`` of every file, in
            order; an iterator is consumed once, as the files are written aside, so a
            case's files need not all be in memory at once.
    """

    count: int
    files: Iterable[tuple[str, str | bytes]]


class Task(Protocol):
    """What the runner maps over the cases: a picklable callable with a name.

    Attributes:
        name: the task's name in output file names (``<view>_<name>_stats.csv``).
        count_column: the stats file's column of per-case counts.
        total_row: the stats file's total row.
        options: the validated options of the run.
    """

    name: str
    count_column: str
    total_row: str
    options: Any

    def __call__(self, case: Case) -> CaseOutput: ...


def case_folder(options: Any, case: str) -> PurePosixPath:
    """Where a case's files go, relative to the output folder.

    Args:
        options: the validated options (``saving_mode``, ``view``).
        case: the case name.
    """
    if options.saving_mode == "case":
        return PurePosixPath(case, options.view)
    return PurePosixPath(options.view)
