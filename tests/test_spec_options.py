"""Every option is validated before any file is read or written.

A bad value raises ``ValueError`` naming the option, the value and the allowed values,
through both public functions, and leaves no output folder behind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import read_tree, worked_example_volume, write_nifti

from niprep import extract_annotations, extract_annotations_dataset

CHOICES = {
    "view": ["'axial'", "'coronal'", "'sagittal'"],
    "saving_mode": ["'case'", "'view'"],
    "extraction_mode": ["'slice'", "'volume'"],
    "data_mode": ["'center'", "'box'", "'radius'"],
    "instances": ["'label'", "'components'"],
    "connectivity": ["6", "18", "26"],
    "box_scope": ["'volume'", "'slice'"],
}

BAD_CHOICES = [
    ("view", "Axial"),
    ("view", "transverse"),
    ("view", None),
    ("saving_mode", "slice"),
    ("saving_mode", "views"),
    ("extraction_mode", "case"),
    ("extraction_mode", "slices"),
    ("data_mode", "boxes"),
    ("data_mode", ""),
    ("instances", "instance"),
    ("instances", "connected"),
    ("connectivity", 8),
    ("connectivity", 4),
    ("connectivity", "26"),
    ("connectivity", True),
    ("box_scope", "case"),
]

BAD_TARGET_SIZES = [
    [512],
    (0, 5),
    (5, 0),
    (-3, 5),
    (1.5, 2),
    (512.0, 512.0),
    "ab",
    "51",
    b"ab",
    True,
    512,
    (512, 512, 1),
    (True, 5),
    {"h": 5, "w": 5},
    {5, 6},
    np.array([[8, 8]]),
    np.array([8.0, 8.0]),
]

BAD_ORIENTATIONS = ["XYZ", "RAR", "RA", "RASL", "", 3, ("R", "A", "S"), "LRS"]

BAD_OTHERS = [
    ("min_voxels", -1),
    ("min_voxels", 1.5),
    ("min_volume_mm3", -0.5),
    ("min_volume_mm3", "big"),
    ("min_volume_mm3", float("nan")),
    ("include_label", "yes"),
    ("include_label", 1),
    ("write_empty", None),
    ("save_stats", "true"),
    ("strip_suffix", 5),
    ("workers", 0),
    ("backend", "threads"),
]


@pytest.fixture
def masks(tmp_path: Path) -> Path:
    folder = tmp_path / "masks"
    write_nifti(folder / "case_001_bbox.nii.gz", worked_example_volume())
    return folder


def check_refused(call, out: Path, name: str, value, allowed: list[str]) -> None:
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message
    assert name in message
    assert repr(value) in message
    for choice in allowed:
        assert choice in message
    assert not out.exists()


@pytest.mark.parametrize(("name", "value"), BAD_CHOICES)
def test_bad_choice_names_option_value_and_choices(masks: Path, tmp_path: Path, name, value):
    out = tmp_path / "out"
    check_refused(lambda: extract_annotations_dataset(masks, out, **{name: value}),
                  out, name, value, CHOICES[name])


@pytest.mark.parametrize("value", BAD_TARGET_SIZES, ids=repr)
def test_bad_target_size_is_refused(masks: Path, tmp_path: Path, value):
    out = tmp_path / "out"
    check_refused(lambda: extract_annotations_dataset(masks, out, target_size=value),
                  out, "target_size", value, ["two positive integers"])


@pytest.mark.parametrize("value", BAD_ORIENTATIONS, ids=repr)
def test_bad_orientation_is_refused(masks: Path, tmp_path: Path, value):
    out = tmp_path / "out"
    check_refused(lambda: extract_annotations_dataset(masks, out, orientation=value),
                  out, "orientation", value, ["3-letter", "L/R", "P/A", "I/S"])


@pytest.mark.parametrize(("name", "value"), BAD_OTHERS, ids=repr)
def test_bad_value_of_other_options_is_refused(masks: Path, tmp_path: Path, name, value):
    out = tmp_path / "out"
    check_refused(lambda: extract_annotations_dataset(masks, out, **{name: value}),
                  out, name, value, [])


def test_unknown_option_is_refused_listing_the_options(masks: Path, tmp_path: Path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="takes no option 'box_mod'; its options are") as raised:
        extract_annotations_dataset(masks, out, box_mod="slice")
    for option in ("'box_scope'", "'include_label'", "'orientation'", "'instances'"):
        assert option in str(raised.value)
    assert not out.exists()


def test_options_are_checked_before_the_folder(tmp_path: Path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="view='front'"):
        extract_annotations_dataset(tmp_path / "missing", out, view="front")
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("view", "top", CHOICES["view"]),
        ("data_mode", "corners", CHOICES["data_mode"]),
        ("target_size", (16,), ["two positive integers"]),
        ("connectivity", 10, CHOICES["connectivity"]),
        ("box_scope", "2d", CHOICES["box_scope"]),
    ],
)
def test_single_case_function_validates_the_same_way(masks: Path, tmp_path: Path, name, value,
                                                      allowed):
    out = tmp_path / "out"
    path = masks / "case_001_bbox.nii.gz"
    check_refused(lambda: extract_annotations(path, out, **{name: value}), out, name, value,
                  allowed)


def test_single_case_function_takes_saving_mode_slice_or_volume(masks: Path, tmp_path: Path):
    out = tmp_path / "out"
    path = masks / "case_001_bbox.nii.gz"
    check_refused(lambda: extract_annotations(path, out, saving_mode="case"), out,
                  "saving_mode", "case", ["'slice'", "'volume'"])
    with pytest.raises(ValueError, match="extraction_mode"):
        extract_annotations(path, out, extraction_mode="volume")
    assert not out.exists()


@pytest.mark.parametrize(
    "value", [(16, 16), [16, 16], (np.int64(16), np.int32(16)), np.array([16, 16])], ids=repr
)
def test_target_size_accepts_any_two_positive_integers(masks: Path, tmp_path: Path, value):
    out = tmp_path / "out"
    extract_annotations_dataset(masks, out, target_size=value, data_mode="center",
                                extraction_mode="volume", progress=False)
    assert read_tree(out) == {
        "case_001/axial/case_001.csv": "CENTER_X,CENTER_Y,CENTER_Z\n8.0,6.0,2.0\n2.5,9.0,6.0\n"
    }


@pytest.mark.parametrize("code", ["RAS", "ras", "LPI", "SAR"])
def test_orientation_codes_in_any_case_and_axis_order_are_accepted(masks: Path, tmp_path: Path,
                                                                    code: str):
    summary = extract_annotations_dataset(masks, tmp_path / "out", orientation=code,
                                          progress=False)
    assert (summary.done, int(summary)) == (1, 2)
