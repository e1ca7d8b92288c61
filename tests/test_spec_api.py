"""The Python functions users and checks rely on."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
from conftest import read_tree, user_files, worked_example_volume, write_nifti

import niprep
import niprep.slices
from niprep import extract_annotations, extract_annotations_dataset

#: the keyword options of both annotation functions and their defaults
KEYWORD_DEFAULTS = dict(
    instances="label", connectivity=26, min_voxels=0, min_volume_mm3=0.0, box_scope="volume",
    include_label=False, write_empty=False, orientation=None, strip_suffix="_bbox", workers=1,
    backend="auto", resume=False, progress=True,
)


def positional(function) -> list[tuple[str, object]]:
    """``(name, default)`` of the parameters that can be passed by position."""
    return [
        (p.name, p.default)
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def test_both_functions_are_importable_from_niprep_and_niprep_slices():
    assert niprep.extract_annotations is niprep.slices.extract_annotations
    assert niprep.extract_annotations_dataset is niprep.slices.extract_annotations_dataset
    assert {"extract_annotations", "extract_annotations_dataset"} <= set(niprep.__all__)


def test_positional_parameters_and_defaults_are_the_seeds():
    empty = inspect.Parameter.empty
    assert positional(extract_annotations_dataset) == [
        ("nii_folder", empty), ("output_path", empty), ("view", "axial"),
        ("saving_mode", "case"), ("extraction_mode", "slice"), ("data_mode", "center"),
        ("target_size", None), ("save_stats", False),
    ]
    assert positional(extract_annotations) == [
        ("nii_path", empty), ("output_path", empty), ("view", "axial"),
        ("saving_mode", "slice"), ("data_mode", "center"), ("target_size", None),
    ]


@pytest.mark.parametrize("function", [extract_annotations_dataset, extract_annotations])
def test_signatures_show_the_spec_keyword_options_with_their_defaults(function):
    parameters = inspect.signature(function).parameters
    shown = {
        name: parameters[name].default
        for name in KEYWORD_DEFAULTS
        if name in parameters and parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert shown == KEYWORD_DEFAULTS


def test_positional_call_as_with_the_seed(worked_example: Path, tmp_path: Path):
    out = tmp_path / "out"
    extract_annotations_dataset(worked_example, out, "coronal", "view", "volume", "box", None,
                                True, progress=False)
    assert read_tree(out) == {
        "coronal/case_001.csv": "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX\n1,2,4,3,4,8\n5,6,0,7,6,1\n",
        "coronal_annotations_stats.csv":
            "FILENAME,NUM_ANNOTATIONS\ncase_001_bbox.nii.gz,2\nTOTAL_ANNOTATIONS,2\n",
    }


def test_keyword_options_take_the_spec_defaults(worked_example: Path, tmp_path: Path):
    extract_annotations_dataset(worked_example, tmp_path / "default", progress=False)
    extract_annotations_dataset(worked_example, tmp_path / "explicit",
                                **{**KEYWORD_DEFAULTS, "progress": False})
    assert read_tree(tmp_path / "explicit") == read_tree(tmp_path / "default")
    path = worked_example / "case_001_bbox.nii.gz"
    extract_annotations(path, tmp_path / "one_default", progress=False)
    extract_annotations(path, tmp_path / "one_explicit", **{**KEYWORD_DEFAULTS, "progress": False})
    assert read_tree(tmp_path / "one_explicit") == read_tree(tmp_path / "one_default")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (dict(data_mode="box"),
         {**{f"case_001_axial_{s:03d}.csv": "X_MIN,Y_MIN,X_MAX,Y_MAX\n4,2,8,4\n"
             for s in (1, 2, 3)},
          **{f"case_001_axial_{s:03d}.csv": "X_MIN,Y_MIN,X_MAX,Y_MAX\n0,6,1,6\n"
             for s in (5, 6, 7)}}),
        (dict(saving_mode="volume", data_mode="box", target_size=(16, 16)),
         {"case_001.csv": "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX\n6,5,1,10,7,3\n2,9,5,3,9,7\n"}),
        (dict(saving_mode="volume", view="coronal", data_mode="box", include_label=True),
         {"case_001.csv":
          "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX,LABEL\n1,2,4,3,4,8,3\n5,6,0,7,6,1,7\n"}),
    ],
)
def test_extract_annotations_writes_one_case_straight_into_output_path(
    worked_example: Path, tmp_path: Path, options, expected
):
    out = tmp_path / "out"
    summary = extract_annotations(worked_example / "case_001_bbox.nii.gz", out, progress=False,
                                  **options)
    assert read_tree(out) == expected
    assert (summary.done, summary.failed, summary.total, int(summary)) == (1, 0, 2, 2)
    assert summary.files_written == len(expected)


def test_extract_annotations_of_a_missing_file(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nope.nii.gz"):
        extract_annotations(tmp_path / "nope.nii.gz", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extract_annotations_of_a_bad_case_raises_its_reason_and_writes_nothing(tmp_path: Path):
    path = write_nifti(tmp_path / "flat.nii.gz", np.ones((3, 4), dtype=np.uint8))
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"flat.nii.gz.*\(3, 4\)"):
        extract_annotations(path, out, progress=False)
    # the exception is the report: no CSV of the case, and no failures file either
    assert user_files(out) == []
    big = write_nifti(tmp_path / "big.nii.gz", worked_example_volume())
    with pytest.raises(ValueError, match=r"\(8, 8\).*\(10, 12\)"):
        extract_annotations(big, out, target_size=(8, 8), progress=False)
    assert user_files(out) == []


def test_summary_counts_cases_annotations_and_files(tmp_path: Path):
    folder = tmp_path / "in"
    write_nifti(folder / "good_bbox.nii.gz", worked_example_volume())  # 2 annotations, 6 files
    write_nifti(folder / "empty.nii.gz", np.zeros((2, 2, 2), dtype=np.uint8))  # 0 files
    write_nifti(folder / "flat.nii.gz", np.ones((2, 2), dtype=np.uint8))  # fails
    summary = extract_annotations_dataset(folder, tmp_path / "out", progress=False)
    assert (summary.done, summary.failed, summary.skipped) == (2, 1, 0)
    assert (summary.total, int(summary), summary.files_written) == (2, 2, 6)
    summary = extract_annotations_dataset(folder, tmp_path / "vol", extraction_mode="volume",
                                          progress=False)
    assert (summary.done, summary.failed, summary.files_written, int(summary)) == (2, 1, 2, 2)
