"""What is an annotation, in which order, and what is written (docs/reference.md)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from conftest import (
    BOX,
    BOX_LABEL,
    VOLUME_BOX,
    VOLUME_BOX_LABEL,
    read_tree,
    user_files,
    write_nifti,
)

from niprep import extract_annotations_dataset


def run(tmp_path: Path, volume: np.ndarray, name: str = "v.nii.gz", affine=None, **options):
    """Write ``volume`` as the only case of a folder, extract it, return (tree, summary)."""
    folder = tmp_path / "in"
    write_nifti(folder / name, volume, affine)
    out = tmp_path / "out"
    summary = extract_annotations_dataset(folder, out, progress=False, **options)
    return read_tree(out), summary


# ---------------------------------------------------------------- annotations: label mode


def test_each_distinct_positive_value_is_one_annotation_even_non_integer(tmp_path: Path):
    volume = np.zeros((4, 4, 3), dtype=np.float32)
    volume[0, 0, 0] = volume[1, 1, 0] = 2.25
    volume[3, 3, 2] = 0.5
    volume[2, 0, 1] = 1.0
    volume[0, 3, 0] = -1.0  # background
    volume[3, 0, 0] = -0.5  # background
    volume[1, 3, 2] = 0.1  # float32(0.1) is written exactly, as the float it is
    tree, summary = run(tmp_path, volume, extraction_mode="volume", data_mode="box",
                        include_label=True)
    assert tree == {
        "v/axial/v.csv": VOLUME_BOX_LABEL
        + "3,1,2,3,1,2,0.10000000149011612\n"
        + "3,3,2,3,3,2,0.5\n"
        + "0,2,1,0,2,1,1\n"
        + "0,0,0,1,1,0,2.25\n"
    }
    assert int(summary) == 4


@pytest.mark.parametrize(
    ("dtype", "value", "text"),
    [(np.uint8, 3, "3"), (np.int16, 300, "300"), (np.float32, 3.0, "3"),
     (np.float32, 2.5, "2.5"), (np.float64, 1e-3, "0.001"), (np.int16, 7, "7")],
)
def test_label_column_is_an_integer_when_integral_else_a_float(tmp_path: Path, dtype, value,
                                                               text):
    volume = np.zeros((3, 4, 2), dtype=dtype)
    volume[1, 2, 1] = value
    tree, _ = run(tmp_path, volume, data_mode="center", include_label=True)
    assert tree == {"v/axial/v_axial_001.csv": f"CENTER_X,CENTER_Y,LABEL\n2.0,1.0,{text}\n"}


def test_negative_and_zero_values_are_background(tmp_path: Path):
    volume = np.full((3, 4, 2), -5, dtype=np.int16)
    volume[0, 0, 0] = 0
    tree, summary = run(tmp_path, volume, extraction_mode="volume", data_mode="radius")
    assert tree == {"v/axial/v.csv": "CENTER_X,CENTER_Y,CENTER_Z,RADIUS_X,RADIUS_Y,RADIUS_Z\n"}
    assert (int(summary), summary.done, summary.files_written) == (0, 1, 1)


# ---------------------------------------------------------------- annotations: components


def diagonal_chain() -> np.ndarray:
    """Value 1 at (0,0,0); (1,1,0) touches it by an edge; (2,2,1) touches (1,1,0) by a
    corner; (3,2,1) touches (2,2,1) by a face. Value 2 at (0,1,0) touches (0,0,0) by a face
    but is another value."""
    volume = np.zeros((4, 4, 3), dtype=np.uint8)
    for voxel in [(0, 0, 0), (1, 1, 0), (2, 2, 1), (3, 2, 1)]:
        volume[voxel] = 1
    volume[0, 1, 0] = 2
    return volume


@pytest.mark.parametrize(
    ("options", "rows"),
    [
        (dict(instances="components", connectivity=6),
         ["0,0,0,0,0,0,1", "1,1,0,1,1,0,1", "2,2,1,2,3,1,1", "1,0,0,1,0,0,2"]),
        (dict(instances="components", connectivity=18),
         ["0,0,0,1,1,0,1", "2,2,1,2,3,1,1", "1,0,0,1,0,0,2"]),
        (dict(instances="components", connectivity=26), ["0,0,0,2,3,1,1", "1,0,0,1,0,0,2"]),
        (dict(instances="components"), ["0,0,0,2,3,1,1", "1,0,0,1,0,0,2"]),  # 26 by default
        (dict(instances="label"), ["0,0,0,2,3,1,1", "1,0,0,1,0,0,2"]),
    ],
)
def test_connectivity_6_18_26(tmp_path: Path, options, rows):
    tree, summary = run(tmp_path, diagonal_chain(), extraction_mode="volume", data_mode="box",
                        include_label=True, **options)
    assert tree == {"v/axial/v.csv": VOLUME_BOX_LABEL + "".join(row + "\n" for row in rows)}
    assert int(summary) == len(rows)


@pytest.mark.parametrize(
    ("min_voxels", "rows"),
    [
        (0, ["0,0,0,0,0,0", "1,1,0,1,1,0", "2,2,1,2,3,1", "1,0,0,1,0,0"]),
        (1, ["0,0,0,0,0,0", "1,1,0,1,1,0", "2,2,1,2,3,1", "1,0,0,1,0,0"]),
        (2, ["2,2,1,2,3,1"]),
        (3, []),
    ],
)
def test_min_voxels_drops_smaller_components(tmp_path: Path, min_voxels, rows):
    tree, summary = run(tmp_path, diagonal_chain(), extraction_mode="volume", data_mode="box",
                        save_stats=True, instances="components", connectivity=6,
                        min_voxels=min_voxels)
    assert tree == {
        "v/axial/v.csv": VOLUME_BOX + "".join(row + "\n" for row in rows),
        "axial_annotations_stats.csv":
            f"FILENAME,NUM_ANNOTATIONS\nv.nii.gz,{len(rows)}\nTOTAL_ANNOTATIONS,{len(rows)}\n",
    }
    assert int(summary) == len(rows)


@pytest.mark.parametrize(
    ("zooms", "min_volume_mm3", "kept"),
    [
        ((2.0, 2.0, 2.0), 0.0, 4),
        ((2.0, 2.0, 2.0), 8.0, 4),  # 8 mm3 per voxel: a one-voxel component is kept at 8
        ((2.0, 2.0, 2.0), 8.5, 1),
        ((2.0, 2.0, 2.0), 16.0, 1),
        ((2.0, 2.0, 2.0), 16.5, 0),
        ((0.5, 1.0, 2.0), 1.0, 4),  # 1 mm3 per voxel
        ((0.5, 1.0, 2.0), 1.5, 1),
        ((1.0, 1.0, 1.0), 2.0, 1),
    ],
)
def test_min_volume_uses_the_voxel_size_of_the_header(tmp_path: Path, zooms, min_volume_mm3,
                                                     kept):
    tree, summary = run(tmp_path, diagonal_chain(), affine=np.diag([*zooms, 1.0]),
                        extraction_mode="volume", data_mode="box", instances="components",
                        connectivity=6, min_volume_mm3=min_volume_mm3)
    everything = ["0,0,0,0,0,0", "1,1,0,1,1,0", "2,2,1,2,3,1", "1,0,0,1,0,0"]
    rows = everything if kept == 4 else ["2,2,1,2,3,1"][:kept]
    assert tree == {"v/axial/v.csv": VOLUME_BOX + "".join(row + "\n" for row in rows)}
    assert int(summary) == kept


def ordering_volume() -> np.ndarray:
    """Value 1: G = (0,0,0)..(3,0,0) then (3,0,1); H = (1,2,1); A = (0,4,4); B = (4,4,0).
    Value 2: D = (0,0,3). C order of (i, j, k) of first voxels: G (0,0,0), A (0,4,4),
    H (1,2,1), B (4,4,0); then D."""
    volume = np.zeros((5, 5, 5), dtype=np.uint8)
    volume[0:4, 0, 0] = 1
    volume[3, 0, 1] = 1
    volume[1, 2, 1] = 1
    volume[0, 4, 4] = 1
    volume[4, 4, 0] = 1
    volume[0, 0, 3] = 2
    return volume


def test_components_are_ordered_by_value_then_first_voxel_in_c_order(tmp_path: Path):
    tree, _ = run(tmp_path, ordering_volume(), extraction_mode="volume", data_mode="box",
                  include_label=True, instances="components", connectivity=6)
    assert tree == {
        "v/axial/v.csv": VOLUME_BOX_LABEL
        + "0,0,0,0,3,1,1\n"  # G
        + "4,0,4,4,0,4,1\n"  # A
        + "2,1,1,2,1,1,1\n"  # H
        + "4,4,0,4,4,0,1\n"  # B
        + "0,0,3,0,0,3,2\n"  # D
    }


@pytest.mark.parametrize(
    ("box_scope", "slice_1"),
    [("volume", "0,0,0,3\n2,1,2,1\n"), ("slice", "0,3,0,3\n2,1,2,1\n")],
)
def test_rows_of_a_slice_follow_the_annotation_order(tmp_path: Path, box_scope, slice_1):
    # on slice 1, G's voxel (row 3) lies below H's (row 1), but G comes first in C order
    tree, _ = run(tmp_path, ordering_volume(), data_mode="box", instances="components",
                  connectivity=6, box_scope=box_scope)
    assert tree["v/axial/v_axial_001.csv"] == BOX + slice_1
    assert tree["v/axial/v_axial_000.csv"] == BOX + "0,0,0,3\n4,4,4,4\n"  # G, B


def test_different_values_never_join(tmp_path: Path):
    volume = np.zeros((2, 2, 2), dtype=np.int16)
    volume[0] = 4
    volume[1] = 9
    tree, _ = run(tmp_path, volume, extraction_mode="volume", data_mode="box",
                  include_label=True, instances="components")
    assert tree == {"v/axial/v.csv": VOLUME_BOX_LABEL + "0,0,0,1,0,1,4\n0,1,0,1,1,1,9\n"}


@pytest.mark.parametrize(
    ("dtype", "big", "small"),
    [(np.int64, 2**40, 5), (np.uint64, 2**63 + 1, 5), (np.float64, 0.2, 0.1)],
)
def test_components_of_values_beyond_32_bits_or_fractional(tmp_path: Path, dtype, big, small):
    volume = np.zeros((3, 3, 2), dtype=dtype)
    volume[0, 0, 0] = volume[2, 2, 1] = big  # two components of one value
    volume[1, 1, 0] = volume[0, 1, 0] = small  # one component, touching `big` by a face
    folder = tmp_path / "in"
    folder.mkdir()
    nib.save(nib.Nifti1Image(volume, np.eye(4), dtype=dtype), folder / "v.nii.gz")
    out = tmp_path / "out"
    extract_annotations_dataset(folder, out, extraction_mode="volume", data_mode="box",
                                include_label=True, instances="components", connectivity=6,
                                progress=False)
    assert read_tree(out) == {
        "v/axial/v.csv": VOLUME_BOX_LABEL
        + f"1,0,0,1,1,0,{small}\n0,0,0,0,0,0,{big}\n2,2,1,2,2,1,{big}\n"
    }


# ---------------------------------------------------------------- CSVs: slice mode


def gap_volume() -> np.ndarray:
    """Value 5 on slices 0 and 2 (not 1) of 4, value 6 on slice 1 only."""
    volume = np.zeros((4, 5, 4), dtype=np.uint8)
    volume[0, 0, 0] = volume[1, 2, 0] = 5
    volume[3, 3, 2] = 5
    volume[2, 4, 1] = 6
    return volume


def test_box_scope_volume_projects_the_3d_box_on_every_slice(tmp_path: Path):
    tree, _ = run(tmp_path, gap_volume(), data_mode="box", include_label=True)
    assert tree == {
        "v/axial/v_axial_000.csv": BOX_LABEL + "0,0,3,3,5\n",
        "v/axial/v_axial_001.csv": BOX_LABEL + "0,0,3,3,5\n4,2,4,2,6\n",
        "v/axial/v_axial_002.csv": BOX_LABEL + "0,0,3,3,5\n",
    }


def test_box_scope_slice_gives_tight_boxes_and_no_row_where_absent(tmp_path: Path):
    tree, summary = run(tmp_path, gap_volume(), data_mode="box", include_label=True,
                        box_scope="slice")
    assert tree == {
        "v/axial/v_axial_000.csv": BOX_LABEL + "0,0,2,1,5\n",
        "v/axial/v_axial_001.csv": BOX_LABEL + "4,2,4,2,6\n",
        "v/axial/v_axial_002.csv": BOX_LABEL + "3,3,3,3,5\n",
    }
    assert int(summary) == 2  # annotations, not rows


def test_box_scope_slice_with_offset_and_radius(tmp_path: Path):
    # slice 4 x 5 padded to 7 x 8: rows + 1, cols + 1
    tree, _ = run(tmp_path, gap_volume(), data_mode="radius", box_scope="slice",
                  target_size=(7, 8))
    header = "CENTER_X,CENTER_Y,RADIUS_X,RADIUS_Y\n"
    assert tree == {
        "v/axial/v_axial_000.csv": header + "2.0,1.5,1.0,0.5\n",
        "v/axial/v_axial_001.csv": header + "5.0,3.0,0.0,0.0\n",
        "v/axial/v_axial_002.csv": header + "4.0,4.0,0.0,0.0\n",
    }


@pytest.mark.parametrize("box_scope", ["volume", "slice"])
def test_write_empty_adds_a_header_only_file_for_every_slice_without_row(tmp_path: Path,
                                                                         box_scope):
    tree, summary = run(tmp_path, gap_volume(), data_mode="center", box_scope=box_scope,
                        write_empty=True)
    header = "CENTER_X,CENTER_Y\n"
    expected = {
        "volume": {0: "1.5,1.5\n", 1: "1.5,1.5\n4.0,2.0\n", 2: "1.5,1.5\n", 3: ""},
        "slice": {0: "1.0,0.5\n", 1: "4.0,2.0\n", 2: "3.0,3.0\n", 3: ""},
    }[box_scope]
    assert tree == {f"v/axial/v_axial_{s:03d}.csv": header + rows for s, rows in expected.items()}
    assert summary.files_written == 4


def test_write_empty_with_a_gap_slice(tmp_path: Path):
    volume = np.zeros((2, 2, 3), dtype=np.uint8)
    volume[0, 0, 0] = volume[1, 1, 2] = 1
    tree, _ = run(tmp_path, volume, data_mode="box", box_scope="slice", write_empty=True)
    assert tree == {
        "v/axial/v_axial_000.csv": BOX + "0,0,0,0\n",
        "v/axial/v_axial_001.csv": BOX,
        "v/axial/v_axial_002.csv": BOX + "1,1,1,1\n",
    }


def test_a_case_without_annotation(tmp_path: Path):
    volume = np.zeros((2, 3, 2), dtype=np.uint8)
    tree, summary = run(tmp_path, volume, save_stats=True)
    assert tree == {"axial_annotations_stats.csv":
                    "FILENAME,NUM_ANNOTATIONS\nv.nii.gz,0\nTOTAL_ANNOTATIONS,0\n"}
    assert (summary.done, summary.files_written, int(summary)) == (1, 0, 0)
    tree, _ = run(tmp_path / "empty", volume, write_empty=True, view="coronal",
                  data_mode="radius", include_label=True)
    header = "CENTER_X,CENTER_Y,RADIUS_X,RADIUS_Y,LABEL\n"
    assert tree == {f"v/coronal/v_coronal_{s:03d}.csv": header for s in range(3)}


@pytest.mark.parametrize(
    ("data_mode", "include_label", "header"),
    [
        ("center", False, "CENTER_X,CENTER_Y,CENTER_Z\n"),
        ("box", True, VOLUME_BOX_LABEL),
        ("radius", True, "CENTER_X,CENTER_Y,CENTER_Z,RADIUS_X,RADIUS_Y,RADIUS_Z,LABEL\n"),
    ],
)
def test_volume_mode_gives_a_header_only_file_without_annotation(tmp_path: Path, data_mode,
                                                                  include_label, header):
    tree, summary = run(tmp_path, np.zeros((2, 3, 2), dtype=np.float32),
                        extraction_mode="volume", data_mode=data_mode,
                        include_label=include_label)
    assert tree == {"v/axial/v.csv": header}
    assert summary.files_written == 1


def test_slice_numbers_have_at_least_three_digits(tmp_path: Path):
    volume = np.zeros((1, 2, 1001), dtype=np.uint8)
    volume[0, 1, 7], volume[0, 0, 99], volume[0, 0, 1000] = 1, 2, 3
    tree, _ = run(tmp_path, volume, data_mode="box")
    assert tree == {
        "v/axial/v_axial_007.csv": BOX + "1,0,1,0\n",
        "v/axial/v_axial_099.csv": BOX + "0,0,0,0\n",
        "v/axial/v_axial_1000.csv": BOX + "0,0,0,0\n",
    }


# ---------------------------------------------------------------- padding offset


@pytest.mark.parametrize(
    ("view", "target_size", "expected"),
    [
        # axial slice (i, j) = 3 x 4; (6, 7): rows + 1, cols + 1 (the odd pixel bottom/right)
        ("axial", (6, 7), "2,2,1,4,3,3\n"),
        ("axial", (3, 4), "1,1,1,3,2,3\n"),
        # coronal slice (i, k) = 3 x 5; (4, 10): rows + 0, cols + 2
        ("coronal", (4, 10), "3,1,1,5,2,3\n"),
        # sagittal slice (j, k) = 4 x 5; (9, 5): rows + 2, cols + 0
        ("sagittal", (9, 5), "1,3,1,3,5,2\n"),
    ],
)
def test_offsets_move_x_and_y_only(tmp_path: Path, view, target_size, expected):
    volume = np.zeros((3, 4, 5), dtype=np.uint8)
    volume[1:3, 1:4, 1:4] = 1
    tree, _ = run(tmp_path, volume, view=view, extraction_mode="volume", data_mode="box",
                  target_size=target_size)
    assert tree == {f"v/{view}/v.csv": VOLUME_BOX + expected}


def test_offsets_leave_radii_unchanged(tmp_path: Path):
    volume = np.zeros((3, 4, 5), dtype=np.uint8)
    volume[1:3, 1:4, 1:4] = 1
    tree, _ = run(tmp_path, volume, extraction_mode="volume", data_mode="radius",
                  target_size=(6, 7))
    assert tree == {"v/axial/v.csv": "CENTER_X,CENTER_Y,CENTER_Z,RADIUS_X,RADIUS_Y,RADIUS_Z\n"
                                     "3.0,2.5,2.0,1.0,0.5,1.0\n"}


# ---------------------------------------------------------------- layout, stats


def test_saving_mode_view_puts_every_case_in_one_view_folder(tmp_path: Path):
    folder = tmp_path / "in"
    first = np.zeros((2, 2, 2), dtype=np.uint8)
    first[0, 1, 1] = 1
    second = np.zeros((3, 2, 2), dtype=np.uint8)
    second[2, 0, 0] = second[1, 1, 1] = 4
    write_nifti(folder / "a_bbox.nii.gz", first)
    write_nifti(folder / "b.nii", second)
    out = tmp_path / "out"
    extract_annotations_dataset(folder, out, view="sagittal", saving_mode="view",
                                data_mode="box", save_stats=True, progress=False)
    assert read_tree(out) == {
        "sagittal/a_sagittal_000.csv": BOX + "1,1,1,1\n",
        "sagittal/b_sagittal_001.csv": BOX + "0,0,1,1\n",
        "sagittal/b_sagittal_002.csv": BOX + "0,0,1,1\n",
        "sagittal_annotations_stats.csv":
            "FILENAME,NUM_ANNOTATIONS\na_bbox.nii.gz,1\nb.nii,1\nTOTAL_ANNOTATIONS,2\n",
    }
    extract_annotations_dataset(folder, tmp_path / "vol", view="sagittal", saving_mode="view",
                                extraction_mode="volume", data_mode="box", progress=False)
    assert user_files(tmp_path / "vol") == ["sagittal/a.csv", "sagittal/b.csv"]


def test_stats_exclude_failed_cases_and_end_with_the_total(tmp_path: Path):
    folder = tmp_path / "in"
    many = np.zeros((2, 2, 2), dtype=np.uint8)
    many[0, 0, 0], many[1, 1, 1], many[0, 1, 0] = 1, 2, 3
    write_nifti(folder / "c.nii.gz", many)
    write_nifti(folder / "a.nii.gz", many[:, :, :1])
    write_nifti(folder / "b.nii.gz", np.ones((2, 2), dtype=np.uint8))  # 2-D: fails
    out = tmp_path / "out"
    summary = extract_annotations_dataset(folder, out, save_stats=True, view="coronal",
                                          progress=False)
    assert (out / "coronal_annotations_stats.csv").read_text() == (
        "FILENAME,NUM_ANNOTATIONS\na.nii.gz,2\nc.nii.gz,3\nTOTAL_ANNOTATIONS,5\n"
    )
    assert (out / "coronal_annotations_failures.csv").exists()
    assert (summary.done, summary.failed, summary.total, int(summary)) == (2, 1, 5, 5)
