"""The public functions, under the names of the package users migrate from."""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from niprep.check.run_check import CheckSummary, run_check
from niprep.export.run import ExportSummary, run_export
from niprep.options import (
    ANNOTATIONS_DATASET,
    ANNOTATIONS_OF_CASE,
    CHECK_DATASET,
    EXPORT_DATASET,
    SLICES_DATASET,
    EntryPoint,
)
from niprep.options.checks import choice
from niprep.options.groups import EXTRACTION_MODES
from niprep.run.inputs import case_for, find_cases
from niprep.run.output_tree import OutputTree
from niprep.run.runner import RunSummary, run
from niprep.run.staging import describe_error
from niprep.tasks.annotations import AnnotationTask
from niprep.tasks.slices import SliceImageTask
from niprep.training.preview import preview_file, preview_run

Function = TypeVar("Function", bound=Callable[..., Any])


def _options_in_signature(entry: EntryPoint, *hidden: str) -> Callable[[Function], Function]:
    """Show the options a function takes through ``**options`` as keyword-only
    parameters of its signature (``help()``, ``inspect.signature``), with their defaults.

    Args:
        entry: the function's declared option groups.
        hidden: options it sets itself, not to be shown.
    """

    def decorate(function: Function) -> Function:
        signature = inspect.signature(function)
        named = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        taken = {p.name for p in named} | set(hidden)
        keywords = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option.default)
            for name, option in entry.options.items()
            if name not in taken
        ]
        function.__signature__ = signature.replace(parameters=named + keywords)
        return function

    return decorate


def _run_folder(
    task: AnnotationTask | SliceImageTask,
    nii_folder: str | os.PathLike,
    output_path: str | os.PathLike,
    partners: str | None,
    cases_are_images: bool,
) -> RunSummary:
    """Run ``task`` over the cases of ``nii_folder``, then draw the preview if asked.

    Args:
        task: the task, holding the validated options.
        nii_folder: the input folder.
        output_path: the output folder.
        partners: the folder of the volumes the preview pairs with the cases (masks for
            image cases, images for mask cases), or ``None``.
        cases_are_images: whether the cases are the images of the preview.
    """
    settings = task.options
    cases = find_cases(nii_folder, settings.strip_suffix)
    paired = None if partners is None else find_cases(partners, settings.strip_suffix)
    summary = run(task, cases, output_path)
    failed = {filename for filename, _ in summary.failures}
    done = [case for case in cases if case.name is not None and case.filename not in failed]
    if settings.preview and done:
        images, masks = (done, paired) if cases_are_images else (paired, done)
        try:
            preview_run(output_path, task.name, images, masks, settings)
        except Exception as error:  # the cases are written: a preview must not undo that
            print(f"niprep: preview not drawn: {describe_error(error)}", file=sys.stderr)
    else:  # like the stats file: a preview of an earlier run would no longer be this one's
        OutputTree(Path(output_path)).remove([preview_file(settings.view, task.name)])
    return summary


