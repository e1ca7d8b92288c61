"""Training items as models take them: box formats, class ids, windows, 2.5-D channels,
detection targets, and the worker-aware case-grouped batches."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from conftest import TARGET, csv_rows, padded, view_slice, write_nifti
from torch.utils.data import DataLoader, get_worker_info

from niprep import extract_annotations_dataset
from niprep.training import (
    AnnotatedSliceDataset,
    CaseGroupedBatchSampler,
    collate_detection,
)


def expected_boxes(rows: np.ndarray, box_format: str) -> np.ndarray:
    """CSV rows (inclusive corners) under each format's stated convention."""
    x0, y0, x1, y1 = rows.astype(np.float64).T
    height, width = TARGET
    return {
        "csv": rows,
        "xyxy": np.stack([x0, y0, x1 + 1, y1 + 1], axis=1),
        "monai": np.stack([y0, x0, y1 + 1, x1 + 1], axis=1),
        "coco": np.stack([x0, y0, x1 - x0 + 1, y1 - y0 + 1], axis=1),
        "cxcywh": np.stack([(x0 + x1 + 1) / 2 / width, (y0 + y1 + 1) / 2 / height,
                            (x1 - x0 + 1) / width, (y1 - y0 + 1) / height], axis=1),
    }[box_format].reshape(-1, 4)


@pytest.mark.parametrize("view", ["axial", "coronal"])
@pytest.mark.parametrize("box_scope", ["volume", "slice"])
def test_every_box_format_is_the_csv_rows_under_its_convention(cases, tmp_path, view,
                                                               box_scope):
    images, labels = cases
    out = tmp_path / "csv"
    extract_annotations_dataset(labels, out, view=view, data_mode="box", box_scope=box_scope,
                                target_size=TARGET, include_label=True, progress=False)
    for box_format in ("csv", "xyxy", "monai", "coco", "cxcywh"):
        dataset = AnnotatedSliceDataset(images, labels, view=view, target_size=TARGET,
                                        box_scope=box_scope, box_format=box_format)
        for n in range(len(dataset)):
            item = dataset[n]
            rows, values = csv_rows(out, item["case"], view, item["slice"])
            expected = expected_boxes(rows, box_format)
            np.testing.assert_allclose(item["box"].numpy(), expected, rtol=1e-6)
            assert item["label"].tolist() == values.tolist()
            if box_format in ("xyxy", "monai"):
                box = item["box"].numpy()
                assert (box[:, 2] > box[:, 0]).all() and (box[:, 3] > box[:, 1]).all()


def test_box_mode_monai_items_are_unchanged_and_clash_with_another_box_format(cases):
    images, labels = cases
    old = AnnotatedSliceDataset(images, labels, target_size=TARGET, box_mode="monai")
    new = AnnotatedSliceDataset(images, labels, target_size=TARGET, box_format="monai")
    for n in range(len(old)):
        assert torch.equal(old[n]["box"], new[n]["box"])
    with pytest.raises(ValueError, match="box_mode='monai' and box_format='xyxy' disagree"):
        AnnotatedSliceDataset(images, labels, box_mode="monai", box_format="xyxy")


def test_classes_give_ids_from_the_offset_and_leave_out_values_not_listed(cases, tmp_path):
    images, labels = cases
    out = tmp_path / "csv"
    extract_annotations_dataset(labels, out, view="axial", data_mode="box", target_size=TARGET,
                                include_label=True, progress=False)
    classes = {4: "tumor", 1: "liver", 3: "tumor"}  # ids follow the names' first mention
    dataset = AnnotatedSliceDataset(images, labels, target_size=TARGET, classes=classes,
                                    label_offset=1, box_format="csv", include_empty=False)
    assert dataset.class_names == {1: "tumor", 2: "liver"}
    ids = {1: 2, 3: 1, 4: 1}
    seen = set()
    for n in range(len(dataset)):
        item = dataset[n]
        rows, values = csv_rows(out, item["case"], "axial", item["slice"])
        listed = np.isin(values, list(ids))
        np.testing.assert_array_equal(item["box"].numpy(), rows[listed])
        assert item["label"].tolist() == [ids[v] for v in values[listed]]
        assert listed.any()  # slices left with no listed box are not items
        seen.add((item["case"], item["slice"]))
    expected = set()
    for path in out.rglob("*.csv"):
        case, _, index = path.stem.rsplit("_", 2)
        if np.isin(csv_rows(out, case, "axial", int(index))[1], list(ids)).any():
            expected.add((case, int(index)))
    assert seen == expected


def test_non_integer_mask_values_are_refused_naming_them_or_mapped_by_classes(tmp_path):
    mask = np.zeros((6, 6, 3), dtype=np.float32)
    mask[1:3, 1:3, 0] = 0.5
    mask[3:5, 3:6, 1] = 2.0
    write_nifti(tmp_path / "labels" / "m_bbox.nii.gz", mask)
    write_nifti(tmp_path / "images" / "m.nii.gz", np.ones((6, 6, 3), dtype=np.int16))
    images, labels = tmp_path / "images", tmp_path / "labels"
    dataset = AnnotatedSliceDataset(images, labels)
    with pytest.raises(ValueError, match=r"case 'm' \(m.nii.gz / m_bbox.nii.gz\): mask value "
                                         r"0.5 is not a whole number .* classes=\{0.5: "):
        dataset[0]
    with pytest.raises(ValueError, match="mask value 0.5 is not a whole number"):
        AnnotatedSliceDataset(images, labels, include_empty=False)
    mapped = AnnotatedSliceDataset(images, labels, classes={0.5: "half", 2: "two"})
    assert [mapped[n]["label"].tolist() for n in range(3)] == [[0], [1], []]


