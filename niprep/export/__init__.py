"""Detection datasets straight from NIfTI: YOLO, COCO and MONAI exports with patient-level
splits and windowed images. The public function is :func:`niprep.export_detection_dataset`;
:func:`niprep.export.run.run_export` does the work."""
