"""MONAI transforms, one step of the pipeline each: an array transform and its
dictionary wrapper, usable inside any ``monai.transforms.Compose``."""

from niprep.core.transforms.load import LoadNifti, LoadNiftid
from niprep.core.transforms.mask_to_boxes import MaskToBoxes, MaskToBoxesd
from niprep.core.transforms.orient import Orient, Orientd
from niprep.core.transforms.pad_offset import PadOffset, PadOffsetd, padding_offset
from niprep.core.transforms.slice_view import VIEW_AXES, SliceView, SliceViewd

__all__ = [
    "VIEW_AXES",
    "LoadNifti",
    "LoadNiftid",
    "MaskToBoxes",
    "MaskToBoxesd",
    "Orient",
    "Orientd",
    "PadOffset",
    "PadOffsetd",
    "SliceView",
    "SliceViewd",
    "padding_offset",
]
