"""An export from start to end: a folder of images and one of masks to a detection dataset.

Before anything is written: the options are checked, images and masks are paired by case
name, the masks are read once for the values they hold (unless ``classes`` and
``split_file`` make that unnecessary), the split is decided and the classes are numbered.
Then the runner exports each case atomically (resume, workers, backends, failures file)
and the dataset files are assembled from the cases' parts (:mod:`niprep.export.dataset`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path

import yaml

from niprep.core.classes import ClassMap
from niprep.core.pipeline import annotate
from niprep.export.dataset import dataset_files
from niprep.export.options import check_export, pipeline_settings
from niprep.export.preview import export_preview
from niprep.export.split import Split, group_of, make_split, read_split
from niprep.export.task import ExportTask, part_path
from niprep.options import Settings
from niprep.run.atomic import write_then_move
from niprep.run.backends import backend_for
from niprep.run.inputs import Case, CasePair, find_cases, pair_cases
from niprep.run.output_lock import OutputLock
from niprep.run.output_tree import STATE_DIR, check_output, write_files
from niprep.run.progress import Progress
from niprep.run.runner import LOCK_FILE, RunSummary, run
from niprep.run.staging import describe_error
from niprep.training.preview import preview_file


@dataclass(frozen=True)
class ExportSummary(RunSummary):
    """What an export did: a :class:`~niprep.run.runner.RunSummary` (``int()`` is the
    boxes written) and the boxes left out because their value is not in ``classes``.

    Args:
        left_out: boxes of values ``classes`` does not list.
        split: ``{case name: split}``.
        classes: ``{class id: name}``.
    """

    left_out: int = 0
    split: dict[str, str] | None = None
    classes: dict[int, str] | None = None


def _mask_values(options: Settings, path: str) -> tuple[float, ...] | None:
    """The annotation values of one mask, or ``None`` when it cannot be read (the export
    of the case then says why)."""
    try:
        return tuple(annotate(path, options).values.tolist())
    except Exception:
        return None


def _scan(pairs: Sequence[CasePair], options: Settings) -> dict[str, tuple[float, ...]]:
    """``{case: annotation values}`` of every readable mask, read on the run's backend."""
    extraction = pipeline_settings(options, box_scope="volume", target_size=None)
    found: dict[str, tuple[float, ...]] = {}
    with backend_for(options, len(pairs), [__name__]) as backend, Progress(
        total=len(pairs), disable=not options.progress, unit="case", desc="niprep scan masks"
    ) as bar:
        work = partial(_mask_values, extraction)
        for position, values in backend.imap_unordered(work, [str(p.label) for p in pairs]):
            if isinstance(values, tuple):
                found[pairs[position].name] = values
            bar.update()
    return found


def _decide(
    pairs: Sequence[CasePair], options: Settings
) -> tuple[Split, ClassMap]:
    """The split and the classes of the export, or a ``ValueError`` naming the problem
    (the split file and the group pattern are checked before the masks are read)."""
    names = [pair.name for pair in pairs]
    split = None
    if options.split_file is not None:
        split = read_split(options.split_file, names)
    else:
        for name in names:
            group_of(name, options.group_pattern)
    values: dict[str, tuple[float, ...]] = {}
    if options.classes is None or split is None:
        values = _scan(pairs, options)
    offset = 1 if options.format == "coco" else 0
    class_map = ClassMap.build((v for found in values.values() for v in found), options.classes,
                               offset)
    if split is None:
        listed = set(class_map.values)
        annotated = [name for name, found in values.items() if listed.intersection(found)]
        split = make_split(names, annotated, options.split, options.split_seed,
                           options.group_pattern)
    return split, class_map


def _preview(output: Path, parts: Sequence[dict], settings: Settings
             ) -> dict[str, bytes | None]:
    """The preview file to write, or to remove (``preview=0``, or an old run's)."""
    stale = {preview_file(settings.view, ExportTask.name): None}
    if not settings.preview:
        return stale
    try:
        drawn = export_preview(output, parts, settings.preview, settings.view, ExportTask.name,
                               settings.channels)
    except Exception as error:  # the cases are written: a preview must not undo that
        print(f"niprep: preview not drawn: {describe_error(error)}", file=sys.stderr)
        return stale
    return stale if drawn is None else dict([drawn])


def _name_the_folders(
    config: Path, image_folder: str | os.PathLike, label_folder: str | os.PathLike
) -> None:
    """Give the run's saved config the export's two folders by their argument names, so it
    passes back to :func:`niprep.export_detection_dataset` (the runner saves the masks'
    folder as ``nii_folder``)."""
    saved = yaml.safe_load(config.read_text(encoding="utf-8"))
    folders = {"image_folder": str(Path(image_folder).absolute()),
               "label_folder": str(Path(label_folder).absolute())}
    saved = {"task": saved.pop("task"), **folders,
             **{key: value for key, value in saved.items() if key not in (*folders,
                                                                           "nii_folder")}}
    write_then_move(yaml.safe_dump(saved, sort_keys=False).encode("utf-8"), config,
                    config.parent)


def run_export(
    label_folder: str | os.PathLike,
    output_path: str | os.PathLike,
    settings: Settings,
) -> ExportSummary:
    """Export the pairs of ``settings.image_folder`` and ``label_folder`` into
    ``output_path`` (:func:`niprep.export_detection_dataset` says what is written).

    Args:
        label_folder: folder of the masks.
        output_path: the dataset folder.
        settings: the checked options of :data:`~niprep.options.EXPORT_DATASET`, with
            ``image_folder``, the folder of the image volumes.

    Raises:
        ValueError: no ``image_folder``, options that do not go together, a split file
            that does not fit, a group pattern that does not match a case, or no image
            with a mask; nothing is written.
        FileNotFoundError: a folder is missing or holds no NIfTI file.
    """
    check_export(settings)
    image_folder = settings.image_folder
    output = check_output(output_path)
    pairs = pair_cases(find_cases(image_folder, settings.strip_suffix),
                       find_cases(label_folder, settings.strip_suffix))
    split, class_map = _decide(pairs, settings)
    task = ExportTask(settings, {pair.name: str(pair.image) for pair in pairs},
                      {pair.name: split.cases[pair.name] for pair in pairs}, class_map)
    cases = [Case(pair.label, pair.name) for pair in pairs]
    summary = run(task, cases, output)
    failed = {filename for filename, _ in summary.failures}
    with OutputLock(output / STATE_DIR / LOCK_FILE):
        parts = [json.loads((output / part_path(case.name)).read_text(encoding="utf-8"))
                 for case in cases if case.filename not in failed]
        files = dataset_files(output, settings.format, split, class_map, parts)
        if settings.format != "monai":
            files.update(_preview(output, parts, settings))
        write_files(output, files)
        _name_the_folders(output / STATE_DIR / f"{task.name}-{settings.view}.yaml",
                          image_folder, label_folder)
    left_out = sum(part["left_out"] for part in parts)
    if left_out:
        print(f"niprep: {left_out} box(es) of mask values that classes does not list were "
              "left out", file=sys.stderr)
    counts = {field.name: getattr(summary, field.name) for field in fields(summary)}
    return ExportSummary(**counts, left_out=left_out, split=dict(task.splits),
                         classes=class_map.id_names())

