"""``orientation`` makes the CSVs independent of the stored axis order (see Coordinates)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import read_tree, worked_example_volume, write_nifti
from monai.data import MetaTensor
from monai.transforms import Orientation

from niprep import extract_annotations_dataset
from niprep.core.transforms import Orient

#: ways of storing one anatomy: (axis permutation, flipped stored axes); RAS is the first
STORAGES = {
    "RAS": ((0, 1, 2), ()),
    "LPS": ((0, 1, 2), (0, 1)),
    "SRA": ((2, 0, 1), ()),
    "AIL": ((1, 2, 0), (1, 2)),
}


def anatomy() -> np.ndarray:
    """The worked example plus components that only a consistent frame orders alike."""
    volume = worked_example_volume()
    volume[0, 11, 0] = volume[9, 0, 7] = 3
    volume[8, 10, 2] = 5
    return volume


def stored(volume: np.ndarray, storage: str, zooms=(1.0, 1.0, 1.0)):
    """``(array, affine)`` of ``volume`` (RAS, voxel size ``zooms``) stored another way.

    Stored index ``b`` holds the RAS voxel ``a`` with ``a[perm[d]] = b[d]`` (or counted from
    the end on flipped axes), so the affine maps every stored voxel to the same place.
    """
    perm, flips = STORAGES[storage]
    array = volume.transpose(perm)
    index_to_ras = np.zeros((4, 4))
    index_to_ras[3, 3] = 1
    for d, axis in enumerate(perm):
        if d in flips:
            index_to_ras[axis, d] = -1
            index_to_ras[axis, 3] = array.shape[d] - 1
        else:
            index_to_ras[axis, d] = 1
    array = np.flip(array, axis=flips) if flips else array
    return np.ascontiguousarray(array), np.diag([*zooms, 1.0]) @ index_to_ras


def extract(tmp_path: Path, storage: str, volume: np.ndarray, **options) -> dict[str, str]:
    array, affine = stored(volume, storage, zooms=(2.0, 1.0, 0.5))
    folder = tmp_path / storage / "in"
    write_nifti(folder / "case.nii.gz", array, affine)
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "out"
    extract_annotations_dataset(folder, out, progress=False, **options)
    return read_tree(out)


OPTION_SETS = [
    dict(view="axial", data_mode="box", include_label=True),
    dict(view="coronal", extraction_mode="volume", data_mode="radius", target_size=(20, 20)),
    dict(view="sagittal", data_mode="box", instances="components", connectivity=6,
         box_scope="slice", include_label=True),
    dict(view="axial", extraction_mode="volume", data_mode="box", instances="components",
         min_volume_mm3=1.5),
]


@pytest.mark.parametrize("options", OPTION_SETS)
def test_same_anatomy_gives_the_same_csvs_whatever_the_storage(tmp_path: Path, options):
    volume = anatomy()
    reference = extract(tmp_path, "RAS", volume, **options)
    assert reference
    assert extract(tmp_path, "RAS", volume, orientation="RAS", **options) == reference
    for storage in ("LPS", "SRA", "AIL"):
        assert extract(tmp_path, storage, volume, orientation="RAS", **options) == reference
        assert extract(tmp_path, storage, volume, **options) != reference  # as stored


def test_orientation_code_is_where_each_axis_points(tmp_path: Path):
    volume = anatomy()
    options = dict(view="axial", data_mode="box", instances="components", include_label=True)
    as_lps = extract(tmp_path, "LPS", volume, **options)
    assert extract(tmp_path, "RAS", volume, orientation="LPS", **options) == as_lps
    assert extract(tmp_path, "AIL", volume, orientation="lps", **options) == as_lps


@pytest.mark.parametrize("storage", sorted(STORAGES))
@pytest.mark.parametrize("axcodes", ["RAS", "LPS", "PIR", "SLA"])
def test_orient_reorients_as_monai_orientation_does(storage: str, axcodes: str):
    array, affine = stored(anatomy(), storage, zooms=(2.0, 1.0, 0.5))
    ours, our_affine = Orient(axcodes)(array, affine)
    orientation = Orientation(axcodes=axcodes, labels=(("L", "R"), ("P", "A"), ("I", "S")))
    theirs = orientation(MetaTensor(torch.from_numpy(array[None]),
                                    affine=torch.from_numpy(affine)))
    np.testing.assert_array_equal(ours, theirs[0].numpy())
    np.testing.assert_allclose(our_affine, theirs.affine.numpy())
    assert np.shares_memory(ours, array)  # flips and transposes: a view, no copy