@_options_in_signature(ANNOTATIONS_DATASET)
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
        options: the keyword options of its groups (``instances``, ``box_scope``,
            ``include_label``, ``orientation``, ``workers``, ...; docs/reference.md
            lists them); an option it does not take, or one that does nothing with the
            others (``min_voxels`` without ``instances="components"``), is refused.
            ``preview=N`` also draws N slices with their boxes into
            ``<out>/preview/<view>_annotations_preview.png``, over the masks or over the
            images of ``preview_images`` (padded with ``pad_value``, ``normalization``).

    Returns:
        A :class:`~niprep.run.runner.RunSummary`; ``int(summary)`` is the total annotations.

    Raises:
        ValueError: an option is not valid, or two files give one case name.
        FileNotFoundError: ``nii_folder`` is missing or holds no NIfTI file.
    """
    settings = ANNOTATIONS_DATASET.settings(dict(
        view=view, saving_mode=saving_mode, extraction_mode=extraction_mode,
        data_mode=data_mode, target_size=target_size, save_stats=save_stats, **options,
    ))
    return _run_folder(AnnotationTask(settings), nii_folder, output_path,
                       partners=settings.preview_images, cases_are_images=False)


@_options_in_signature(ANNOTATIONS_OF_CASE, "extraction_mode")  # its saving_mode says it
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
        options: the keyword options of its groups (docs/reference.md lists them).

    Returns:
        A :class:`~niprep.run.runner.RunSummary`; ``int(summary)`` is the annotations written.

    Raises:
        ValueError: an option is not valid, or the case fails (the reason says why).
        FileNotFoundError: ``nii_path`` does not exist.
    """
    choice(*EXTRACTION_MODES)("saving_mode", saving_mode)
    if "extraction_mode" in options:
        raise ValueError("extraction_mode does not apply to extract_annotations; its "
                         "saving_mode is 'slice' or 'volume'")
    settings = ANNOTATIONS_OF_CASE.settings(dict(
        view=view, extraction_mode=saving_mode, data_mode=data_mode, target_size=target_size,
        **options,
    ))
    if not os.path.isfile(nii_path):
        raise FileNotFoundError(f"nii_path {os.fspath(nii_path)!r} is not a file")
    summary = run(AnnotationTask(settings, flat=True), [case_for(nii_path, settings.strip_suffix)],
                  output_path, failures_file=False)
    if summary.failures:
        filename, reason = summary.failures[0]
        raise ValueError(f"{filename}: {reason}")
    return summary


@_options_in_signature(SLICES_DATASET)
def extract_slices_dataset(
    nii_folder: str | os.PathLike,
    output_path: str | os.PathLike,
    view: str = "axial",
    saving_mode: str = "case",
    target_size: tuple[int, int] | None = None,
    pad_value: float = 0.0,
    normalization: str | None = None,
    save_stats: bool = False,
    **options: Any,
) -> RunSummary:
    """Write every slice of every NIfTI image in a folder as a TIFF.

    Files are named and laid out like the per-slice annotation CSVs
    (``<case>_<view>_<s>.tif`` under ``<out>/<case>/<view>/`` or ``<out>/<view>/``) and
    padded at the same offset, so every CSV row lands on the right pixels. Values keep
    their stored dtype (int16 stays int16) unless ``normalization="min-max"``. A case that
    fails is reported, listed in ``<out>/<view>_slices_failures.csv`` and leaves no file.

    Args:
        nii_folder: folder of ``.nii.gz`` / ``.nii`` image volumes.
        output_path: root folder of the output.
        view: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
        saving_mode: ``"case"`` (``<out>/<case>/<view>/``) or ``"view"`` (``<out>/<view>/``).
        target_size: ``(H, W)`` to pad every slice to, or ``None``.
        pad_value: the value of the added pixels (in 0..1 units when normalized).
        normalization: ``None`` (values as stored) or ``"min-max"`` (per volume, to 0..1
            float32).
        save_stats: write ``<out>/<view>_slices_stats.csv`` (``FILENAME,NUM_SLICES``).
        options: ``orientation``, ``strip_suffix``, ``workers``, ``backend``, ``resume``,
            ``progress``, ... (docs/reference.md lists them). ``preview=N`` also
            draws N slices into ``<out>/preview/<view>_slices_preview.png``, with the boxes
            of the masks of ``preview_masks`` (and the annotation options) when given.

    Returns:
        A :class:`~niprep.run.runner.RunSummary`; ``int(summary)`` is the total slices written.

    Raises:
        ValueError: an option is not valid, or two files give one case name.
        FileNotFoundError: ``nii_folder`` is missing or holds no NIfTI file.
    """
    settings = SLICES_DATASET.settings(dict(
        view=view, saving_mode=saving_mode, target_size=target_size, pad_value=pad_value,
        normalization=normalization, save_stats=save_stats, **options,
    ))
    return _run_folder(SliceImageTask(settings), nii_folder, output_path,
                       partners=settings.preview_masks, cases_are_images=True)


