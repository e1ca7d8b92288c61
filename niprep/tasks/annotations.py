"""The annotation task: a mask case becomes its CSV files of boxes, centers or radii."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from niprep.core.annotations import Annotations
from niprep.core.pipeline import annotate
from niprep.options import Settings
from niprep.run.inputs import Case
from niprep.tasks.base import CaseOutput, case_folder
from niprep.tasks.csv_files import slice_files, volume_file


def render(annotations: Annotations, case: str, options: Settings) -> list[tuple[str, str]]:
    """The ``(file name, text)`` of every CSV of one case, for the options' modes.

    Args:
        annotations: the case's table from :func:`~niprep.core.pipeline.annotate`.
        case: the case name.
        options: the validated options of the run.
    """
    if options.extraction_mode == "volume":
        return [volume_file(annotations, case, options.data_mode, options.include_label)]
    return list(
        slice_files(
            annotations,
            case,
            options.view,
            options.data_mode,
            include_label=options.include_label,
            write_empty=options.write_empty,
        )
    )


@dataclass(frozen=True)
class AnnotationTask:
    """Extract the annotation CSVs of each case (see docs/reference.md, Annotation CSVs).

    Args:
        options: the validated options of the run.
        flat: write a case's files straight into the output folder (``extract_annotations``)
            instead of the ``saving_mode`` layout.
    """

    options: Settings
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
