"""QC previews: slices with their boxes drawn at the right pixels, chosen deterministically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import worked_example_volume, write_nifti
from PIL import Image

from niprep import extract_annotations_dataset, extract_slices_dataset
from niprep.core.boxes import BOX_FORMATS
from niprep.core.drawing import CAPTION, GAP, PALETTE, zoom_for
from niprep.training.dataset import AnnotatedSliceDataset
from niprep.training.preview import save_preview, spread


def outline(left: int, top: int, corners: list[float], zoom: int) -> set[tuple[int, int]]:
    """The pixels of a box's outline in a tile whose top-left corner is ``(left, top)``."""
    x0, y0, x1, y1 = (int(c) for c in corners)
    a, b = left + x0 * zoom, top + y0 * zoom
    c, d = left + (x1 + 1) * zoom - 1, top + (y1 + 1) * zoom - 1
    return ({(x, y) for x in range(a, c + 1) for y in (b, d)}
            | {(x, y) for y in range(b, d + 1) for x in (a, c)})


def coloured(picture: np.ndarray, colour: tuple[int, int, int]) -> set[tuple[int, int]]:
    ys, xs = np.nonzero((picture == colour).all(axis=2))
    return set(zip(xs.tolist(), ys.tolist()))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """The worked example's mask and an image of it whose voxels are mid-grey noise."""
    mask = write_nifti(tmp_path / "masks" / "case_001_bbox.nii.gz", worked_example_volume())
    noise = np.random.default_rng(3).integers(0, 100, size=(10, 12, 8)).astype(np.int16)
    image = write_nifti(tmp_path / "images" / "case_001.nii.gz", noise)
    return image, mask


def test_spread_is_even_and_keeps_both_ends():
    assert spread(3, 11) == [0, 5, 10]
    assert spread(4, 7) == [0, 2, 4, 6]
    assert spread(1, 6) == [2]
    assert spread(9, 4) == [0, 1, 2, 3]


@pytest.mark.parametrize("formats", [{"box_mode": "monai"}, *({"box_format": name}
                                                               for name in BOX_FORMATS)])
def test_boxes_are_drawn_on_their_pixels(pair, tmp_path, formats):
    image, mask = pair
    dataset = AnnotatedSliceDataset.from_pairs([(image, mask)], target_size=(16, 16),
                                               include_empty=False, **formats)
    path = save_preview(dataset, tmp_path / "qc" / "preview.png", count=len(dataset))
    picture = np.asarray(Image.open(path).convert("RGB"))
    zoom, columns = zoom_for(16, 16), 3  # six tiles: three columns, two rows
    assert zoom == 16
    assert picture.shape == (GAP + 2 * (16 * zoom + CAPTION + GAP), GAP + 3 * (16 * zoom + GAP), 3)
    # worked example, offsets (3, 2): value 3 on slices 1..3 at X 6..10, Y 5..7; value 7 on 5..7
    expected = {3: [6, 5, 10, 7], 7: [2, 9, 3, 9]}
    for number in range(len(dataset)):
        item = dataset[number]
        left = GAP + (number % columns) * (16 * zoom + GAP)
        top = GAP + (number // columns) * (16 * zoom + CAPTION + GAP)
        tile = picture[top : top + 16 * zoom, left : left + 16 * zoom]
        value = int(item["label"][0])
        assert value == (3 if item["slice"] < 4 else 7)
        drawn = {(x + left, y + top) for x, y in coloured(tile, PALETTE[value % len(PALETTE)])}
        assert drawn == outline(left, top, expected[value], zoom)


def test_annotation_task_preview_over_the_mask_is_deterministic(pair, tmp_path):
    _, mask = pair
    for run in ("one", "two"):
        extract_annotations_dataset(mask.parent, tmp_path / run, target_size=(16, 16),
                                    preview=2, progress=False)
    first = tmp_path / "one" / "preview" / "axial_annotations_preview.png"
    assert first.read_bytes() == (tmp_path / "two/preview/axial_annotations_preview.png"
                                  ).read_bytes()
    picture = np.asarray(Image.open(first).convert("RGB"))
    zoom = zoom_for(16, 16)
    # two of the six slices with a box, the first (slice 1) and the last (slice 7)
    lefts = [GAP, GAP + 16 * zoom + GAP]
    assert coloured(picture, PALETTE[3]) == outline(lefts[0], GAP, [6, 5, 10, 7], zoom)
    assert coloured(picture, PALETTE[7]) == outline(lefts[1], GAP, [2, 9, 3, 9], zoom)
    # over the mask: the voxels of value 3 show white, the padding black
    assert (picture[GAP + 6 * zoom + 4, lefts[0] + 8 * zoom + 4] > 200).all()
    assert (picture[GAP + 1, lefts[0] + 1] == 0).all()


def test_slices_task_preview_draws_the_boxes_of_preview_masks(pair, tmp_path):
    image, mask = pair
    extract_slices_dataset(image.parent, tmp_path / "with", target_size=(16, 16), preview=1,
                           preview_masks=mask.parent, progress=False)
    extract_slices_dataset(image.parent, tmp_path / "without", target_size=(16, 16), preview=1,
                           progress=False)
    zoom = zoom_for(16, 16)
    with_boxes = np.asarray(Image.open(tmp_path / "with/preview/axial_slices_preview.png"))
    # one slice: the middle one of those with a box (slices 1, 2, 3, 5, 6, 7 -> 3)
    assert coloured(with_boxes[..., :3], PALETTE[3]) == outline(GAP, GAP, [6, 5, 10, 7], zoom)
    plain = np.asarray(Image.open(tmp_path / "without/preview/axial_slices_preview.png"))
    assert all(not coloured(plain[..., :3], colour) for colour in PALETTE)


def test_preview_folders_are_checked_before_anything_is_written(pair, tmp_path):
    _, mask = pair
    with pytest.raises(ValueError, match=r"preview_images='x' applies only with preview=N"):
        extract_annotations_dataset(mask.parent, tmp_path / "out", preview_images="x")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        extract_annotations_dataset(mask.parent, tmp_path / "out", preview=2,
                                    preview_images=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="extract_annotations_dataset takes no option "
                                         "'preview_masks'; it is an option of "
                                         "extract_slices_dataset"):
        extract_annotations_dataset(mask.parent, tmp_path / "out", preview=2,
                                    preview_masks=mask.parent)
    assert not (tmp_path / "out").exists()


def test_a_linked_preview_folder_is_not_written_through(pair, tmp_path, capfd):
    masks = pair[1].parent
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "preview").symlink_to(elsewhere)
    summary = extract_annotations_dataset(masks, out, preview=2, progress=False)
    assert summary.done == 1 and list(elsewhere.iterdir()) == []
    assert "niprep: preview not drawn: " in capfd.readouterr().err


def test_a_preview_that_cannot_pair_warns_and_keeps_the_run(pair, tmp_path, capfd):
    masks = pair[1].parent
    strangers = tmp_path / "strangers"
    write_nifti(strangers / "other.nii.gz", np.zeros((4, 4, 4), np.int16))
    summary = extract_annotations_dataset(masks, tmp_path / "out", data_mode="box",
                                          preview=2, preview_images=strangers, progress=False)
    assert summary.done == 1 and int(summary) == 2
    assert list((tmp_path / "out").rglob("*.csv"))
    assert capfd.readouterr().err.count("niprep: preview not drawn: ") == 1
