"""The public functions, under the names of the package users migrate from."""

from __future__ import annotations

import os
from typing import Any

from niprep.config import ExtractOptions
from niprep.inputs import case_for, find_cases
from niprep.runner import RunSummary, run
from niprep.tasks import AnnotationTask


def extract_annotations_dataset(
    nii_folder: str | os.PathLike,
    output_path: str | os.PathLike,
    view: str = "axial",
    saving_mode: str = "case",
    extraction_mode: str = "slice",
    data_mode: str = "center",
    target_size: tuple[int, int] | None = None,
    save_stats: bool = False,
    **options: Any,
) -> RunSummary:
    """Extract the annotation CSVs of every NIfTI mask in a folder.

    Cases are processed in sorted order of file names; a case that fails is reported
    in one line, listed in ``<output>/<view>_annotations_failures.csv`` and leaves no
    file behind, and the others go on.

    Args:
        nii_folder: folder of ``.nii.gz`` / ``.nii`` label masks.
        output_path: root folder of the output.
        view: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
        saving_mode: ``"case"`` (``<out>/<case>/<view>/``) or ``"view"`` (``<out>/<view>/``).
        extraction_mode: ``"slice"`` (a CSV per slice) or ``"volume"`` (a CSV per case).
        data_mode: ``"center"``, ``"box"`` or ``"radius"``.
        target_size: ``(H, W)`` the matching images were padded to, or ``None``.
        save_stats: write ``<out>/<view>_annotations_stats.csv``.
        options: the keyword options of :class:`~niprep.config.ExtractOptions`
            (``instances``, ``box_scope``, ``include_label``, ``orientation``, ...).

    Returns:
        A :class:`~niprep.runner.RunSummary`; ``int(summary)`` is the total annotations.

    Raises:
        ValueError: an option is not valid, or two files give one case name.
        FileNotFoundError: ``nii_folder`` is missing or holds no NIfTI file.
    """
    settings = ExtractOptions.from_mapping(
        dict(
            view=view,
            saving_mode=saving_mode,
            extraction_mode=extraction_mode,
            data_mode=data_mode,
            target_size=target_size,
            save_stats=save_stats,
            **options,
        )
    )
    cases = find_cases(nii_folder, settings.strip_suffix)
    return run(AnnotationTask(settings), cases, output_path)


def extract_annotations(
    nii_path: str | os.PathLike,
    output_path: str | os.PathLike,
    view: str = "axial",
    saving_mode: str = "slice",
    data_mode: str = "center",
    target_size: tuple[int, int] | None = None,
    **options: Any,
) -> RunSummary:
    """Extract the annotation CSVs of one NIfTI mask straight into ``output_path``.

    Args:
        nii_path: the ``.nii.gz`` / ``.nii`` label mask.
        output_path: the folder receiving the CSV files.
        view: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
        saving_mode: ``"slice"`` (a CSV per slice) or ``"volume"`` (one CSV).
        data_mode: ``"center"``, ``"box"`` or ``"radius"``.
        target_size: ``(H, W)`` the matching images were padded to, or ``None``.
        options: the keyword options of :class:`~niprep.config.ExtractOptions`.

    Returns:
        A :class:`~niprep.runner.RunSummary`; ``int(summary)`` is the annotations written.

    Raises:
        ValueError: an option is not valid, or the case fails (the reason says why).
        FileNotFoundError: ``nii_path`` does not exist.
    """
    if "extraction_mode" in options:
        raise ValueError("extract_annotations takes saving_mode='slice' or 'volume', "
                         "not extraction_mode")
    settings = ExtractOptions.from_mapping(
        dict(
            view=view,
            extraction_mode=saving_mode,
            data_mode=data_mode,
            target_size=target_size,
            **options,
        )
    )
    if not os.path.isfile(nii_path):
        raise FileNotFoundError(f"nii_path {os.fspath(nii_path)!r} is not a file")
    summary = run(AnnotationTask(settings, flat=True), [case_for(nii_path, settings.strip_suffix)],
                  output_path)
    if summary.failures:
        filename, reason = summary.failures[0]
        raise ValueError(f"{filename}: {reason}")
    return summary