@pytest.mark.parametrize("store", [True, False])
def test_three_channels_are_the_previous_this_and_next_slice(cases, tmp_path, store):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels, view="coronal", target_size=TARGET,
                                    channels=3, store=tmp_path / "store" if store else None)
    path = images / "a.nii.gz"
    last = nib.load(path).shape[1] - 1
    for n in range(last + 1):
        item = dataset[n]
        assert item["case"] == "a" and item["image"].shape == (3, *TARGET)
        for channel, neighbour in enumerate((max(n - 1, 0), n, min(n + 1, last))):
            np.testing.assert_array_equal(item["image"][channel].numpy(),
                                          padded(view_slice(path, "coronal", neighbour), TARGET))


def grey(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """The window formula of the README, in float64."""
    return np.rint(255 * np.clip((values.astype(np.float64) - low) / (high - low), 0, 1))


@pytest.mark.parametrize("store", [True, False])
@pytest.mark.parametrize("window", [(50, 300), "ct-soft-tissue", "percentile"])
def test_window_is_the_export_formula_in_float_and_in_uint8(cases, tmp_path, store, window):
    images, labels = cases
    path = images / "b.nii.gz"
    volume = np.asanyarray(nib.load(path).dataobj)
    if window == "percentile":
        low, high = np.percentile(volume[volume != 0], (0.5, 99.5))
    else:
        level, width = (40, 400) if window == "ct-soft-tissue" else window
        low, high = level - width / 2, level + width / 2
    options = dict(target_size=TARGET, window=window, pad_value=7,
                   store=tmp_path / "store" if store else None)
    as_float = AnnotatedSliceDataset.from_pairs([(path, None)], **options)
    as_uint8 = AnnotatedSliceDataset.from_pairs([(path, None)], image_dtype="uint8", **options)
    for n in range(volume.shape[2]):
        expected = padded(grey(view_slice(path, "axial", n), low, high), TARGET, fill=7)
        assert as_uint8[n]["image"].dtype == torch.uint8
        np.testing.assert_array_equal(as_uint8[n]["image"][0].numpy(), expected)
        assert as_float[n]["image"].dtype == torch.float32
        assert torch.equal(as_float[n]["image"], as_uint8[n]["image"].float() / 255)


def test_collate_detection_gives_images_and_per_image_targets(cases):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels, target_size=TARGET, classes={1: "x", 2: "y"},
                                    label_offset=1, box_format="xyxy")
    batch = [dataset[n] for n in range(4)]
    stacked, targets = collate_detection(batch)
    assert stacked.shape == (4, 1, *TARGET) and stacked.dtype == torch.float32
    assert len(targets) == 4
    for item, target in zip(batch, targets):
        assert set(target) == {"boxes", "labels"}
        assert target["boxes"].dtype == torch.float32 and target["boxes"].shape[1] == 4
        assert target["labels"].dtype == torch.int64
        assert torch.equal(target["boxes"], item["box"])
        assert torch.equal(target["labels"], item["label"])


class WorkerRecording(AnnotatedSliceDataset):
    """Items that say which ``DataLoader`` worker read them."""

    def __getitem__(self, index: int) -> dict:
        item = super().__getitem__(index)
        item["worker"] = get_worker_info().id
        return item


def as_list(batch: list[dict]) -> list[dict]:
    return batch


@pytest.mark.parametrize(("slices", "split", "persistent"),
                         [((6, 6, 6, 6), 0, False), ((5, 7, 4), 1, True)])
def test_batch_sampler_gives_each_worker_whole_cases(tmp_path, slices, split, persistent):
    pairs = []
    for number, count in enumerate(slices):
        path = write_nifti(tmp_path / f"c{number}.nii.gz",
                           np.full((4, 5, count), number, dtype=np.int16))
        pairs.append((path, None))
    dataset = WorkerRecording.from_pairs(pairs, store=None, cache_size=1)
    sampler = CaseGroupedBatchSampler(dataset, batch_size=4, num_workers=2,
                                      generator=torch.Generator().manual_seed(5))
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=2, collate_fn=as_list,
                        persistent_workers=persistent)
    for _ in range(2):
        items = [item for batch in loader for item in batch]
        assert sorted((item["case"], item["slice"]) for item in items) == sorted(
            (f"c{number}", s) for number, count in enumerate(slices) for s in range(count)
        )
        workers_of = {}
        for item in items:
            workers_of.setdefault(item["case"], set()).add(item["worker"])
        assert sum(len(workers) > 1 for workers in workers_of.values()) == split
        assert {w for workers in workers_of.values() for w in workers} == {0, 1}
    assert len(sampler) == sum(1 for _ in sampler) == len(list(loader))


@pytest.mark.parametrize(("arguments", "message"), [
    ({"batch_size": 0}, "batch_size=0 is not valid; use a whole number >= 1"),
    ({"batch_size": 2, "num_workers": -1}, "num_workers=-1 is not valid; use a whole number >= 0"),
])
def test_the_batch_sampler_refuses_bad_sizes(cases, arguments, message):
    images, labels = cases
    dataset = AnnotatedSliceDataset(images, labels, store=None)
    with pytest.raises(ValueError) as error:
        CaseGroupedBatchSampler(dataset, **arguments)
    assert str(error.value) == message