@_options_in_signature(CHECK_DATASET)
def check_dataset(
    image_folder: str | os.PathLike | None,
    label_folder: str | os.PathLike | None,
    output_path: str | os.PathLike,
    **options: Any,
) -> CheckSummary:
    """Check every image and mask of a dataset; write the findings and the pictures.

    Images and masks are paired by case name (``strip_suffix``). Writes
    ``<out>/check.csv`` (``CASE,CHECK,SEVERITY,DETAIL``, one row per finding, in case order;
    a clean case has none), ``check.json`` (the same rows) and, under ``<out>/check/``,
    ``distribution.png`` (from the numbers in ``distribution.json``), every case's facts
    (``cases/<case>.json``), the thumbnail of every case with a finding
    (``cases/<case>.png``) and ``report.html``. A file that
    cannot be read is an ``unreadable`` finding and is listed in
    ``<out>/<view>_check_failures.csv``. The README's dataset-check section lists the checks.

    Args:
        image_folder: folder of the image volumes, or ``None`` to check the masks alone.
        label_folder: folder of the masks, or ``None`` to check the images alone.
        output_path: root folder of the output.
        options: ``classes``, ``affine_tolerance``, ``spacing_tolerance``,
            ``spacing_outlier``, ``rare_label_share``, and ``strip_suffix``,
            ``orientation``, ``instances``, ``workers``, ``backend``, ``resume``, ...
            (the README's dataset-check section lists the check's own,
            docs/reference.md the others).

    Returns:
        A :class:`~niprep.check.run_check.CheckSummary` (cases checked, errors, warnings,
        findings).

    Raises:
        ValueError: an option is not valid, both folders are ``None``, or two files of a
            folder give one case name.
        FileNotFoundError: a folder is missing or holds no NIfTI file.
    """
    settings = CHECK_DATASET.settings({**options, "image_folder": image_folder})
    return run_check(label_folder, output_path, settings)


@_options_in_signature(EXPORT_DATASET)
def export_detection_dataset(
    image_folder: str | os.PathLike,
    label_folder: str | os.PathLike,
    output_path: str | os.PathLike,
    format: str = "yolo",
    **options: Any,
) -> ExportSummary:
    """Export images and their masks as a YOLO, COCO or MONAI detection dataset.

    Images and masks pair by case name (file name without extension and ``strip_suffix``);
    files without a partner are left out with a warning. Whole cases go to ``train``,
    ``val`` and ``test`` (the cases of a patient together with ``group_pattern``), written
    to ``split.json``. 2-D formats write every slice as a PNG through ``window`` with the
    tight box of each annotation on it; ``monai`` writes a 3-D detection data list that
    refers to the images. A case whose image and mask differ in shape or affine, or that
    cannot be read, is listed in ``<out>/<view>_export_failures.csv`` and leaves no
    file; the others go on. The README's export section shows each format's layout and a training
    snippet for its consumer.

    Args:
        image_folder: folder of ``.nii.gz`` / ``.nii`` image volumes.
        label_folder: folder of their label masks.
        output_path: the dataset folder.
        format: ``"yolo"``, ``"coco"`` or ``"monai"``.
        options: the keyword options of its groups (``split``, ``split_seed``,
            ``group_pattern``, ``split_file``, ``classes``, ``window``, ``channels``,
            ``negatives``, ``view``, ``target_size``, ``instances``, ``workers``, ...;
            docs/reference.md lists them).

    Returns:
        An :class:`~niprep.export.run.ExportSummary`; ``int(summary)`` is the boxes
        written, ``summary.left_out`` the boxes of values ``classes`` leaves out.

    Raises:
        ValueError: an option is not valid or does not go with the others, the split file
            does not list every case, the group pattern does not match a case, or no
            image has a mask; nothing is written.
        FileNotFoundError: a folder is missing or holds no NIfTI file.
    """
    settings = EXPORT_DATASET.settings({**options, "format": format,
                                        "image_folder": image_folder})
    return run_export(label_folder, output_path, settings)
