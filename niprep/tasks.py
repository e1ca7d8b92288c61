"""What is done to one case: the annotation task (CSV files) behind the runner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from niprep.config import ExtractOptions
from niprep.inputs import Case
from niprep.pipeline import annotate, render


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


def case_folder(options: ExtractOptions, case: str) -> PurePosixPath:
    """Where a case's files go, relative to the output folder (SPEC section 6).

    Args:
        options: the validated options (``saving_mode``, ``view``).
        case: the case name.
    """
    if options.saving_mode == "case":
        return PurePosixPath(case, options.view)
    return PurePosixPath(options.view)


@dataclass(frozen=True)
class AnnotationTask:
    """Extract the annotation CSVs of each case (SPEC sections 5 and 6).

    Args:
        options: the validated options of the run.
        flat: write a case's files straight into the output folder (``extract_annotations``)
            instead of the ``saving_mode`` layout.
    """

    options: ExtractOptions
    flat: bool = False

    name = "annotations"
    count_column = "NUM_ANNOTATIONS"
    total_row = "TOTAL_ANNOTATIONS"

    def folder(self, case: str) -> PurePosixPath:
        """Where a case's files go, relative to the output folder."""
        return PurePosixPath() if self.flat else case_folder(self.options, case)

    def __call__(self, case: Case) -> CaseOutput:
        annotations = annotate(case.path, self.options)
        folder = self.folder(case.name)
        files = [(str(folder / name), text) for name, text in render(annotations, case.name,
                                                                     self.options)]
        return CaseOutput(count=len(annotations), files=files)
