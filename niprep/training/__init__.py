"""Training on the fly: the slice dataset, its store, samplers and collate functions, previews."""

from niprep.training.collate import collate_detection, collate_slices
from niprep.training.dataset import AnnotatedSliceDataset, CasePair
from niprep.training.sampling import CaseGroupedBatchSampler, CaseGroupedSampler

__all__ = [
    "AnnotatedSliceDataset",
    "CaseGroupedBatchSampler",
    "CaseGroupedSampler",
    "CasePair",
    "collate_detection",
    "collate_slices",
]
