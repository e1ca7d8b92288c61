"""nidataset's module name, kept for users who migrate: ``from niprep.slices import ...``."""

from niprep.api import extract_annotations, extract_annotations_dataset, extract_slices_dataset

__all__ = ["extract_annotations", "extract_annotations_dataset", "extract_slices_dataset"]
