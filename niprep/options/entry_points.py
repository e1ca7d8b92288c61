"""Which option groups each public function and ``niprep`` task takes."""

from __future__ import annotations

from niprep.options.declare import EntryPoint, Needs, register
from niprep.options.groups import (
    ANNOTATION,
    CHECK,
    CLASSES,
    CSV,
    EXPORT,
    EXPORT_PICTURES,
    EXPORT_VOLUMES,
    IMAGE,
    INPUT,
    LAYOUT,
    PAIRS,
    PICTURE,
    PREVIEW,
    RUN,
    SAMPLES,
    VIEW,
)

OVER_IMAGES = Needs("preview_images", lambda folder: folder is not None,
                    "preview_images=FOLDER")
WITH_MASKS = Needs("preview_masks", lambda folder: folder is not None, "preview_masks=FOLDER")

ANNOTATIONS_DATASET = EntryPoint(
    "extract_annotations_dataset",
    (VIEW, LAYOUT, CSV, INPUT, ANNOTATION, RUN, PREVIEW.without("preview_masks"), IMAGE),
    task="annotations",
    needs={"image": OVER_IMAGES},
)
# its saving_mode argument is nidataset's name for extraction_mode; files go straight in
ANNOTATIONS_OF_CASE = EntryPoint(
    "extract_annotations",
    (VIEW, CSV, INPUT, ANNOTATION, RUN),
)
SLICES_DATASET = EntryPoint(
    "extract_slices_dataset",
    (VIEW, LAYOUT, IMAGE, INPUT, RUN, PREVIEW.without("preview_images"), ANNOTATION),
    task="slices",
    needs={"annotation": WITH_MASKS},
)
SLICE_SAMPLES = EntryPoint(
    "AnnotatedSliceDataset",
    (VIEW, INPUT, ANNOTATION, IMAGE, CLASSES, PICTURE, SAMPLES),
    described="the training dataset (niprep.training.AnnotatedSliceDataset)",
)

# connectivity and min_voxels count with instances='components', as for the extraction
CHECK_DATASET = EntryPoint(
    "check_dataset",
    (VIEW.without("target_size"), INPUT, ANNOTATION.without("min_volume_mm3", "box_scope"),
     CLASSES, PAIRS, CHECK, RUN),
    task="check",
)
# 2-D exports always take the tight box of each slice (a 3-D box drawn on slices where the
# object is absent would teach a detector false boxes), so box_scope is not an option here
EXPORT_DATASET = EntryPoint(
    "export_detection_dataset",
    (EXPORT, PAIRS, CLASSES, PICTURE, EXPORT_PICTURES, EXPORT_VOLUMES, VIEW,
     IMAGE.without("normalization"), INPUT, ANNOTATION.without("box_scope"), RUN,
     PREVIEW.without("preview_images", "preview_masks")),
    task="export",
    changed_defaults={"window": "percentile"},  # 8-bit pictures whatever the modality
)

register(ANNOTATIONS_DATASET, ANNOTATIONS_OF_CASE, SLICES_DATASET, SLICE_SAMPLES, CHECK_DATASET,
         EXPORT_DATASET)

#: the ``niprep`` tasks: ``task=NAME`` -> entry point
TASKS = {entry.task: entry
         for entry in (ANNOTATIONS_DATASET, SLICES_DATASET, CHECK_DATASET, EXPORT_DATASET)}
