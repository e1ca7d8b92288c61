"""Options are declared once, in groups: each entry point takes exactly its groups, and an
option that does not apply is refused, naming where it applies."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import write_nifti

from niprep import extract_annotations, extract_annotations_dataset, extract_slices_dataset
from niprep.options import ANNOTATIONS_DATASET, ANNOTATIONS_OF_CASE, ENTRY_POINTS, SLICES_DATASET
from niprep.options.groups import ANNOTATION, CSV, IMAGE, INPUT, LAYOUT, RUN, VIEW
from niprep.training import AnnotatedSliceDataset


@pytest.fixture
def masks(tmp_path: Path) -> Path:
    volume = np.zeros((6, 5, 4), dtype=np.uint8)
    volume[1:3, 1:3, 1:3] = 1
    volume[4, 4, 3] = 2
    write_nifti(tmp_path / "masks" / "a.nii.gz", volume)
    write_nifti(tmp_path / "masks" / "b.nii.gz", volume[::-1].copy())
    return tmp_path / "masks"


@pytest.mark.parametrize(
    ("function", "options", "message"),
    [
        (extract_slices_dataset, {"instances": "components", "min_voxels": 3},
         "instances='components' applies only with preview_masks=FOLDER; leave it out or add "
         "preview_masks=FOLDER"),
        (extract_annotations_dataset, {"pad_value": 5},
         "pad_value=5 applies only with preview_images=FOLDER"),
        (extract_annotations_dataset, {"min_voxels": 10**7},
         "min_voxels=10000000 applies only with instances='components'; leave it out or add "
         "instances='components'"),
        (extract_annotations_dataset, {"connectivity": 6},
         "connectivity=6 applies only with instances='components'"),
        (extract_annotations_dataset, {"extraction_mode": "volume", "write_empty": True},
         "write_empty=True applies only with extraction_mode='slice'"),
        (extract_annotations_dataset, {"extraction_mode": "volume", "box_scope": "slice"},
         "box_scope='slice' applies only with extraction_mode='slice'"),
        (extract_annotations, {"saving_mode": "volume", "box_scope": "slice"},
         "box_scope='slice' applies only with extraction_mode='slice'"),
        (extract_annotations_dataset, {"box_mode": "monai"},
         "extract_annotations_dataset takes no option 'box_mode'; it is an option of "
         "AnnotatedSliceDataset"),
    ],
)
def test_an_option_that_does_nothing_is_refused_before_anything_is_written(
    function, options, message, masks: Path, tmp_path: Path
):
    source = masks / "a.nii.gz" if function is extract_annotations else masks
    with pytest.raises(ValueError) as raised:
        function(source, tmp_path / "out", **options)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_the_unknown_option_message_lists_only_what_the_function_takes(masks, tmp_path):
    with pytest.raises(ValueError) as raised:
        extract_slices_dataset(masks, tmp_path / "out", colour="red")
    listed = str(raised.value).split("its options are ")[1].split(", ")
    assert listed == [repr(name) for name in SLICES_DATASET.options]
    assert "'data_mode'" not in listed and "'box_mode'" not in listed


def test_the_dataset_refuses_options_of_the_run(masks, tmp_path):
    with pytest.raises(ValueError, match="AnnotatedSliceDataset takes no option 'workers'; it "
                                         "is an option of extract_annotations_dataset"):
        AnnotatedSliceDataset(masks, masks, workers=2)


@pytest.mark.parametrize(
    ("function", "entry", "hidden"),
    [
        (extract_annotations_dataset, ANNOTATIONS_DATASET, ()),
        (extract_annotations, ANNOTATIONS_OF_CASE, ("extraction_mode",)),
        (extract_slices_dataset, SLICES_DATASET, ()),
    ],
)
def test_signatures_show_exactly_the_declared_options(function, entry, hidden):
    parameters = inspect.signature(function).parameters
    shown = {name: p.default for name, p in parameters.items()
             if name not in ("nii_folder", "nii_path", "output_path")}
    if function is extract_annotations:  # nidataset's name for the extraction mode
        assert shown.pop("saving_mode") == "slice"
    expected = {name: option.default for name, option in entry.options.items()
                if name not in hidden}
    assert shown == expected


def test_the_fingerprint_hashes_exactly_the_groups_that_shape_the_files():
    assert ANNOTATIONS_DATASET.shaping_groups() == (VIEW, LAYOUT, CSV, INPUT, ANNOTATION)
    assert SLICES_DATASET.shaping_groups() == (VIEW, LAYOUT, IMAGE, INPUT)
    assert RUN not in ANNOTATIONS_OF_CASE.shaping_groups()


def test_every_option_is_declared_once():
    declared: dict[str, object] = {}
    for entry in ENTRY_POINTS.values():
        for group in entry.groups:
            for option in group.options:
                assert declared.setdefault(option.name, option) is option, option.name


def test_an_entry_point_may_change_a_default_and_its_signature_shows_it():
    from niprep import export_detection_dataset
    from niprep.options import ENTRY_POINTS

    export = ENTRY_POINTS["export_detection_dataset"]
    assert export.options["window"].default == "percentile"
    assert ENTRY_POINTS["AnnotatedSliceDataset"].options["window"].default is None
    assert inspect.signature(export_detection_dataset).parameters["window"].default == (
        "percentile")
    assert export.settings({}).window == "percentile"


def test_a_saved_config_passes_back_to_its_function(masks, tmp_path):
    out = tmp_path / "out"
    extract_annotations_dataset(masks, out, data_mode="box", target_size=(8, 8),
                                progress=False)
    config = yaml.safe_load((out / ".niprep" / "annotations-axial.yaml").read_text())
    assert config.pop("task") == "annotations"
    again = extract_annotations_dataset(**{**config, "resume": True})
    assert (again.done, again.skipped) == (0, 2)


def test_a_preview_image_option_does_not_defeat_resume(masks, tmp_path):
    out = tmp_path / "out"
    options = dict(preview=1, preview_images=masks, progress=False)
    extract_annotations_dataset(masks, out, pad_value=0, **options)
    again = extract_annotations_dataset(masks, out, pad_value=5, resume=True, **options)
    assert (again.done, again.skipped) == (0, 2)
