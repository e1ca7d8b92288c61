"""The export task: one image-and-mask case becomes its files of a detection dataset.

2-D formats write ``images/<split>/<case>_<view>_<NNN>.png`` (and, for YOLO,
``labels/<split>/<same stem>.txt``); every format writes the case's part,
``.parts/<case>.json``, from which the dataset files (COCO instances, MONAI data list) are
assembled after the run (:mod:`niprep.export.dataset`), so that resumed cases need not be
read again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import chain
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from niprep.core.classes import ClassMap
from niprep.core.pictures import SlicePictures, load_view
from niprep.core.pipeline import BOXES_KEY, LABEL_KEY, apply_chain, build
from niprep.core.transforms import MaskToBoxes
from niprep.export.options import pipeline_settings
from niprep.export.pairs import check_pair, header_grid
from niprep.export.slices import (
    body_slices,
    check_stored_values,
    choose_slices,
    slice_entries,
    slice_files,
)
from niprep.export.volumes import datalist_entry
from niprep.options import Settings
from niprep.run.inputs import Case
from niprep.tasks.base import CaseOutput
from niprep.tasks.csv_files import slice_file_name

PARTS_FOLDER = ".parts"


def part_path(case: str) -> str:
    """Where a case's part goes, relative to the output folder."""
    return f"{PARTS_FOLDER}/{case}.json"


def part_text(part: dict[str, Any]) -> str:
    """A part as compact JSON (one line, keys in the order given)."""
    return json.dumps(part, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class ExportTask:
    """Export each case (a mask; its image is found by case name) into a detection dataset.

    Args:
        options: the validated export options.
        images: ``{case name: image file}``.
        splits: ``{case name: split}``.
        class_map: the dataset's classes.
    """

    options: Settings
    images: dict[str, str]
    splits: dict[str, str]
    class_map: ClassMap

    name = "export"
    count_column = "NUM_BOXES"
    total_row = "TOTAL_BOXES"

    def __call__(self, case: Case) -> CaseOutput:
        image = self.images[case.name]
        split = self.splits[case.name]
        part: dict[str, Any] = {"case": case.name, "split": split}
        if self.options.format == "monai":
            entry, left_out = datalist_entry(case.path, image, self.options, self.class_map)
            part.update(left_out=left_out, entry=entry)
            return CaseOutput(count=len(entry["label"]),
                              files=[(part_path(case.name), part_text(part))])
        return self._pictures(case, image, part)

    def _pictures(self, case: Case, image: str, part: dict[str, Any]) -> CaseOutput:
        options = self.options
        check_pair(header_grid(image, options.max_voxels),
                   header_grid(case.path, options.max_voxels), options.affine_tolerance)
        extraction = pipeline_settings(options)
        data = apply_chain(build(extraction), {LABEL_KEY: case.path})
        annotations, mask = data[BOXES_KEY], data[LABEL_KEY]
        volume = load_view(image, extraction)
        if options.window is None:
            check_stored_values(volume)
        pictures = SlicePictures(volume, options.target_size, options.pad_value,
                                 dtype=np.uint16 if options.window is None else np.uint8,
                                 window=options.window)
        areas = options.format == "coco"  # COCO's area; YOLO has none
        labels = None
        if areas and options.instances == "components":  # a component's own pixels
            meta = data[f"{LABEL_KEY}_meta"]
            labels = MaskToBoxes(options.instances, options.connectivity, options.min_voxels,
                                 options.min_volume_mm3).component_labels(
                mask, meta["voxel_volume"], meta["view_axes"])
        entries, left_out = slice_entries(annotations, mask, pictures.offset, self.class_map,
                                          labels, areas)
        inside = body_slices(volume) if options.negatives_within == "image" else None
        chosen = choose_slices(sorted(entries), len(pictures), options, case.name, inside)
        stems = {s: PurePosixPath(slice_file_name(case.name, options.view, s)).stem
                 for s in chosen}
        height, width = pictures.size
        part.update(left_out=left_out, images=[
            {"file_name": f"{stems[s]}.png", "width": width, "height": height,
             "case": case.name, "slice": s, "view": options.view,
             "annotations": entries[s].coco_annotations() if s in entries else []}
            for s in chosen
        ])
        files = slice_files(pictures, entries, chosen, stems, part["split"], options.channels,
                            yolo=options.format == "yolo", png_level=options.png_level)
        count = sum(len(entries[s].ids) for s in chosen if s in entries)
        return CaseOutput(count=count,
                          files=chain(files, [(part_path(case.name), part_text(part))]))
