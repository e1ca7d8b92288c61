"""Inputs, case names, voxel values, and the per-case failures (docs/reference.md)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    BOX,
    VOLUME_BOX_LABEL,
    read_failures,
    read_tree,
    user_files,
    write_nifti,
    write_scaled_nifti,
)

from niprep import extract_annotations_dataset


def one_voxel(value=1, dtype=np.uint8, at=(1, 2, 0), shape=(3, 4, 2)) -> np.ndarray:
    volume = np.zeros(shape, dtype=dtype)
    volume[at] = value
    return volume


def stats(out: Path) -> str:
    return (out / "axial_annotations_stats.csv").read_text()


def run(folder: Path, out: Path, **options):
    return extract_annotations_dataset(folder, out, progress=False, **options)


# ---------------------------------------------------------------- which files are cases


def test_nii_and_nii_gz_are_read_other_files_and_subfolders_ignored(tmp_path: Path):
    folder = tmp_path / "in"
    write_nifti(folder / "plain.nii", one_voxel(at=(0, 1, 0)))
    write_nifti(folder / "packed.nii.gz", one_voxel(at=(2, 3, 1)))
    write_nifti(folder / "nested" / "inner.nii.gz", one_voxel())  # a sub-directory
    write_nifti(folder / "folder.nii.gz" / "x.nii.gz", one_voxel())  # a directory named .nii.gz
    (folder / "notes.txt").write_text("not a case")
    (folder / "backup.nii.gz.bak").write_bytes(b"x")
    (folder / "upper.NII.GZ").write_bytes(b"x")
    out = tmp_path / "out"
    summary = run(folder, out, data_mode="box", save_stats=True)
    assert read_tree(out) == {
        "axial_annotations_stats.csv":
            "FILENAME,NUM_ANNOTATIONS\npacked.nii.gz,1\nplain.nii,1\nTOTAL_ANNOTATIONS,2\n",
        "packed/axial/packed_axial_001.csv": BOX + "3,2,3,2\n",
        "plain/axial/plain_axial_000.csv": BOX + "1,0,1,0\n",
    }
    assert (summary.done, summary.failed, summary.total) == (2, 0, 2)


def test_cases_are_reported_in_sorted_order_of_file_names(tmp_path: Path):
    folder = tmp_path / "in"
    names = ["b.nii.gz", "a10.nii.gz", "B.nii.gz", "a2.nii", "a_1.nii.gz"]
    for count, name in enumerate(names, start=1):
        volume = np.zeros((3, 3, count), dtype=np.uint8)
        for s in range(count):  # `count` annotations, one value per slice
            volume[1, 1, s] = s + 1
        write_nifti(folder / name, volume)
    out = tmp_path / "out"
    run(folder, out, save_stats=True)
    assert stats(out) == (
        "FILENAME,NUM_ANNOTATIONS\nB.nii.gz,3\na10.nii.gz,2\na2.nii,4\na_1.nii.gz,5\n"
        "b.nii.gz,1\nTOTAL_ANNOTATIONS,15\n"
    )


@pytest.mark.parametrize("make", ["missing", "empty", "only_other_files"])
def test_no_nifti_folder_is_file_not_found_naming_it(tmp_path: Path, make: str):
    folder = tmp_path / "in"
    if make != "missing":
        folder.mkdir()
    if make == "only_other_files":
        (folder / "readme.txt").write_text("x")
        write_nifti(folder / "sub" / "deep.nii.gz", one_voxel())
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match="nii_folder") as raised:
        run(folder, out)
    assert str(folder) in str(raised.value)
    assert not out.exists()


def test_a_file_as_nii_folder_is_file_not_found(tmp_path: Path):
    path = write_nifti(tmp_path / "a.nii.gz", one_voxel())
    with pytest.raises(FileNotFoundError, match="a.nii.gz"):
        run(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- case names


@pytest.mark.parametrize(
    ("first", "second"),
    [("a.nii", "a.nii.gz"), ("a_bbox.nii.gz", "a.nii.gz"), ("a_bbox.nii", "a.nii.gz")],
)
def test_two_files_with_one_case_name_fail_before_anything_is_written(
    tmp_path: Path, first: str, second: str
):
    folder = tmp_path / "in"
    write_nifti(folder / first, one_voxel())
    write_nifti(folder / second, one_voxel())
    write_nifti(folder / "other.nii.gz", one_voxel())
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="case name 'a'") as raised:
        run(folder, out)
    assert first in str(raised.value) and second in str(raised.value)
    assert not out.exists()


@pytest.mark.parametrize("strip_suffix", [None, ""])
def test_strip_suffix_none_or_empty_keeps_names(tmp_path: Path, strip_suffix):
    folder = tmp_path / "in"
    write_nifti(folder / "a_bbox.nii.gz", one_voxel())
    write_nifti(folder / "a.nii.gz", one_voxel())  # no collision when names are kept
    out = tmp_path / "out"
    summary = run(folder, out, strip_suffix=strip_suffix, saving_mode="view",
                  extraction_mode="volume", data_mode="box")
    assert sorted(read_tree(out)) == ["axial/a.csv", "axial/a_bbox.csv"]
    assert summary.done == 2


def test_strip_suffix_is_removed_once_from_the_end_only(tmp_path: Path):
    folder = tmp_path / "in"
    write_nifti(folder / "x_seg_seg.nii.gz", one_voxel())
    write_nifti(folder / "y_seg_mask.nii.gz", one_voxel())
    write_nifti(folder / "z_bbox.nii.gz", one_voxel())
    out = tmp_path / "out"
    run(folder, out, strip_suffix="_seg", extraction_mode="volume")
    assert sorted(read_tree(out)) == [
        "x_seg/axial/x_seg.csv", "y_seg_mask/axial/y_seg_mask.csv", "z_bbox/axial/z_bbox.csv"
    ]


def test_default_strip_suffix_names_case_folders_and_files(tmp_path: Path):
    folder = tmp_path / "in"
    write_nifti(folder / "case_7_bbox.nii.gz", one_voxel())
    out = tmp_path / "out"
    run(folder, out, data_mode="box")
    assert read_tree(out) == {"case_7/axial/case_7_axial_000.csv": BOX + "2,1,2,1\n"}


def test_names_empty_or_hidden_after_stripping_fail_alone(tmp_path: Path):
    folder = tmp_path / "in"
    for name in ("_bbox.nii.gz", ".hidden.nii.gz", "..nii", "good_bbox.nii.gz"):
        write_nifti(folder / name, one_voxel())
    out = tmp_path / "out"
    summary = run(folder, out, save_stats=True, data_mode="box")
    failures = dict(read_failures(out))
    assert sorted(failures) == ["..nii", ".hidden.nii.gz", "_bbox.nii.gz"]
    assert "'.hidden'" in failures[".hidden.nii.gz"]
    assert "''" in failures["_bbox.nii.gz"]
    assert user_files(out) == [
        "axial_annotations_failures.csv", "axial_annotations_stats.csv",
        "good/axial/good_axial_000.csv",
    ]
    assert stats(out) == "FILENAME,NUM_ANNOTATIONS\ngood_bbox.nii.gz,1\nTOTAL_ANNOTATIONS,1\n"
    assert (summary.done, summary.failed) == (1, 3)
    assert sorted(name for name, _ in summary.failures) == sorted(failures)


# ---------------------------------------------------------------- voxel values


def test_scaling_is_applied_as_nibabel_gives_it(tmp_path: Path):
    volume = np.zeros((3, 4, 2), dtype=np.uint8)
    volume[0, 0, 0] = 1  # 1 * 2 - 2 = 0: background
    volume[1, 1, 0] = 2  # 2
    volume[2, 3, 1] = 3  # 4
    volume[2, 0, 1] = 5  # 8
    write_scaled_nifti(tmp_path / "in" / "scaled.nii.gz", volume, slope=2.0, inter=-2.0)
    out = tmp_path / "out"
    summary = run(tmp_path / "in", out, extraction_mode="volume", data_mode="box",
                  include_label=True)
    assert read_tree(out) == {
        "scaled/axial/scaled.csv": VOLUME_BOX_LABEL + "1,1,0,1,1,0,2\n3,2,1,3,2,1,4\n"
                                   "0,2,1,0,2,1,8\n"
    }
    assert int(summary) == 3


def test_scaling_to_fractions_gives_float_labels(tmp_path: Path):
    volume = one_voxel(value=3)
    write_scaled_nifti(tmp_path / "in" / "half.nii.gz", volume, slope=0.5, inter=0.0)
    out = tmp_path / "out"
    run(tmp_path / "in", out, extraction_mode="volume", data_mode="box", include_label=True)
    assert read_tree(out) == {"half/axial/half.csv": VOLUME_BOX_LABEL + "2,1,0,2,1,0,1.5\n"}


def test_a_4d_volume_with_one_frame_is_the_3d_volume(tmp_path: Path):
    volume = one_voxel(value=4, at=(2, 1, 1))
    write_nifti(tmp_path / "a" / "v.nii.gz", volume)
    write_nifti(tmp_path / "b" / "v.nii.gz", volume[..., None])
    run(tmp_path / "a", tmp_path / "out_a", write_empty=True, include_label=True)
    run(tmp_path / "b", tmp_path / "out_b", write_empty=True, include_label=True)
    expected = read_tree(tmp_path / "out_a")
    assert expected["v/axial/v_axial_001.csv"] == "CENTER_X,CENTER_Y,LABEL\n1.0,2.0,4\n"
    assert read_tree(tmp_path / "out_b") == expected


@pytest.mark.parametrize(
    ("array", "shape_text"),
    [
        (np.ones((3, 4, 2, 2), dtype=np.uint8), "(3, 4, 2, 2)"),
        (np.ones((3, 4), dtype=np.uint8), "(3, 4)"),
    ],
)
def test_volumes_that_are_not_3d_fail_alone_giving_the_shape(tmp_path: Path, array, shape_text):
    folder = tmp_path / "in"
    write_nifti(folder / "bad.nii.gz", array)
    write_nifti(folder / "good.nii.gz", one_voxel())
    out = tmp_path / "out"
    summary = run(folder, out, save_stats=True)
    failures = dict(read_failures(out))
    assert list(failures) == ["bad.nii.gz"]
    assert shape_text in failures["bad.nii.gz"]
    assert not (out / "bad").exists()
    assert stats(out) == "FILENAME,NUM_ANNOTATIONS\ngood.nii.gz,1\nTOTAL_ANNOTATIONS,1\n"
    assert (summary.done, summary.failed) == (1, 1)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_fail_the_case(tmp_path: Path, bad_value: float):
    volume = one_voxel(value=2.0, dtype=np.float32)
    volume[0, 0, 1] = bad_value
    folder = tmp_path / "in"
    write_nifti(folder / "bad.nii.gz", volume)
    write_nifti(folder / "good.nii", one_voxel())
    out = tmp_path / "out"
    summary = run(folder, out)
    failures = dict(read_failures(out))
    assert list(failures) == ["bad.nii.gz"]
    assert "finite" in failures["bad.nii.gz"] or "NaN" in failures["bad.nii.gz"]
    assert user_files(out) == ["axial_annotations_failures.csv",
                               "good/axial/good_axial_000.csv"]
    assert (summary.done, summary.failed) == (1, 1)


def test_unreadable_files_fail_alone_with_a_one_line_reason(tmp_path: Path):
    folder = tmp_path / "in"
    good = write_nifti(folder / "good.nii.gz", one_voxel())
    (folder / "garbage.nii.gz").write_bytes(b"this is not a NIfTI file")
    (folder / "junk.nii").write_bytes(b"neither is this one, it is far too short")
    raw = good.read_bytes()
    (folder / "cut.nii.gz").write_bytes(raw[: len(raw) // 2])  # gzip stream ends early
    (folder / "short.nii.gz").write_bytes(gzip.compress(gzip.decompress(raw)[:-5]))
    out = tmp_path / "out"
    summary = run(folder, out)
    failures = dict(read_failures(out))
    assert sorted(failures) == ["cut.nii.gz", "garbage.nii.gz", "junk.nii", "short.nii.gz"]
    for reason in failures.values():
        assert reason and "\n" not in reason and "Traceback" not in reason
        assert "applying transform" not in reason  # MONAI's wrapper is not the reason
    assert user_files(out) == ["axial_annotations_failures.csv", "good/axial/good_axial_000.csv"]
    assert (summary.done, summary.failed) == (1, 4)


def test_a_dangling_link_with_a_nifti_name_is_a_failing_case(tmp_path: Path):
    folder = tmp_path / "in"
    write_nifti(folder / "good.nii.gz", one_voxel())
    (folder / "gone.nii.gz").symlink_to(tmp_path / "deleted.nii.gz")
    out = tmp_path / "out"
    summary = run(folder, out)
    assert [name for name, _ in read_failures(out)] == ["gone.nii.gz"]
    assert (summary.done, summary.failed) == (1, 1)


# ---------------------------------------------------------------- target_size


def test_a_case_larger_than_target_size_fails_alone_giving_both_sizes(tmp_path: Path):
    folder = tmp_path / "in"
    write_nifti(folder / "big.nii.gz", one_voxel(shape=(6, 4, 2)))  # axial slice 6 x 4
    write_nifti(folder / "wide.nii.gz", one_voxel(shape=(3, 9, 2)))  # axial slice 3 x 9
    write_nifti(folder / "fits.nii.gz", one_voxel(shape=(5, 5, 2), at=(0, 0, 1)))
    out = tmp_path / "out"
    summary = run(folder, out, target_size=(5, 8), data_mode="box", save_stats=True)
    failures = dict(read_failures(out))
    assert sorted(failures) == ["big.nii.gz", "wide.nii.gz"]
    assert "(5, 8)" in failures["big.nii.gz"] and "(6, 4)" in failures["big.nii.gz"]
    assert "(5, 8)" in failures["wide.nii.gz"] and "(3, 9)" in failures["wide.nii.gz"]
    assert read_tree(out) == {
        "axial_annotations_failures.csv": (out / "axial_annotations_failures.csv").read_text(),
        "axial_annotations_stats.csv":
            "FILENAME,NUM_ANNOTATIONS\nfits.nii.gz,1\nTOTAL_ANNOTATIONS,1\n",
        # offsets: rows (5 - 5) // 2 = 0, cols (8 - 5) // 2 = 1
        "fits/axial/fits_axial_001.csv": BOX + "1,0,1,0\n",
    }
    assert (summary.done, summary.failed, int(summary)) == (1, 2, 1)


def test_target_size_equal_to_the_slice_is_no_offset(tmp_path: Path):
    write_nifti(tmp_path / "in" / "v.nii.gz", one_voxel(shape=(3, 4, 2)))
    out = tmp_path / "out"
    run(tmp_path / "in", out, target_size=(3, 4), data_mode="box")
    assert read_tree(out) == {"v/axial/v_axial_000.csv": BOX + "2,1,2,1\n"}
