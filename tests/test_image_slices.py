"""niprep.extract_slices_dataset: TIFF slices aligned with the CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import tifffile
from conftest import (
    TARGET,
    VIEWS,
    num_slices,
    padded,
    view_slice,
    worked_example_volume,
    write_nifti,
)

from niprep import extract_annotations_dataset, extract_slices_dataset


def read_tiffs(folder: Path) -> dict[str, np.ndarray]:
    return {str(p.relative_to(folder)): tifffile.imread(p) for p in sorted(folder.rglob("*.tif"))}


@pytest.mark.parametrize("view", VIEWS)
def test_tiff_pixels_under_every_csv_box_are_the_volume_voxels(cases, tmp_path, view):
    images, labels = cases
    out = tmp_path / "out"
    extract_annotations_dataset(labels, out, view=view, data_mode="box", target_size=TARGET,
                                orientation="RAS", progress=False)
    summary = extract_slices_dataset(images, out, view=view, target_size=TARGET,
                                     orientation="RAS", progress=False)
    tiffs = read_tiffs(out)
    expected_names = {
        f"{case}/{view}/{case}_{view}_{s:03d}.tif"
        for case in "abc"
        for s in range(num_slices(images / f"{case}.nii.gz", view, "RAS"))
    }
    assert set(tiffs) == expected_names and int(summary) == len(expected_names)
    checked = 0
    for csv_path in sorted(out.rglob("*.csv")):
        case, s = csv_path.parent.parent.name, int(csv_path.stem.rsplit("_", 1)[1])
        picture = tiffs[str(csv_path.relative_to(out).with_suffix(".tif"))]
        assert picture.dtype == np.int16 and picture.shape == TARGET
        voxels = view_slice(images / f"{case}.nii.gz", view, s, "RAS")
        np.testing.assert_array_equal(picture, padded(voxels, TARGET).astype(np.int16))
        row, col = (TARGET[0] - voxels.shape[0]) // 2, (TARGET[1] - voxels.shape[1]) // 2
        with csv_path.open() as handle:
            for box in csv.DictReader(handle):
                x0, y0, x1, y1 = (int(box[c]) for c in ("X_MIN", "Y_MIN", "X_MAX", "Y_MAX"))
                np.testing.assert_array_equal(
                    picture[y0 : y1 + 1, x0 : x1 + 1],
                    voxels[y0 - row : y1 + 1 - row, x0 - col : x1 + 1 - col],
                )
                checked += 1
    assert checked > 10


def test_view_layout_and_stats(cases, tmp_path):
    images, _ = cases
    out = tmp_path / "out"
    extract_slices_dataset(images, out, view="sagittal", saving_mode="view", save_stats=True,
                           progress=False)
    assert sorted(read_tiffs(out)) == sorted(
        [f"sagittal/a_sagittal_{s:03d}.tif" for s in range(10)]
        + [f"sagittal/b_sagittal_{s:03d}.tif" for s in range(9)]
        + [f"sagittal/c_sagittal_{s:03d}.tif" for s in range(5)]
    )
    assert (out / "sagittal_slices_stats.csv").read_text() == (
        "FILENAME,NUM_SLICES\na.nii.gz,10\nb.nii.gz,9\nc.nii.gz,5\nTOTAL_SLICES,24\n"
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_values_and_dtype_are_kept(tmp_path, dtype):
    volume = (np.arange(60).reshape(3, 4, 5) * 1.5 + 0.25).astype(dtype)
    write_nifti(tmp_path / "in" / "v.nii.gz", volume)
    extract_slices_dataset(tmp_path / "in", tmp_path / "out", target_size=(5, 6), pad_value=7,
                           progress=False)
    picture = tifffile.imread(tmp_path / "out" / "v" / "axial" / "v_axial_002.tif")
    assert picture.dtype == dtype
    np.testing.assert_array_equal(picture, padded(volume[:, :, 2], (5, 6), 7).astype(dtype))


def test_scaled_volume_is_written_as_nibabel_reads_it(tmp_path):
    image = nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))
    image.header.set_slope_inter(0.5, -3.0)
    (tmp_path / "in").mkdir()
    nib.save(image, tmp_path / "in" / "v.nii.gz")
    extract_slices_dataset(tmp_path / "in", tmp_path / "out", view="coronal", progress=False)
    expected = np.asanyarray(nib.load(tmp_path / "in" / "v.nii.gz").dataobj)[:, 1, :]
    picture = tifffile.imread(tmp_path / "out" / "v" / "coronal" / "v_coronal_001.tif")
    assert picture.dtype == expected.dtype
    np.testing.assert_array_equal(picture, expected)


def test_min_max_normalization_is_per_volume_float32(tmp_path):
    volume = np.arange(-40, 80, dtype=np.int16).reshape(4, 5, 6)
    write_nifti(tmp_path / "in" / "v.nii.gz", volume)
    write_nifti(tmp_path / "in" / "flat.nii.gz", np.full((2, 2, 2), 9, dtype=np.int16))
    extract_slices_dataset(tmp_path / "in", tmp_path / "out", target_size=(6, 6),
                           normalization="min-max", pad_value=0.1, progress=False)
    picture = tifffile.imread(tmp_path / "out" / "v" / "axial" / "v_axial_005.tif")
    assert picture.dtype == np.float32
    expected = padded((volume[:, :, 5] + 40) / 119.0, (6, 6), fill=0.1)
    np.testing.assert_allclose(picture, expected, rtol=0, atol=1e-6)
    flat = tifffile.imread(tmp_path / "out" / "flat" / "axial" / "flat_axial_000.tif")
    np.testing.assert_array_equal(flat, padded(np.zeros((2, 2)), (6, 6), fill=0.1))


def test_failures_are_listed_and_leave_nothing(tmp_path):
    folder = tmp_path / "in"
    write_nifti(folder / "big.nii.gz", np.zeros((20, 4, 4), dtype=np.int16))
    write_nifti(folder / "fine.nii.gz", np.zeros((4, 4, 3), dtype=np.int16))
    write_nifti(folder / "bytes.nii.gz", np.zeros((4, 4, 3), dtype=np.uint8))
    (folder / "broken.nii.gz").write_bytes(b"not a nifti file")
    out = tmp_path / "out"
    summary = extract_slices_dataset(folder, out, target_size=(8, 8), pad_value=-1,
                                     save_stats=True, progress=False)
    assert (summary.done, summary.failed, int(summary)) == (1, 3, 3)
    assert sorted(p.parent.parent.name for p in out.rglob("*.tif")) == ["fine"] * 3
    with (out / "axial_slices_failures.csv").open() as handle:
        failures = {row["FILENAME"]: row["ERROR"] for row in csv.DictReader(handle)}
    assert sorted(failures) == ["big.nii.gz", "broken.nii.gz", "bytes.nii.gz"]
    assert "target_size (8, 8) is smaller than the slice size (20, 4)" in failures["big.nii.gz"]
    assert "pad_value=-1 cannot be held by the uint8 pixels" in failures["bytes.nii.gz"]
    assert (out / "axial_slices_stats.csv").read_text() == (
        "FILENAME,NUM_SLICES\nfine.nii.gz,3\nTOTAL_SLICES,3\n"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"normalization": "z-score"},
         "normalization='z-score' is not valid; choose one of None, 'min-max'"),
        ({"pad_value": "zero"}, "pad_value='zero' is not valid; use a finite number"),
        ({"data_mode": "box"}, "extract_slices_dataset takes no option 'data_mode'; it is an "
                               "option of extract_annotations_dataset"),
        ({"saving_mode": "slice"}, "saving_mode='slice' is not valid; choose one of"),
    ],
)
def test_bad_options_fail_before_anything_is_written(tmp_path, options, message):
    write_nifti(tmp_path / "in" / "v.nii.gz", worked_example_volume())
    with pytest.raises(ValueError) as error:
        extract_slices_dataset(tmp_path / "in", tmp_path / "out", progress=False, **options)
    assert message in str(error.value)
    assert not (tmp_path / "out").exists()
