"""The worked example of docs/reference.md, to the byte, through the public API."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BOX, read_tree

from niprep import extract_annotations_dataset


def _slices(view: str, indices, text: str) -> dict[str, str]:
    return {f"case_001/{view}/case_001_{view}_{s:03d}.csv": text for s in indices}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            dict(data_mode="box"),
            {**_slices("axial", range(1, 4), BOX + "4,2,8,4\n"),
             **_slices("axial", range(5, 8), BOX + "0,6,1,6\n")},
        ),
        (
            dict(data_mode="center", target_size=(16, 16)),
            {**_slices("axial", range(1, 4), "CENTER_X,CENTER_Y\n8.0,6.0\n"),
             **_slices("axial", range(5, 8), "CENTER_X,CENTER_Y\n2.5,9.0\n")},
        ),
        (
            dict(data_mode="radius"),
            {**_slices("axial", range(1, 4),
                       "CENTER_X,CENTER_Y,RADIUS_X,RADIUS_Y\n6.0,3.0,2.0,1.0\n"),
             **_slices("axial", range(5, 8),
                       "CENTER_X,CENTER_Y,RADIUS_X,RADIUS_Y\n0.5,6.0,0.5,0.0\n")},
        ),
        (
            dict(extraction_mode="volume", data_mode="box", target_size=(16, 16)),
            {"case_001/axial/case_001.csv":
             "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX\n6,5,1,10,7,3\n2,9,5,3,9,7\n"},
        ),
        (
            dict(extraction_mode="volume", data_mode="center"),
            {"case_001/axial/case_001.csv":
             "CENTER_X,CENTER_Y,CENTER_Z\n6.0,3.0,2.0\n0.5,6.0,6.0\n"},
        ),
        (
            dict(extraction_mode="volume", data_mode="radius"),
            {"case_001/axial/case_001.csv":
             "CENTER_X,CENTER_Y,CENTER_Z,RADIUS_X,RADIUS_Y,RADIUS_Z\n"
             "6.0,3.0,2.0,2.0,1.0,1.0\n0.5,6.0,6.0,0.5,0.0,1.0\n"},
        ),
        (
            dict(view="coronal", data_mode="box"),
            {**_slices("coronal", range(0, 2), BOX + "5,6,7,6\n"),
             **_slices("coronal", range(4, 9), BOX + "1,2,3,4\n")},
        ),
        (
            dict(view="coronal", extraction_mode="volume", data_mode="box"),
            {"case_001/coronal/case_001.csv":
             "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX\n1,2,4,3,4,8\n5,6,0,7,6,1\n"},
        ),
        (
            dict(view="sagittal", data_mode="box"),
            {**_slices("sagittal", range(2, 5), BOX + "1,4,3,8\n"),
             **_slices("sagittal", [6], BOX + "5,0,7,1\n")},
        ),
    ],
)
def test_worked_example_to_the_byte(worked_example: Path, tmp_path: Path, options, expected):
    out = tmp_path / "out"
    summary = extract_annotations_dataset(worked_example, out, progress=False, **options)
    assert read_tree(out) == expected
    assert int(summary) == 2


def test_worked_example_stats(worked_example: Path, tmp_path: Path):
    out = tmp_path / "out"
    extract_annotations_dataset(worked_example, out, save_stats=True, progress=False)
    assert (out / "axial_annotations_stats.csv").read_text() == (
        "FILENAME,NUM_ANNOTATIONS\ncase_001_bbox.nii.gz,2\nTOTAL_ANNOTATIONS,2\n"
    )
