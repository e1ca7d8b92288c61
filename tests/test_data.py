"""niprep.training.AnnotatedSliceDataset: every item is the CSV rows of its slice."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from conftest import (
    TARGET,
    TILTED,
    VIEWS,
    csv_rows,
    num_slices,
    padded,
    view_slice,
    worked_example_volume,
    write_nifti,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from niprep import extract_annotations_dataset
from niprep.training import AnnotatedSliceDataset, collate_slices
from niprep.training.sampling import CaseGroupedSampler


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(
    "options",
    [{}, {"box_scope": "slice"}, {"instances": "components", "connectivity": 6},
     {"orientation": "RAS"}],
)
def test_every_item_is_its_csv_rows_on_its_padded_slice(cases, tmp_path, view, options):
    images, labels = cases
    out = tmp_path / "csv"
    extract_annotations_dataset(labels, out, view=view, extraction_mode="slice", data_mode="box",
                                target_size=TARGET, include_label=True, progress=False, **options)
    dataset = AnnotatedSliceDataset(images, labels, view=view, target_size=TARGET, **options)
    orientation = options.get("orientation")
    expected = [(case, s) for case in "abc"
                for s in range(num_slices(images / f"{case}.nii.gz", view, orientation))]
    assert [(dataset[n]["case"], dataset[n]["slice"]) for n in range(len(dataset))] == expected
    boxes_seen = 0
    for n in range(len(dataset)):
        item = dataset[n]
        case, s = item["case"], item["slice"]
        boxes, values = csv_rows(out, case, view, s)
        assert item["box"].dtype == torch.float32 and item["label"].dtype == torch.int64
        np.testing.assert_array_equal(item["box"].numpy(), boxes)
        np.testing.assert_array_equal(item["label"].numpy(), values)
        picture = view_slice(images / f"{case}.nii.gz", view, s, orientation)
        assert item["image"].dtype == torch.float32
        np.testing.assert_array_equal(item["image"].numpy(), padded(picture, TARGET)[None])
        boxes_seen += len(boxes)
    assert boxes_seen > 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), view=st.sampled_from(VIEWS),
       scope=st.sampled_from(["volume", "slice"]), extra=st.integers(0, 3))
def test_random_masks_give_the_csv_rows(seed, view, scope, extra):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 7, size=3))
    mask = (rng.random(shape) < 0.3) * rng.integers(1, 5, size=shape)
    target = (max(shape) + extra, max(shape) + 3 - extra)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_nifti(root / "labels" / "m_bbox.nii.gz", mask.astype(np.uint8))
        write_nifti(root / "images" / "m.nii.gz", mask.astype(np.float32) * 2.5)
        extract_annotations_dataset(root / "labels", root / "csv", view=view, data_mode="box",
                                    target_size=target, box_scope=scope, include_label=True,
                                    progress=False)
        dataset = AnnotatedSliceDataset(root / "images", root / "labels", view=view,
                                        target_size=target, box_scope=scope)
        for n in range(len(dataset)):
            item = dataset[n]
            boxes, values = csv_rows(root / "csv", "m", view, item["slice"])
            np.testing.assert_array_equal(item["box"].numpy(), boxes)
            np.testing.assert_array_equal(item["label"].numpy(), values)
            picture = view_slice(root / "images" / "m.nii.gz", view, item["slice"])
            np.testing.assert_array_equal(item["image"][0].numpy(), padded(picture, target))


def test_include_empty_false_keeps_the_slices_with_a_csv(cases, tmp_path):
    images, labels = cases
    out = tmp_path / "csv"
    extract_annotations_dataset(labels, out, view="coronal", data_mode="box", box_scope="slice",
                                target_size=TARGET, include_label=True, progress=False)
    dataset = AnnotatedSliceDataset(images, labels, view="coronal", target_size=TARGET,
                                    box_scope="slice", include_empty=False)
    written = sorted(p.stem for p in out.rglob("*.csv"))
    items = [dataset[n] for n in range(len(dataset))]
    assert sorted(f"{i['case']}_coronal_{i['slice']:03d}" for i in items) == written
    for item in items:
        boxes, _ = csv_rows(out, item["case"], "coronal", item["slice"])
        np.testing.assert_array_equal(item["box"].numpy(), boxes)
        assert len(boxes) > 0


def test_monai_box_mode_is_array_order_with_exclusive_max(worked_example, tmp_path):
    write_nifti(tmp_path / "images" / "case_001.nii.gz", worked_example_volume())
    dataset = AnnotatedSliceDataset(tmp_path / "images", worked_example, target_size=(16, 16),
                                    box_mode="monai", include_empty=False)
    # worked example: axial slice 1 has X 6..10, Y 5..7 once padded (offsets row 3, col 2)
    assert dataset[0]["slice"] == 1
    assert dataset[0]["box"].tolist() == [[5.0, 6.0, 8.0, 11.0]]
    image = dataset[0]["image"][0]
    assert bool((image[5:8, 6:11] == 3).all()) and float(image[5:8, 6:11].sum()) == 3 * 15


def test_min_max_normalization_and_pad_value(cases):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels, view="sagittal", target_size=TARGET,
                                    normalization="min-max", pad_value=-1.0)
    volume = np.asanyarray(nib.load(images / "a.nii.gz").dataobj).astype(np.float64)
    low, high = volume.min(), volume.max()
    for n in range(3):
        item = dataset[n]
        assert item["case"] == "a"
        expected = padded((volume[item["slice"]] - low) / (high - low), TARGET, fill=-1.0)
        np.testing.assert_allclose(item["image"][0].numpy(), expected, rtol=0, atol=1e-6)


def test_unpaired_files_are_reported_once_and_left_out(cases):
    images, labels = cases
    write_nifti(images / "lonely.nii.gz", np.zeros((2, 2, 2), dtype=np.int16))
    (labels / "c_bbox.nii.gz").unlink()
    with pytest.warns(UserWarning) as record:
        dataset = AnnotatedSliceDataset(images, labels)
    assert len(record) == 1
    message = str(record[0].message)
    assert "2 file(s)" in message and "'c.nii.gz'" in message and "'lonely.nii.gz'" in message
    assert message == ("left out 2 file(s) with no partner of the same case name: "
                       "image 'c.nii.gz', image 'lonely.nii.gz'")
    assert sorted({dataset[n]["case"] for n in range(len(dataset))}) == ["a", "b"]


def test_no_image_with_a_label_is_an_error_naming_the_files(cases, tmp_path):
    images, _ = cases
    other = tmp_path / "other"
    write_nifti(other / "z.nii.gz", np.zeros((2, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError) as error:
        AnnotatedSliceDataset(images, other)
    assert str(error.value) == (
        "no image has a label of the same case name (after strip_suffix); left out: "
        "image 'a.nii.gz', image 'b.nii.gz', image 'c.nii.gz', label 'z.nii.gz'")


def test_from_pairs_in_given_order_and_a_missing_label_gives_no_box(cases):
    images, labels = cases
    dataset = AnnotatedSliceDataset.from_pairs(
        [(images / "b.nii.gz", labels / "b_bbox.nii.gz"), (images / "a.nii.gz", None)],
        view="axial",
    )
    cases_seen = [dataset[n]["case"] for n in range(len(dataset))]
    assert cases_seen == ["b"] * 6 + ["a"] * 8
    assert all(dataset[n]["box"].shape == (0, 4) for n in range(6, 14))
    assert any(len(dataset[n]["box"]) for n in range(6))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"box_mode": "xyxy"}, "box_mode='xyxy' is not valid; choose one of 'csv', 'monai'"),
        ({"data_mode": "box"}, "AnnotatedSliceDataset takes no option 'data_mode'"),
        ({"cache_size": 0}, "cache_size=0 is not valid"),
        ({"target_size": (8, 8)}, "case 'a' (a.nii.gz / a_bbox.nii.gz): target_size (8, 8)"),
        ({"box_format": "yolo"}, "box_format='yolo' is not valid; choose one of None, 'csv'"),
        ({"label_offset": 1}, "label_offset=1 applies only with classes={value: name}"),
        ({"classes": {0: "background"}}, "classes key 0 is background"),
        ({"channels": 2}, "channels=2 is not valid; choose one of 1, 3"),
        ({"image_dtype": "uint8"}, "image_dtype='uint8' applies only with a window"),
        ({"window": "ct-lungs"}, "window='ct-lungs' is not a known window"),
        ({"window": "ct-lung", "normalization": "min-max"}, "both rescale the image"),
        ({"store": 3}, "store=3 is not valid; use a folder, 'auto' or None"),
        ({"store_limit": 0}, "store_limit=0 is not valid; use a whole number >= 1"),
    ],
)
def test_bad_options_fail_on_construction(cases, options, message):
    images, labels = cases
    with pytest.raises(ValueError) as error:
        AnnotatedSliceDataset(images, labels, **options)
    assert message in str(error.value)


def test_image_and_label_of_different_shapes_fail_naming_the_case(cases):
    images, labels = cases
    write_nifti(images / "b.nii.gz", np.zeros((9, 7, 5), dtype=np.int16), TILTED)
    with pytest.raises(ValueError, match=r"case 'b' \(b.nii.gz / b_bbox.nii.gz\): image and "
                                         r"label differ .* view: \(7, 5, 9\) and \(7, 6, 9\)"):
        AnnotatedSliceDataset(images, labels, orientation="RAS")


def test_reading_in_order_decodes_each_case_once_and_pickles_without_volumes(cases):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels, view="axial", target_size=TARGET,
                                    store=None)
    for n in range(len(dataset)):
        dataset[n]
    info = dataset.cache_info()
    assert (info.hits, info.misses, info.size) == (len(dataset) - 3, 3, 2)
    copy = pickle.loads(pickle.dumps(dataset))
    assert copy.cache_info().size == 0
    assert torch.equal(copy[len(copy) - 1]["image"], dataset[-1]["image"])


def test_dataloader_with_two_workers_yields_every_item_once_per_epoch(cases):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels, view="coronal", target_size=TARGET)
    direct = {(dataset[n]["case"], dataset[n]["slice"]): dataset[n] for n in range(len(dataset))}
    loader = DataLoader(dataset, batch_size=3, shuffle=True, num_workers=2,
                        collate_fn=collate_slices, generator=torch.Generator().manual_seed(0))
    for _ in range(2):
        seen = []
        for batch in loader:
            assert batch["image"].shape[1:] == (1, *TARGET)
            for b, (case, s) in enumerate(zip(batch["case"], batch["slice"].tolist())):
                seen.append((case, s))
                assert torch.equal(batch["image"][b], direct[case, s]["image"])
                assert torch.equal(batch["box"][b], direct[case, s]["box"])
                assert torch.equal(batch["label"][b], direct[case, s]["label"])
        assert sorted(seen) == sorted(direct)


def test_collate_refuses_images_of_different_sizes(cases):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels)
    with pytest.raises(ValueError, match="give the dataset a target_size"):
        collate_slices([dataset[0], dataset[len(dataset) - 1]])


def test_case_grouped_sampler_keeps_cases_together_and_decodes_each_once(cases):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels, view="axial", target_size=TARGET,
                                    cache_size=1)
    sampler = CaseGroupedSampler(dataset, generator=torch.Generator().manual_seed(3))
    order = list(sampler)
    assert sorted(order) == list(range(len(dataset))) and len(sampler) == len(dataset)
    runs = [dataset.item_cases[i] for i in order]
    changes = sum(a != b for a, b in zip(runs, runs[1:]))
    assert changes == len(set(runs)) - 1  # each case's items come in one run
    assert order != sorted(order)  # shuffled within cases
    assert order == list(CaseGroupedSampler(dataset,
                                            generator=torch.Generator().manual_seed(3)))
    for index in order:
        dataset[index]
    assert dataset.cache_info().misses == len(set(runs))
    assert list(CaseGroupedSampler(dataset, shuffle=False)) == list(range(len(dataset)))
