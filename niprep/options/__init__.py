"""The options of every entry point, declared once in groups (see :mod:`.groups`)."""

from niprep.options.declare import ENTRY_POINTS, EntryPoint, Group, Needs, Option, Settings
from niprep.options.entry_points import (
    ANNOTATIONS_DATASET,
    ANNOTATIONS_OF_CASE,
    CHECK_DATASET,
    EXPORT_DATASET,
    SLICE_SAMPLES,
    SLICES_DATASET,
    TASKS,
)

__all__ = [
    "ANNOTATIONS_DATASET",
    "ANNOTATIONS_OF_CASE",
    "CHECK_DATASET",
    "ENTRY_POINTS",
    "EXPORT_DATASET",
    "SLICES_DATASET",
    "SLICE_SAMPLES",
    "TASKS",
    "EntryPoint",
    "Group",
    "Needs",
    "Option",
    "Settings",
]
