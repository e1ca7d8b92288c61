"""Detection exports read back by their real consumers: globox (YOLO), pycocotools (COCO),
MONAI (detection data list); splits by patient; windowed PNG pixels."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import yaml
from conftest import read_failures, snapshot, user_files, write_nifti
from globox import AnnotationSet
from monai.apps.detection.transforms.dictionary import (
    AffineBoxToImageCoordinated,
    ConvertBoxToStandardModed,
)
from monai.data import load_decathlon_datalist
from monai.transforms import Compose, EnsureTyped, LoadImaged
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import niprep
from niprep import export_detection_dataset

SHAPE = (12, 10, 6)
PICTURE = (16, 14)
PATIENTS = ("sub-01", "sub-02", "sub-03", "sub-04", "sub-05")


def _mask(seed: int) -> np.ndarray:
    """Two values, one of them in two pieces; boxes that touch the edges."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(SHAPE, dtype=np.uint8)
    r, c = rng.integers(0, 4, size=2)
    mask[r : r + 4, c : c + 3, 1:4] = 1
    mask[r + 1, c + 1, 2] = 0  # a hole: the area is not the box's
    mask[9:12, 7:10, 0] = 2
    mask[11, 0, 5] = 2  # a one-voxel box on the last row
    return mask


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(100 + seed).integers(-1200, 1500, SHAPE).astype(np.int16)


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    """Images and masks of 5 patients, 2 visits each; one visit of sub-05 has an empty mask."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    seed = 0
    for patient in PATIENTS:
        for visit in ("ses-1", "ses-2"):
            name = f"{patient}_{visit}"
            mask = _mask(seed)
            if name == "sub-05_ses-2":
                mask[:] = 0
            write_nifti(images / f"{name}.nii.gz", _image(seed))
            write_nifti(masks / f"{name}.nii.gz", mask)
            seed += 1
    return images, masks


def _export(images: Path, masks: Path, out: Path, fmt: str, **options) -> niprep.RunSummary:
    options.setdefault("progress", False)
    options.setdefault("group_pattern", "(sub-[^_]+)")
    if fmt != "monai":
        options.setdefault("window", "ct-soft-tissue")
        options.setdefault("target_size", PICTURE)
    return export_detection_dataset(images, masks, out, format=fmt, **options)


def _csv_boxes(masks: Path, out: Path, view: str = "axial"
               ) -> dict[str, list[tuple[int, int, int, int, str]]]:
    """``{<case>_<view>_<NNN>: [(x0, y0, x1, y1, label)]}`` half-open, from the CSV task."""
    niprep.extract_annotations_dataset(masks, out, view=view, data_mode="box",
                                       box_scope="slice", target_size=PICTURE,
                                       saving_mode="view", include_label=True, progress=False)
    boxes = {}
    for path in sorted((out / view).glob("*.csv")):
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        boxes[path.stem] = [(int(r["X_MIN"]), int(r["Y_MIN"]), int(r["X_MAX"]) + 1,
                             int(r["Y_MAX"]) + 1, r["LABEL"]) for r in rows]
    return boxes


@pytest.mark.parametrize("view", ["axial", "coronal"])
def test_yolo_boxes_read_by_globox_equal_the_half_open_csv_boxes(dataset, tmp_path, view):
    images, masks = dataset
    out = tmp_path / "yolo"
    summary = _export(images, masks, out, "yolo", view=view)
    expected = _csv_boxes(masks, tmp_path / "csv", view)
    names = {0: "1", 1: "2"}
    config = (out / "data.yaml").read_text()
    assert config == (f"path: {out}\ntrain: images/train\nval: images/val\n"
                      "names:\n  0: '1'\n  1: '2'\n")
    seen = {}
    for split in ("train", "val"):
        loaded = AnnotationSet.from_yolo_v5(out / "labels" / split,
                                            image_folder=out / "images" / split,
                                            image_extension=".png")
        for annotation in loaded:
            assert annotation.image_size == (PICTURE[1], PICTURE[0])
            seen[Path(annotation.image_id).stem] = sorted(
                (*box.ltrb, names[int(box.label)]) for box in annotation.boxes)
    # every slice is exported (negatives="all"); the empty ones have empty label files
    assert len(seen) == 10 * SHAPE[2 if view == "axial" else 1]
    assert int(summary) == sum(len(rows) for rows in expected.values())
    for stem, boxes in seen.items():
        want = sorted(expected.get(stem, []))
        assert len(boxes) == len(want), stem
        for got, ref in zip(boxes, want):
            assert got[4] == ref[4]
            np.testing.assert_allclose(got[:4], ref[:4], atol=1e-6 * max(PICTURE))


def test_coco_loads_evaluates_to_ap_1_and_areas_count_pixels(dataset, tmp_path):
    images, masks = dataset
    out = tmp_path / "coco"
    _export(images, masks, out, "coco")
    total = 0
    for split in ("train", "val"):
        coco = COCO(str(out / "annotations" / f"instances_{split}.json"))
        assert {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())} == {1: "1", 2: "2"}
        for image in coco.loadImgs(coco.getImgIds()):
            assert (out / "images" / split / image["file_name"]).is_file()
            mask = nib.load(masks / f"{image['case']}.nii.gz").get_fdata()[:, :, image["slice"]]
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=image["id"])):
                value = ann["category_id"]
                rows, cols = np.nonzero(mask == value)
                offset = ((PICTURE[0] - SHAPE[0]) // 2, (PICTURE[1] - SHAPE[1]) // 2)
                assert ann["bbox"] == [cols.min() + offset[1], rows.min() + offset[0],
                                       cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
                assert ann["area"] == len(rows)
                total += 1
        detections = [{**ann, "score": 1.0} for ann in coco.loadAnns(coco.getAnnIds())]
        evaluation = COCOeval(coco, coco.loadRes(detections), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
        assert evaluation.stats[0] == pytest.approx(1.0)
    assert total > 0


def test_coco_area_of_components_counts_only_their_own_pixels(tmp_path):
    mask = np.zeros((8, 8, 1), dtype=np.uint8)
    mask[0:5, 0, 0] = 1  # an L and a dot of the same value whose boxes overlap
    mask[4, 0:5, 0] = 1
    mask[2, 2, 0] = 1
    write_nifti(tmp_path / "i" / "a.nii.gz", np.zeros_like(mask))
    write_nifti(tmp_path / "m" / "a.nii.gz", mask)
    out = tmp_path / "out"
    _export(tmp_path / "i", tmp_path / "m", out, "coco", instances="components",
            connectivity=6, split=[1, 0, 0], group_pattern=None, target_size=None)
    document = json.loads((out / "annotations" / "instances_train.json").read_text())
    assert [(a["bbox"], a["area"]) for a in document["annotations"]] == [
        ([0, 0, 5, 5], 9), ([2, 2, 1, 1], 1)]


def test_broken_and_non_finite_files_are_listed_failures(dataset, tmp_path):
    images, masks = dataset
    (masks / "sub-01_ses-1.nii.gz").write_bytes(b"not a nifti file")
    nan_image = _image(4).astype(np.float32)
    nan_image[0, 0, 0] = np.nan
    write_nifti(images / "sub-02_ses-1.nii.gz", nan_image)
    out = tmp_path / "out"
    summary = _export(images, masks, out, "coco")
    failures = dict(read_failures(out, task="export"))
    assert summary.done == 8 and sorted(failures) == ["sub-01_ses-1.nii.gz",
                                                       "sub-02_ses-1.nii.gz"]
    assert "non-finite" in failures["sub-02_ses-1.nii.gz"]
    # the mask's own diagnosis, from its header, before any voxel of the pair is read
    assert failures["sub-01_ses-1.nii.gz"].startswith("'sub-01_ses-1.nii.gz': not a NIfTI file:")
    document = json.loads((out / "annotations" / "instances_train.json").read_text())
    assert not {"sub-01_ses-1", "sub-02_ses-1"} & {i["case"] for i in document["images"]}


def _expected_voxel_boxes(mask: np.ndarray) -> list[list[int]]:
    boxes = []
    for value in (1, 2):
        where = np.nonzero(mask == value)
        boxes.append([int(a.min()) for a in where] + [int(a.max()) + 1 for a in where])
    return boxes


def test_monai_datalist_gives_back_the_voxel_boxes(dataset, tmp_path):
    images, masks = dataset
    out = tmp_path / "monai"
    _export(images, masks, out, "monai")
    # the first steps of MONAI's detection tutorial
    load = Compose([LoadImaged(keys="image", image_only=True), EnsureTyped(keys=["box"])])
    standard = ConvertBoxToStandardModed(box_keys="box", mode="xyzxyz")
    count = 0
    for key in ("training", "validation"):
        for item in load_decathlon_datalist(out / "datalist.json", is_segmentation=False,
                                            data_list_key=key, base_dir=images):
            case = Path(item["image"]).name.removesuffix(".nii.gz")
            mask = nib.load(masks / f"{case}.nii.gz").get_fdata()
            item = standard(load(item))
            expected = _expected_voxel_boxes(mask) if mask.any() else []
            assert np.asarray(item["box"]).tolist() == expected
            assert list(item["label"]) == ([0, 1] if mask.any() else [])
            count += 1
    assert count == 10
    document = json.loads((out / "datalist.json").read_text())
    assert list(document) == ["training", "validation", "classes"]
    assert document["classes"] == {"0": "1", "1": "2"}


@pytest.mark.parametrize("frame", ["RAS", "LPS"])
def test_monai_world_boxes_map_back_to_voxels_through_the_image_affine(tmp_path, frame):
    affine = np.array([[-0.8, 0, 0, 40.0], [0, 1.5, 0, -20.0], [0, 0, 2.5, 7.0], [0, 0, 0, 1]])
    mask = _mask(3)
    write_nifti(tmp_path / "i" / "a.nii.gz", _image(3), affine)
    write_nifti(tmp_path / "m" / "a.nii.gz", mask, affine)
    out = tmp_path / "out"
    _export(tmp_path / "i", tmp_path / "m", out, "monai", box_space="world", world_frame=frame,
            split=[1, 0, 0], group_pattern=None)
    [item] = load_decathlon_datalist(out / "datalist.json", is_segmentation=False,
                                     base_dir=tmp_path / "i")
    item = LoadImaged(keys="image", image_only=True)(item)
    item = EnsureTyped(keys=["box"], dtype=np.float64, data_type="numpy")(item)
    item = ConvertBoxToStandardModed(box_keys="box", mode="cccwhd")(item)
    item = AffineBoxToImageCoordinated(box_keys="box", box_ref_image_keys="image",
                                       affine_lps_to_ras=frame == "LPS")(item)
    np.testing.assert_allclose(np.asarray(item["box"]), _expected_voxel_boxes(mask), atol=1e-4)


def _split_of(out: Path) -> dict[str, str]:
    return {case: entry["split"]
            for case, entry in json.loads((out / "split.json").read_text())["cases"].items()}


def test_no_patient_in_two_splits_and_every_split_annotated(tmp_path):
    images, masks = tmp_path / "i", tmp_path / "m"
    for p in range(12):
        for visit in range(p % 3 + 1):
            name = f"sub-{p:02d}_ses-{visit}"
            mask = np.full((2, 2, 1), p % 2 == 0, dtype=np.uint8)  # even: annotated
            write_nifti(images / f"{name}.nii.gz", np.zeros((2, 2, 1), dtype=np.uint8))
            write_nifti(masks / f"{name}.nii.gz", mask)
    for seed in range(4):
        out = tmp_path / f"out{seed}"
        _export(images, masks, out, "monai", split=[0.5, 0.25, 0.25], split_seed=seed)
        split = _split_of(out)
        patients: dict[str, set[str]] = {}
        for case, name in split.items():
            patients.setdefault(case.split("_")[0], set()).add(name)
        assert all(len(names) == 1 for names in patients.values())
        per_split = {name: [p for p, names in patients.items() if name in names]
                     for name in ("train", "val", "test")}
        # annotated and empty patients are dealt apart: 6 of each as [3, 2, 1]
        assert [len(v) for v in per_split.values()] == [6, 4, 2]
        for members in per_split.values():
            half = len(members) // 2  # as many annotated (even) patients as empty ones
            assert sorted(int(p[4:]) % 2 for p in members) == [0] * half + [1] * half


def test_every_split_asked_for_gets_a_patient_when_there_are_enough(tmp_path):
    images, masks = tmp_path / "i", tmp_path / "m"
    for p in range(3):
        write_nifti(images / f"sub-{p}.nii.gz", np.zeros((2, 2, 1), dtype=np.uint8))
        write_nifti(masks / f"sub-{p}.nii.gz", np.ones((2, 2, 1), dtype=np.uint8))
    out = tmp_path / "out"
    _export(images, masks, out, "monai", split=[0.8, 0.1, 0.1])
    assert sorted(_split_of(out).values()) == ["test", "train", "val"]


def test_split_is_stable_under_rerun_and_split_file_reuse(dataset, tmp_path):
    images, masks = dataset
    first = tmp_path / "first"
    _export(images, masks, first, "yolo", channels=3, negatives=0.5)
    files = snapshot(first)
    _export(images, masks, first, "yolo", channels=3, negatives=0.5)
    assert snapshot(first) == files
    again = tmp_path / "again"
    _export(images, masks, again, "yolo", channels=3, negatives=0.5, group_pattern=None,
            split_file=first / "split.json")
    reused = snapshot(again)
    assert reused.pop("data.yaml").replace(str(again).encode(), b"") == files.pop(
        "data.yaml").replace(str(first).encode(), b"")
    assert reused == files
    coco = tmp_path / "coco"
    _export(images, masks, coco, "coco", split_file=first / "split.json")
    assert (coco / "split.json").read_bytes() == (first / "split.json").read_bytes()


def test_resume_skips_every_case_and_the_saved_config_passes_back(dataset, tmp_path):
    images, masks = dataset
    out = tmp_path / "out"
    first = _export(images, masks, out, "coco", resume=True)
    files = snapshot(out)
    config = yaml.safe_load((out / ".niprep" / "export-axial.yaml").read_text())
    assert config.pop("task") == "export"
    assert (config["image_folder"], config["label_folder"]) == (str(images), str(masks))
    again = export_detection_dataset(**config)
    assert (again.skipped, again.done, int(again)) == (10, 0, int(first))
    assert snapshot(out) == files


def test_preview_draws_the_exported_pictures_with_their_boxes(dataset, tmp_path):
    from niprep.core.drawing import GAP, PALETTE, zoom_for

    images, masks = dataset
    out = tmp_path / "out"
    _export(images, masks, out, "coco", preview=4)
    montage = np.asarray(Image.open(out / "preview" / "axial_export_preview.png"))
    split = _split_of(out)["sub-01_ses-1"]  # the first case; its slice 0 holds a box
    document = json.loads((out / "annotations" / f"instances_{split}.json").read_text())
    first = document["annotations"][0]
    x, y, _, _ = first["bbox"]
    zoom = zoom_for(*PICTURE)
    assert tuple(montage[GAP + y * zoom, GAP + x * zoom]) == PALETTE[first["category_id"]]
    _export(images, masks, out, "coco")
    assert not (out / "preview").exists()


def test_png_pixels_follow_the_window_formula_and_the_csv_offset(tmp_path):
    volume = np.arange(-700, -700 + np.prod(SHAPE) * 7, 7, dtype=np.int16).reshape(SHAPE)
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[3, 4, 2] = 1
    write_nifti(tmp_path / "i" / "a.nii.gz", volume)
    write_nifti(tmp_path / "m" / "a.nii.gz", mask)
    offset = ((PICTURE[0] - SHAPE[0]) // 2, (PICTURE[1] - SHAPE[1]) // 2)
    for window, (low, high) in [("ct-lung", (-1350, 150)), ([100, 50], (75, 125))]:
        out = tmp_path / f"out{low}"
        _export(tmp_path / "i", tmp_path / "m", out, "yolo", window=window, pad_value=7,
                split=[1, 0, 0], group_pattern=None)
        for s in range(SHAPE[2]):
            picture = np.asarray(Image.open(out / "images" / "train" / f"a_axial_{s:03d}.png"))
            grey = np.rint(255 * np.clip((volume[:, :, s] - low) / (high - low), 0, 1))
            expected = np.full(PICTURE, 7, dtype=np.uint8)
            expected[offset[0] : offset[0] + SHAPE[0], offset[1] : offset[1] + SHAPE[1]] = grey
            assert picture.dtype == np.uint8
            np.testing.assert_array_equal(picture, expected)


def test_png_level_trades_size_for_time_and_keeps_the_pixels(dataset, tmp_path):
    images, masks = dataset
    sizes, pixels = {}, {}
    for level in (0, 9):
        out = tmp_path / f"level{level}"
        _export(images, masks, out, "coco", png_level=level)
        files = sorted((out / "images").rglob("*.png"))
        sizes[level] = sum(path.stat().st_size for path in files)
        pixels[level] = [np.asarray(Image.open(path)) for path in files]
    assert sizes[9] < sizes[0]
    assert all(np.array_equal(a, b) for a, b in zip(pixels[0], pixels[9], strict=True))
    with pytest.raises(ValueError, match="png_level=9 applies only with format='yolo' or "
                                         "format='coco'"):
        _export(images, masks, tmp_path / "monai", "monai", png_level=9)


def test_without_window_png_holds_the_stored_values_in_16_bits(tmp_path):
    volume = np.random.default_rng(0).integers(0, 65535, SHAPE).astype(np.uint16)
    write_nifti(tmp_path / "i" / "a.nii.gz", volume)
    write_nifti(tmp_path / "i" / "b.nii.gz", volume.astype(np.float32) - 0.5)
    for name in ("a", "b"):
        write_nifti(tmp_path / "m" / f"{name}.nii.gz", _mask(0))
    out = tmp_path / "out"
    summary = _export(tmp_path / "i", tmp_path / "m", out, "yolo", window=None,
                      target_size=None, split=[1, 0, 0], group_pattern=None)
    picture = Image.open(out / "images" / "train" / "a_axial_004.png")
    assert picture.mode == "I;16"
    np.testing.assert_array_equal(np.asarray(picture), volume[:, :, 4])
    assert summary.failed == 1
    reason = dict(read_failures(out, task="export"))["b.nii.gz"]
    assert "16-bit" in reason and "window" in reason
    assert not any("b_axial" in path for path in user_files(out))


def test_three_channels_are_the_neighbouring_slices(tmp_path):
    volume = (np.arange(np.prod(SHAPE)) % 251).astype(np.uint8).reshape(SHAPE)
    write_nifti(tmp_path / "i" / "a.nii.gz", volume)
    write_nifti(tmp_path / "m" / "a.nii.gz", _mask(0))
    out = tmp_path / "out"
    _export(tmp_path / "i", tmp_path / "m", out, "coco", window=[127.5, 255], channels=3,
            target_size=None, split=[1, 0, 0], group_pattern=None)
    for s in range(SHAPE[2]):
        rgb = np.asarray(Image.open(out / "images" / "train" / f"a_axial_{s:03d}.png"))
        assert rgb.shape == (*SHAPE[:2], 3)
        for channel, neighbour in enumerate((max(s - 1, 0), s, min(s + 1, SHAPE[2] - 1))):
            np.testing.assert_array_equal(rgb[..., channel], volume[:, :, neighbour])


def test_classes_merge_and_exclude_values(dataset, tmp_path):
    images, masks = dataset
    merged = tmp_path / "merged"
    _export(images, masks, merged, "yolo", classes={1: "lesion", 2: "lesion"})
    assert "names:\n  0: lesion\n" in (merged / "data.yaml").read_text()
    labels = [p.read_text() for p in (merged / "labels").rglob("*.txt")]
    assert {line.split()[0] for text in labels for line in text.splitlines()} == {"0"}
    only = tmp_path / "only"
    summary = _export(images, masks, only, "coco", classes={"2": "small"}, negatives="none")
    document = json.loads((only / "annotations" / "instances_train.json").read_text())
    assert document["categories"] == [{"id": 1, "name": "small"}]
    assert summary.left_out > 0
    assert all(len([a for a in document["annotations"] if a["image_id"] == image["id"]]) > 0
               for image in document["images"])


def test_negatives_none_fraction_and_within_image(tmp_path):
    volume = np.full(SHAPE, -1024, dtype=np.int16)
    volume[:, :, 1:5] = 40  # slices 0 and 5 are outside the body
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[2:4, 2:4, 2] = 1
    write_nifti(tmp_path / "i" / "a.nii.gz", volume)
    write_nifti(tmp_path / "m" / "a.nii.gz", mask)

    def slices(**options):
        out = tmp_path / str(len(list(tmp_path.iterdir())))
        _export(tmp_path / "i", tmp_path / "m", out, "yolo", split=[1, 0, 0],
                group_pattern=None, **options)
        return sorted(int(p.stem[-3:]) for p in (out / "images" / "train").glob("*.png"))

    assert slices() == [0, 1, 2, 3, 4, 5]
    assert slices(negatives="none") == [2]
    assert slices(negatives="all", negatives_within="image") == [1, 2, 3, 4]
    two = slices(negatives=2)
    assert len(two) == 3 and 2 in two
    assert slices(negatives=2) == two


def test_a_pair_on_other_grids_is_a_listed_failure_naming_both_files(dataset, tmp_path):
    images, masks = dataset
    write_nifti(images / "sub-01_ses-1.nii.gz", np.zeros((12, 10, 5), dtype=np.int16))
    shifted = np.eye(4)
    shifted[0, 3] = 0.5
    write_nifti(masks / "sub-02_ses-1.nii.gz", _mask(2), shifted)
    for fmt in ("yolo", "monai"):
        out = tmp_path / fmt
        summary = _export(images, masks, out, fmt)
        assert summary.failed == 2 and summary.done == 8
        failures = dict(read_failures(out, task="export"))
        assert "'sub-01_ses-1.nii.gz' has shape (12, 10, 5)" in failures["sub-01_ses-1.nii.gz"]
        assert "place a corner of the volume 0.50 mm apart" in failures["sub-02_ses-1.nii.gz"]
        assert not any("sub-01_ses-1" in path or "sub-02_ses-1" in path
                       for path in user_files(out))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": "ct-heart"}, "window='ct-heart' is not a known window"),
        ({"window": [40, 0]}, "width 0"),
        ({"split": [0.9, 0.2, -0.1]}, "split=[0.9, 0.2, -0.1] is not valid"),
        ({"split": [0.5, 0.2, 0.1]}, "they sum to 0.8"),
        ({"group_pattern": "(sub-"}, "does not compile"),
        ({"group_pattern": "(patient-\\d+)"}, "does not match the case name 'sub-01_ses-1'"),
        ({"classes": {0: "background"}}, "classes key 0 is background"),
        ({"classes": {1: "a", "1.0": "b"}}, "gives the value 1 twice"),
        ({"format": "voc"}, "format='voc' is not valid"),
        ({"channels": 3, "window": None}, "give a window"),
        ({"box_space": "world"}, "box_space='world' applies only with format='monai'"),
        ({"format": "monai", "target_size": (16, 16)}, "does not apply to format='monai'"),
        ({"format": "monai", "channels": 3}, "channels=3 does not apply to format='monai'"),
        ({"box_scope": "volume"}, "takes no option 'box_scope'"),
        ({"pad_value": 300}, "whole number in 0..255"),
        ({"pad_value": -1, "window": None}, "whole number in 0..65535"),
    ],
)
def test_bad_options_fail_in_one_line_before_anything_is_written(dataset, tmp_path, options,
                                                                 message):
    images, masks = dataset
    out = tmp_path / "out"
    fmt = options.pop("format", "yolo")
    with pytest.raises(ValueError, match=None) as caught:
        _export(images, masks, out, fmt, **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not out.exists()


def test_a_split_file_that_does_not_cover_the_cases_is_refused(dataset, tmp_path):
    images, masks = dataset
    first = tmp_path / "first"
    _export(images, masks, first, "monai")
    document = json.loads((first / "split.json").read_text())
    del document["cases"]["sub-03_ses-2"]
    (tmp_path / "split.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"does not list 1 case\(s\) \('sub-03_ses-2'\)"):
        _export(images, masks, tmp_path / "out", "monai", split_file=tmp_path / "split.json")
    assert not (tmp_path / "out").exists()


def _niprep(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("niprep")
    return subprocess.run([str(command), *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_the_command_writes_what_the_function_writes(dataset, tmp_path):
    images, masks = dataset
    done = _niprep("task=export", "format=yolo", f"image_folder={images}",
                   f"nii_folder={masks}", "output_path=out", "group_pattern='(sub-[^_]+)'",
                   "window=ct-soft-tissue", "target_size=[16,14]", "classes={1: a, 2: b}",
                   "progress=false", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    api = tmp_path / "api"
    summary = _export(images, masks, api, "yolo", classes={1: "a", 2: "b"})
    assert done.stdout == (f"niprep export (axial): 10 done, 0 failed, 0 skipped; "
                           f"{int(summary)} boxes in {tmp_path / 'out'}\n")
    written, expected = snapshot(tmp_path / "out"), snapshot(api)
    assert written.pop("data.yaml").replace(str(tmp_path / "out").encode(), b"") == (
        expected.pop("data.yaml").replace(str(api).encode(), b""))
    assert written == expected


@pytest.mark.parametrize(("arguments", "message"), [
    (("window=ct-heart",), "niprep: window='ct-heart' is not a known window"),
    (("split=[0.5,0.6,0]",), "niprep: split=[0.5, 0.6, 0] is not valid; they sum to 1.1"),
    (("format=monai", "negatives=none"),
     "niprep: negatives='none' applies only with format='yolo' or format='coco'"),
])
def test_the_command_refuses_bad_options_with_status_2(dataset, tmp_path, arguments, message):
    images, masks = dataset
    done = _niprep("task=export", f"image_folder={images}", f"nii_folder={masks}",
                   "output_path=out", *arguments, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_the_image_folder_is_a_key_of_the_paired_tasks_only(dataset, tmp_path):
    images, masks = dataset
    done = _niprep(f"image_folder={images}", f"nii_folder={masks}", "output_path=out",
                   cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2, "niprep: image_folder is a key of task=check or task=export, not of "
           "task=annotations\n")
    done = _niprep("task=export", f"nii_folder={masks}", "output_path=out", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2, "niprep: image_folder is required: add image_folder=PATH, the folder of the image "
           "volumes paired with the masks by case name\n")
    assert not (tmp_path / "out").exists()
