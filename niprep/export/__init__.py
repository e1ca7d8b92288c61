"""Detection datasets straight from NIfTI: YOLO, COCO and MONAI exports with patient-level
splits and windowed images."""

from niprep.export.api import ExportSummary, export_detection_dataset
from niprep.export.options import ExportOptions

__all__ = ["ExportOptions", "ExportSummary", "export_detection_dataset"]
