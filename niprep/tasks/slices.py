"""The slices task: an image case becomes one lossless TIFF per slice, laid out like the CSVs."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import tifffile

from niprep.core.pictures import SlicePictures, load_view
from niprep.options import Settings
from niprep.run.inputs import Case
from niprep.tasks.base import CaseOutput, case_folder
from niprep.tasks.csv_files import slice_file_name


def tiff_bytes(picture: np.ndarray) -> bytes:
    """A 2-D array as an uncompressed single-page TIFF, values and dtype unchanged."""
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, picture, metadata=None)
    return buffer.getvalue()


@dataclass(frozen=True)
class SliceImageTask:
    """Write a TIFF of every slice of each image volume (see docs/reference.md, Image slices).

    Files are named and laid out like the per-slice CSVs:
    ``<case>/<view>/<case>_<view>_<s>.tif`` (``saving_mode="case"``) or
    ``<view>/<case>_<view>_<s>.tif`` (``"view"``).

    Args:
        options: the validated options of the run (``view``, ``saving_mode``,
            ``target_size``, ``pad_value``, ``normalization``, ``orientation``, ...).
    """

    options: Settings

    name = "slices"
    count_column = "NUM_SLICES"
    total_row = "TOTAL_SLICES"

    def __call__(self, case: Case) -> CaseOutput:
        options = self.options
        pictures = SlicePictures(
            load_view(case.path, options),
            options.target_size,
            options.pad_value,
            options.normalization,
        )
        folder = case_folder(options, case.name)
        names = (PurePosixPath(slice_file_name(case.name, options.view, index))
                 for index in range(len(pictures)))
        # one picture at a time: the TIFFs of a case are made as they are written aside
        files = ((str(folder / name.with_suffix(".tif")), tiff_bytes(pictures(index)))
                 for index, name in enumerate(names))
        return CaseOutput(count=len(pictures), files=files)
