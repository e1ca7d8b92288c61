"""Shared helpers: real NIfTI files written by nibabel into a temporary folder."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from niprep.training.store import CACHE_ENV


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
    """The 10 x 12 x 8 volume of SPEC section 7."""
    volume = np.zeros((10, 12, 8), dtype=np.uint8)
    volume[2:5, 4:9, 1:4] = 3
    volume[6, 0:2, 5:8] = 7
    return volume


@pytest.fixture
def worked_example(tmp_path: Path) -> Path:
    """A folder holding ``case_001_bbox.nii.gz``, the SPEC section 7 volume."""
    folder = tmp_path / "masks"
    write_nifti(folder / "case_001_bbox.nii.gz", worked_example_volume())
    return folder


@pytest.fixture(autouse=True, scope="session")
def _decoded_volume_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The training datasets' default decoded-volume store lives in the test's temp folder,
    not in the user's ``~/.cache`` (subprocesses inherit it)."""
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("niprep-cache"))
