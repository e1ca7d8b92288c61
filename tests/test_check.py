"""The dataset check: planted problems found exactly, pictures drawn from the same numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_nifti

from niprep.check.api import check_dataset
from niprep.check.findings import SEVERITY

SHAPE = (16, 16, 8)
CLASSES = {1: "lesion", 2: "cyst"}
CLEAN = ("clean_1", "clean_2", "clean_3", "clean_4", "clean_5")
#: the one planted problem of each case, and the checks it must raise
PLANTED = {
    "broken": {"unreadable"},
    "coarse": {"spacing"},
    "empty": {"empty"},
    "flip": {"affine"},
    "float": {"non_integer"},
    "lonely": {"unpaired"},
    "maskonly": {"unpaired"},
    "nan": {"non_finite"},
    "orient": {"orientation"},
    "outside": {"label_values"},
    "resampled": {"shape", "spacing"},
    "stray": {"tiny_component"},
    "touching": {"touches_border"},
}


def image_volume() -> np.ndarray:
    """A float32 ramp: every voxel has its own value."""
    return np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE, order="F") / 10


def clean_mask() -> np.ndarray:
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[4:8, 4:8, 2:5] = 1
    mask[10:13, 9:12, 3:6] = 2
    return mask


def affine(zooms=(1.0, 1.0, 1.0), signs=(1, 1, 1), origin=(0.0, 0.0, 0.0)) -> np.ndarray:
    matrix = np.diag([*(s * z for s, z in zip(signs, zooms)), 1.0])
    matrix[:3, 3] = origin
    return matrix


def write_pair(root: Path, name: str, image: np.ndarray | None, mask: np.ndarray | None,
               image_affine=None, mask_affine=None) -> None:
    if image is not None:
        write_nifti(root / "images" / f"{name}.nii.gz", image, image_affine)
    if mask is not None:
        write_nifti(root / "masks" / f"{name}_bbox.nii.gz", mask,
                    image_affine if mask_affine is None else mask_affine)


def planted_dataset(root: Path) -> Path:
    """Five clean cases and one planted problem per other case."""
    for name in CLEAN:
        write_pair(root, name, image_volume(), clean_mask())
    flipped = np.diag([-1.0, 1, 1, 1])  # the LPS/RAS confusion: world x negated
    write_pair(root, "flip", image_volume(), clean_mask(), affine(), flipped @ affine())
    coarse = np.zeros((8, 8, 8), dtype=np.uint8)  # 2 x 2 x 1 mm voxels over the same field
    coarse[2:4, 2:4, 2:5] = 1
    write_pair(root, "resampled", image_volume(), coarse, affine(),
               affine((2, 2, 1), origin=(0.5, 0.5, 0)))
    outside = clean_mask()
    outside[outside == 2] = 3
    write_pair(root, "outside", image_volume(), outside)
    fractional = clean_mask().astype(np.float32)
    fractional[3, 4:8, 2:5] = 0.5  # an interpolated rim
    write_pair(root, "float", image_volume(), fractional)
    touching = clean_mask()
    touching[0:3, 4:8, 2:5] = 1
    touching[4:8, 4:8, 2:5] = 0
    write_pair(root, "touching", image_volume(), touching)
    stray = clean_mask()
    stray[12, 2, 6] = 1
    write_pair(root, "stray", image_volume(), stray)
    write_pair(root, "empty", image_volume(), np.zeros(SHAPE, dtype=np.uint8))
    nan = image_volume()
    nan[1, 1, 1] = nan[2, 2, 2] = np.nan
    nan[3, 3, 3] = np.inf
    write_pair(root, "nan", nan, clean_mask())
    write_pair(root, "broken", image_volume(), None)
    (root / "masks" / "broken_bbox.nii.gz").write_bytes(b"not a volume at all")
    write_pair(root, "orient", image_volume(), clean_mask(), affine(signs=(-1, -1, 1)))
    write_pair(root, "coarse", image_volume(), clean_mask(), affine((3, 1, 1)))
    write_pair(root, "lonely", image_volume(), None)
    write_pair(root, "maskonly", None, clean_mask())
    return root


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = planted_dataset(tmp_path_factory.mktemp("planted"))
    summary = check_dataset(root / "images", root / "masks", root / "out", classes=CLASSES,
                            progress=False)
    return root / "out", summary


def test_planted_problems_are_found_exactly(checked):
    output, summary = checked
    rows = read_rows(output / "check.csv")
    assert rows[0] == ["CASE", "CHECK", "SEVERITY", "DETAIL"]
    found: dict[str, set[str]] = {}
    for case, check, severity, detail in rows[1:]:
        found.setdefault(case, set()).add(check)
        assert severity == SEVERITY[check] and detail and "\n" not in detail
    assert found == PLANTED
    assert {check for checks in PLANTED.values() for check in checks} == set(SEVERITY)
    cases = [row[0] for row in rows[1:]]
    assert cases == sorted(cases)  # case order
    assert json.loads((output / "check.json").read_text()) == [
        {"case": c, "check": k, "severity": s, "detail": d} for c, k, s, d in rows[1:]
    ]
    assert summary.cases == len(CLEAN) + len(PLANTED)
    errors = sum(row[2] == "error" for row in rows[1:])
    assert (summary.errors, summary.warnings) == (errors, len(rows) - 1 - errors)


def test_details_carry_the_numbers(checked):
    output, _ = checked
    detail = {(case, check): text for case, check, _, text in read_rows(output / "check.csv")}
    assert detail["flip", "affine"] == (
        "image and mask place a corner of the volume 31.00 mm apart (affine_tolerance=0.01 mm);"
        " axis i is flipped (image R, mask L)")
    assert detail["resampled", "shape"] == "image 16 x 16 x 8 voxels, mask 8 x 8 x 8"
    assert detail["resampled", "spacing"] == ("voxel sizes differ: image 1 x 1 x 1 mm, "
                                              "mask 2 x 2 x 1 mm")
    assert detail["coarse", "spacing"] == (
        "voxel size 3 x 1 x 1 mm is far from the dataset's median 1 x 1 x 1 mm "
        "(more than 2x on an axis)")
    assert detail["nan", "non_finite"] == ("3 of 2048 image voxels are not finite "
                                           "(2 NaN, 1 infinite)")
    assert detail["float", "non_integer"] == "1 non-integer value: 0.5"
    assert detail["outside", "label_values"] == "1 value not in classes (1, 2): 3"
    assert detail["stray", "tiny_component"] == "1 of 3 components under 2 voxels"
    assert detail["touching", "touches_border"] == (
        "1 of 2 annotations touch the volume's edge (axial): value 1 (first row)")
    assert detail["orient", "orientation"] == ("axis codes LPS, while 16 of 17 cases are RAS; "
                                                "orientation=RAS reorients every case")
    assert detail["empty", "empty"] == "no annotation: no voxel > 0"
    assert detail["lonely", "unpaired"] == "image without a mask of the same case name"
    assert detail["maskonly", "unpaired"] == "mask without an image of the same case name"
    assert detail["broken", "unreadable"].startswith("mask: not a NIfTI file")
    failures = read_rows(output / "axial_check_failures.csv")
    assert failures == [["FILENAME", "ERROR"],
                        ["broken_bbox.nii.gz", detail["broken", "unreadable"]]]
