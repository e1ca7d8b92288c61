"""One reader, one diagnosis: a broken file gets the same reason from every entry point.

The runner's failures file, the training dataset, the slices task's preview and the
``LoadNifti`` transform all read through :mod:`niprep.core.nifti_read`.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import CIFTI_FILE, SMALL_NII, small_volume, write_nifti

from niprep import extract_annotations_dataset, extract_slices_dataset
from niprep.core.transforms import LoadNifti
from niprep.training.dataset import AnnotatedSliceDataset

#: file name -> (how to write it, the reason every entry point gives)
BROKEN: dict[str, tuple[Callable[[Path], object], str]] = {
    "text.nii.gz": (
        lambda path: path.write_bytes(gzip.compress(b"patient,lesion\n" * 100)),
        "not a NIfTI file: the data does not start with a NIfTI-1 or NIfTI-2 header",
    ),
    "cut.nii.gz": (
        lambda path: path.write_bytes(gzip.compress(SMALL_NII)[:-30]),
        "truncated file: the gzip stream ends early (an incomplete download?)",
    ),
    "short_data.nii.gz": (
        lambda path: path.write_bytes(gzip.compress(SMALL_NII[:-20])),
        "truncated file: its data inflates to 542 bytes, but its header needs 562 (voxels "
        "from byte 352, 210 of them, 1 B each)",
    ),
    "short.nii": (
        lambda path: path.write_bytes(SMALL_NII[:-20]),
        "truncated file: 542 bytes, but its header needs 562 (voxels from byte 352, "
        "210 of them, 1 B each)",
    ),
    "dconn.nii": (
        lambda path: path.symlink_to(CIFTI_FILE),
        "not a volume: a CIFTI-2 file (grayordinate data in a NIfTI-2 container) has no "
        "3-D voxel grid; give the NIfTI volume it was made from",
    ),
}


def case_folders(root: Path, name: str) -> tuple[Path, Path]:
    """An image folder and a label folder of one case whose label is the broken ``name``."""
    write, _ = BROKEN[name]
    labels = root / "labels"
    labels.mkdir(parents=True)
    write(labels / name)
    case = name.split(".")[0]
    write_nifti(root / "images" / f"{case}.nii.gz", small_volume().astype(np.float32))
    return root / "images", labels


def dataset_error(images: Path, labels: Path) -> str:
    """The message of the error a dataset of these folders raises when built or read."""
    with pytest.raises(ValueError) as caught:
        dataset = AnnotatedSliceDataset(images, labels)
        dataset[0]
    return str(caught.value)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_label_gives_the_same_reason_everywhere(tmp_path, name, capfd):
    images, labels = case_folders(tmp_path, name)
    reason = BROKEN[name][1]

    summary = extract_annotations_dataset(labels, tmp_path / "out", progress=False)
    with open(tmp_path / "out" / "axial_annotations_failures.csv", newline="") as handle:
        assert list(csv.reader(handle)) == [["FILENAME", "ERROR"], [name, reason]]
    assert summary.failures == ((name, reason),)

    assert dataset_error(images, labels).endswith(f": {reason}")
    with pytest.raises(ValueError) as caught:
        AnnotatedSliceDataset(images, labels, include_empty=False)
    assert str(caught.value).endswith(f": {reason}")

    with pytest.raises(ValueError) as caught:
        LoadNifti()(labels / name)
    assert str(caught.value) == reason

    capfd.readouterr()
    extract_slices_dataset(images, tmp_path / "slices", preview=1, preview_masks=labels,
                           progress=False)
    assert capfd.readouterr().err.rstrip("\n").endswith(f": {reason}")


def test_no_reason_names_an_internal_exception(tmp_path):
    (tmp_path / "dconn.nii").symlink_to(CIFTI_FILE)
    with pytest.raises(ValueError) as caught:
        LoadNifti()(tmp_path / "dconn.nii")
    assert "Error" not in str(caught.value)
    assert str(caught.value).startswith("not a volume: a CIFTI-2 file")
