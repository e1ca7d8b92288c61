"""Shared helpers: real NIfTI files written by nibabel into a temporary folder."""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

#: a CIFTI-2 file (a NIfTI-2 container without a voxel grid) from nibabel's own test data
CIFTI_FILE = Path(nib.__file__).parent / "tests" / "data" / "row_major.dconn.nii"


def write_nifti(path: Path, array: np.ndarray, affine: np.ndarray | None = None) -> Path:
    """Save ``array`` as a NIfTI file at ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, np.eye(4) if affine is None else affine), path)
    return path


def write_scaled_nifti(path: Path, array: np.ndarray, slope: float, inter: float) -> Path:
    """Save ``array`` with ``scl_slope``/``scl_inter`` set in the header (values stored raw)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(array, np.eye(4))
    image.header.set_slope_inter(slope, inter)
    nib.save(image, path)
    return path


def nifti_bytes(array: np.ndarray, slope: float = 1.0, inter: float = 0.0) -> bytes:
    """A single-file NIfTI-1 image of ``array``, uncompressed, as nibabel writes it
    (``scl_slope``/``scl_inter`` set when not 1 and 0)."""
    image = nib.Nifti1Image(array, np.eye(4))
    if (slope, inter) != (1.0, 0.0):
        image.header.set_slope_inter(slope, inter)
    return image.to_bytes()


def small_volume() -> np.ndarray:
    """A 6 x 7 x 5 (210 voxels) mask holding the value 2."""
    volume = np.zeros((6, 7, 5), dtype=np.uint8)
    volume[1:3, 2:4, 1] = 2
    return volume


def user_files(folder: Path) -> list[str]:
    """Every file under ``folder`` except niprep's own state folder, as relative paths."""
    if not folder.exists():
        return []
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] != ".niprep"
    )


def read_failures(folder: Path, view: str = "axial", task: str = "annotations") -> dict[str, str]:
    """``{file name: error}`` of ``<folder>/<view>_<task>_failures.csv``; ``{}`` if absent."""
    path = folder / f"{view}_{task}_failures.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["FILENAME", "ERROR"]
    return {name: error for name, error in rows[1:]}


def read_tree(folder: Path) -> dict[str, str]:
    """Every CSV under ``folder`` as ``{relative path: text}``."""
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.csv"))}


def worked_example_volume() -> np.ndarray:
    """The 10 x 12 x 8 volume of docs/reference.md, Worked example."""
    volume = np.zeros((10, 12, 8), dtype=np.uint8)
    volume[2:5, 4:9, 1:4] = 3
    volume[6, 0:2, 5:8] = 7
    return volume


@pytest.fixture
def worked_example(tmp_path: Path) -> Path:
    """A folder holding ``case_001_bbox.nii.gz``, the worked example's volume."""
    folder = tmp_path / "masks"
    write_nifti(folder / "case_001_bbox.nii.gz", worked_example_volume())
    return folder
