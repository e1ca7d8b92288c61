"""MONAI transforms, one step of the pipeline each: an array transform and its
dictionary wrapper, usable inside any ``monai.transforms.Compose``."""

from niprep.transforms.load import LoadNifti, LoadNiftid
from niprep.transforms.mask_to_boxes import MaskToBoxes, MaskToBoxesd
from niprep.transforms.orient import Orient, Orientd
from niprep.transforms.pad_offset import PadOffset, PadOffsetd, padding_offset
from niprep.transforms.slice_view import VIEW_AXES, SliceView, SliceViewd

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
