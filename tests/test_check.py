"""The dataset check: planted problems found exactly, pictures drawn from the same numbers."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import write_nifti
from PIL import Image

from niprep import check_dataset
from niprep.check.findings import SEVERITY
from niprep.check.sheet import BAR, BOTTOM, LEFT, PANEL, RIGHT, TOP, bar_height
from niprep.core.drawing import GAP, PALETTE, zoom_for

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


#: the DETAIL of each planted finding but the broken file's (niprep's reason, checked apart)
DETAILS = {
    ("flip", "affine"): "image and mask place a corner of the volume 31.00 mm apart "
                        "(affine_tolerance=0.01 mm); axis i is flipped (image R, mask L)",
    ("resampled", "shape"): "image 16 x 16 x 8 voxels, mask 8 x 8 x 8",
    ("resampled", "spacing"): "voxel sizes differ: image 1 x 1 x 1 mm, mask 2 x 2 x 1 mm",
    ("coarse", "spacing"): "voxel size 3 x 1 x 1 mm is far from the dataset's median "
                           "1 x 1 x 1 mm (more than 2x on an axis)",
    ("nan", "non_finite"): "3 of 2048 image voxels are not finite (2 NaN, 1 infinite)",
    ("float", "non_integer"): "1 non-integer value: 0.5",
    ("outside", "label_values"): "1 value not in classes (1, 2): 3",
    ("stray", "tiny_component"): "1 stray voxel (no 26-neighbour of the same value)",
    ("touching", "touches_border"): "1 of 2 annotations touch the volume's edge (axial): "
                                    "value 1 (first row)",
    ("orient", "orientation"): "axis codes LPS, while 16 of 17 cases are RAS; "
                               "orientation=RAS reorients every case",
    ("empty", "empty"): "no annotation: no voxel > 0",
    ("lonely", "unpaired"): "image without a mask of the same case name",
    ("maskonly", "unpaired"): "mask without an image of the same case name",
}


def test_details_carry_the_numbers(checked):
    output, _ = checked
    rows = read_rows(output / "check.csv")[1:]
    detail = {(case, check): text for case, check, _, text in rows}
    broken = detail.pop(("broken", "unreadable"))
    assert broken.startswith("mask: not a NIfTI file")
    assert detail == DETAILS
    failures = read_rows(output / "axial_check_failures.csv")
    assert failures == [["FILENAME", "ERROR"], ["broken_bbox.nii.gz", broken]]


def grey_of(slice_: np.ndarray, row: int, col: int) -> int:
    """The grey level a tile gives the pixel ``(row, col)`` of ``slice_`` (its min..max)."""
    low, high = float(slice_.min()), float(slice_.max())
    return int((float(slice_[row, col]) - low) * (255.0 / (high - low)))


def test_only_cases_with_findings_have_thumbnails(checked):
    output, _ = checked
    drawn = {path.stem for path in (output / "check" / "cases").glob("*.png")}
    # read cases with a finding of their own, drawn by the workers, and those whose findings
    # need the whole dataset (orientation, spacing outlier, label values, unpaired), drawn after
    assert drawn == set(PLANTED) - {"broken"}
    one_row = Image.open(output / "check" / "cases" / "flip.png").size  # drawn by a worker
    for name in ("orient", "coarse", "outside", "lonely", "maskonly"):  # drawn after the map
        assert Image.open(output / "check" / "cases" / f"{name}.png").size == one_row


def test_a_rerun_leaves_no_thumbnail_of_a_case_now_clean(tmp_path: Path):
    flipped = affine(signs=(-1, 1, 1))
    for name in ("a", "b", "c"):
        write_nifti(tmp_path / "masks" / f"{name}_bbox.nii.gz", clean_mask(),
                    flipped if name == "c" else None)
    cases = tmp_path / "out" / "check" / "cases"
    summary = check_dataset(None, tmp_path / "masks", tmp_path / "out", progress=False)
    assert [(f.case, f.check) for f in summary.findings] == [("c", "orientation")]
    assert sorted(path.name for path in cases.glob("*.png")) == ["c.png"]
    write_nifti(tmp_path / "masks" / "c_bbox.nii.gz", clean_mask())
    assert not check_dataset(None, tmp_path / "masks", tmp_path / "out",
                             progress=False).findings
    assert not list(cases.glob("*.png"))


def test_a_resumed_case_with_a_new_finding_gets_its_thumbnail(tmp_path: Path):
    for name in ("a", "b"):
        write_pair(tmp_path, name, image_volume(), clean_mask(),
                   mask_affine=affine(origin=(3.0, 0.0, 0.0)) if name == "b" else None)
    out = tmp_path / "out"
    loose = check_dataset(tmp_path / "images", tmp_path / "masks", out, progress=False,
                          affine_tolerance=1000.0)
    assert not loose.findings
    strict = check_dataset(tmp_path / "images", tmp_path / "masks", out, progress=False,
                           resume=True)
    assert [(f.case, f.check) for f in strict.findings] == [("b", "affine")]
    assert strict.run.skipped == 2  # the facts do not depend on the tolerance
    assert (out / "check" / "cases" / "b.png").is_file()
    assert 'href="cases/b.png"' in (out / "check" / "report.html").read_text()


def test_thumbnail_shows_the_image_under_the_mask_contour(checked):
    output, _ = checked
    # a clean mask and image, stored with other axis codes (drawn after the map, as stored)
    picture = np.asarray(Image.open(output / "check" / "cases" / "orient.png").convert("RGB"))
    zoom = zoom_for(16, 16)
    # the slices go through the centre of the largest box, value 1's: (5, 5, 3)
    axial = image_volume()[:, :, 3]
    top = left = GAP
    inside = picture[top + 5 * zoom + zoom // 2, left + 5 * zoom + zoom // 2]
    assert inside.tolist() == [grey_of(axial, 5, 5)] * 3  # the image, not the mask
    outside = picture[top + 2 * zoom + zoom // 2, left + 2 * zoom + zoom // 2]
    assert outside.tolist() == [grey_of(axial, 2, 2)] * 3
    # the inner border of value 1 (rows 4..7, columns 4..7) and of value 2 (10..12, 9..11)
    assert picture[top + 4 * zoom, left + 5 * zoom + 3].tolist() == list(PALETTE[1])
    assert picture[top + 8 * zoom - 1, left + 6 * zoom].tolist() == list(PALETTE[1])
    assert picture[top + 11 * zoom, left + 9 * zoom].tolist() == list(PALETTE[2])
    # one pixel inside the border the image shows again
    assert picture[top + 4 * zoom + 1, left + 5 * zoom + 3].tolist() == [grey_of(axial, 4, 5)] * 3


def test_thumbnail_shows_non_finite_voxels_as_black(checked):
    output, _ = checked
    picture = np.asarray(Image.open(output / "check" / "cases" / "nan.png").convert("RGB"))
    zoom = zoom_for(16, 16)
    assert picture[GAP + 3 * zoom + 2, GAP + 3 * zoom + 2].tolist() == [0, 0, 0]  # inf at k=3
    assert picture[GAP + 9 * zoom + 2, GAP + 3 * zoom + 2].tolist() != [0, 0, 0]


def test_distribution_sheet_is_drawn_from_the_checked_numbers(checked):
    output, _ = checked
    numbers = json.loads((output / "check" / "distribution.json").read_text())
    by_case = {case["case"]: case for case in numbers["cases"]}
    assert "broken" not in by_case  # unreadable: nothing to measure
    assert by_case["clean_1"] == {"case": "clean_1", "annotations": 2, "annotated_slices": 4,
                                  "spacing": [1.0, 1.0, 1.0]}
    assert by_case["lonely"]["annotations"] is None  # an image without a mask
    assert by_case["float"]["annotations"] == 3  # values 0.5, 1 and 2
    assert by_case["coarse"]["spacing"] == [3.0, 1.0, 1.0]
    # the same spacing as the check.csv row of that case
    detail = {(r[0], r[1]): r[3] for r in read_rows(output / "check.csv")[1:]}
    assert "voxel size 3 x 1 x 1 mm" in detail["coarse", "spacing"]
    sizes = {(b["case"], b["class"]): (b["width_mm"], b["height_mm"]) for b in numbers["boxes"]}
    assert sizes["clean_1", "lesion"] == (4.0, 4.0)
    assert sizes["clean_1", "cyst"] == (3.0, 3.0)
    assert sizes["coarse", "lesion"] == (4.0, 12.0)  # rows along i, 3 mm voxels
    # the first panel's bars have the heights of the annotation counts
    picture = np.asarray(Image.open(output / "check" / "distribution.png").convert("RGB"))
    masked = [case for case in numbers["cases"] if case["annotations"] is not None]
    slot = (PANEL[0] - RIGHT - LEFT) / len(masked)
    largest = max(case["annotations"] for case in masked)
    bottom = PANEL[1] - BOTTOM
    for index, case in enumerate(masked):
        column = picture[TOP:bottom, int(LEFT + index * slot) + 1]
        drawn = int(np.all(column == BAR, axis=1).sum())
        assert drawn == bar_height(case["annotations"], largest), case["case"]


def test_report_links_every_finding_to_its_thumbnail(checked):
    output, _ = checked
    report = (output / "check" / "report.html").read_text()
    assert 'src="distribution.png"' in report
    assert '<a href="cases/flip.png">flip</a>' in report
    assert "cases/clean_1.png" not in report  # clean cases are not listed
    assert "http" not in report  # nothing fetched from elsewhere


def test_masks_alone_are_checked_without_pairing(tmp_path: Path):
    root = planted_dataset(tmp_path)
    summary = check_dataset(None, root / "masks", tmp_path / "out", rare_label_share=0.1,
                            progress=False)
    found: dict[str, set[str]] = {}
    for finding in summary.findings:
        found.setdefault(finding.case, set()).add(finding.check)
    assert found == {
        "broken": {"unreadable"},
        "coarse": {"spacing"},
        "empty": {"empty"},
        "flip": {"orientation"},  # its mask alone points another way than the others
        "float": {"non_integer"},
        "orient": {"orientation"},
        "outside": {"label_values"},
        "stray": {"tiny_component"},
        "touching": {"touches_border"},
    }
    rare = next(f for f in summary.findings if f.check == "label_values")
    assert rare.detail == ("rare values (masks holding them, of 16): 3 in 1; "
                           "under rare_label_share=0.1")


def test_resume_in_worker_processes_gives_the_same_findings(checked, tmp_path: Path):
    output, first = checked
    root = output.parent
    again = check_dataset(root / "images", root / "masks", output, classes=CLASSES,
                          progress=False, resume=True, workers=2, backend="process")
    assert again.findings == first.findings
    assert again.run.skipped == first.cases - 1  # the unreadable case is tried again
    fresh = check_dataset(root / "images", root / "masks", tmp_path / "fresh", classes=CLASSES,
                          progress=False, workers=2, backend="process")
    assert fresh.findings == first.findings
    assert (tmp_path / "fresh" / "check.csv").read_bytes() == (output / "check.csv").read_bytes()


@pytest.mark.parametrize(("options", "message"), [
    ({"affine_tolerance": -1}, "affine_tolerance=-1 is not valid; use a number >= 0"),
    ({"rare_label_share": 2}, "rare_label_share=2 is not valid; use a number from 0 to 1"),
    ({"spacing_outlier": 0.5}, "spacing_outlier=0.5 is not valid; use a number >= 1"),
    ({"view": "top"}, "view='top' is not valid"),
    ({"classes": {0: "background"}}, "classes key 0 is background"),
    ({"data_mode": "box"}, "check_dataset takes no option 'data_mode'"),
    ({"min_voxels": 3}, "min_voxels=3 applies only with instances='components'"),
])
def test_bad_options_fail_in_one_line(tmp_path: Path, options, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        check_dataset(None, tmp_path, tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("options", "tiny", "annotations", "slices"), [
    ({}, "1 stray voxel (no 26-neighbour of the same value)", 2, 6),
    ({"instances": "components"}, "1 of 4 components under 2 voxels", 4, 6),
    # slice 6 holds only the stray voxel, slice 1 only the piece: no annotation there
    ({"instances": "components", "min_voxels": 3}, "2 of 4 components under 3 voxels", 2, 4),
])
def test_tiny_components_are_counted_in_each_instance_mode(tmp_path: Path, options, tiny,
                                                          annotations, slices):
    mask = clean_mask()
    mask[12, 2, 6] = 1  # a stray voxel
    mask[1:3, 12, 1] = 2  # a two-voxel piece of value 2, on slice 1
    write_nifti(tmp_path / "masks" / "case_bbox.nii.gz", mask)
    summary = check_dataset(None, tmp_path / "masks", tmp_path / "out", progress=False,
                            **options)
    assert [(f.check, f.detail) for f in summary.findings] == [("tiny_component", tiny)]
    numbers = json.loads((tmp_path / "out" / "check" / "distribution.json").read_text())
    case = numbers["cases"][0]
    assert (case["annotations"], case["annotated_slices"]) == (annotations, slices)


NIPREP = str(Path(sys.executable).with_name("niprep"))


def niprep(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NIPREP, *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_command_exits_1_on_errors_with_a_one_line_summary(checked, tmp_path: Path):
    output, summary = checked
    root = output.parent
    done = niprep("task=check", f"image_folder={root / 'images'}", f"nii_folder={root / 'masks'}",
                  "output_path=out", "classes={1:lesion,2:cyst}", "progress=false", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout == (f"niprep check: 18 cases checked: {summary.errors} errors, "
                           f"{summary.warnings} warnings; findings in "
                           f"{tmp_path / 'out' / 'check.csv'}\n")
    assert (tmp_path / "out" / "check.csv").read_bytes() == (output / "check.csv").read_bytes()


def test_command_exits_0_without_errors(tmp_path: Path):
    for name in CLEAN:
        write_pair(tmp_path, name, image_volume(), clean_mask())
    stray = clean_mask()
    stray[12, 2, 6] = 1  # a warning only
    write_pair(tmp_path, "stray", image_volume(), stray)
    done = niprep("task=check", "image_folder=images", "nii_folder=masks", "output_path=out",
                  "progress=false", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"niprep check: 6 cases checked: 0 errors, 1 warning; findings in "
                           f"{tmp_path / 'out' / 'check.csv'}\n")
    refused = niprep("task=check", "nii_folder=masks", "output_path=out", "data_mode=box",
                     cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == ("niprep: data_mode is a key of task=annotations, not of "
                              "task=check\n")
    refused = niprep("nii_folder=masks", "output_path=out2", "affine_tolerance=1", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == ("niprep: affine_tolerance is a key of task=check or task=export, "
                              "not of task=annotations\n")
