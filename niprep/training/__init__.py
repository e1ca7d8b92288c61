"""Training on the fly: the slice dataset, its samplers and collate function, previews."""

from niprep.training.dataset import AnnotatedSliceDataset, CasePair, collate_slices
from niprep.training.sampling import CaseGroupedSampler

__all__ = ["AnnotatedSliceDataset", "CaseGroupedSampler", "CasePair", "collate_slices"]
