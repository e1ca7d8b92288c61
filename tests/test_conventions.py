"""Box formats, intensity windows and class maps: each convention against its own formula."""

from __future__ import annotations

import numpy as np
import pytest

from niprep.core.boxes import BOX_FORMATS, convert_boxes, inclusive_corners
from niprep.core.classes import ClassMap, check_classes
from niprep.core.pictures import SlicePictures
from niprep.core.window import WINDOW_PRESETS, Window, check_window

LO = np.array([[1, 2], [4, 4]])  # (row, col), inclusive
HI = np.array([[3, 5], [4, 4]])


@pytest.mark.parametrize(
    ("box_format", "expected"),
    [
        ("csv", [[2, 1, 5, 3], [4, 4, 4, 4]]),
        ("xyxy", [[2, 1, 6, 4], [4, 4, 5, 5]]),
        ("monai", [[1, 2, 4, 6], [4, 4, 5, 5]]),
        ("coco", [[2, 1, 4, 3], [4, 4, 1, 1]]),
        ("cxcywh", [[4 / 20, 2.5 / 10, 4 / 20, 3 / 10], [4.5 / 20, 4.5 / 10, 1 / 20, 1 / 10]]),
    ],
)
def test_box_formats(box_format, expected):
    assert box_format in BOX_FORMATS
    np.testing.assert_array_equal(convert_boxes(LO, HI, box_format, size=(10, 20)), expected)


@pytest.mark.parametrize("box_format", BOX_FORMATS)
def test_inclusive_corners_undo_every_format(box_format):
    boxes = convert_boxes(LO, HI, box_format, size=(10, 20))
    np.testing.assert_array_equal(inclusive_corners(boxes, box_format, size=(10, 20)),
                                  [[2, 1, 5, 3], [4, 4, 4, 4]])


def test_half_open_boxes_of_one_pixel_have_size_one():
    for box_format in ("xyxy", "monai"):
        box = convert_boxes(LO[1:], HI[1:], box_format)[0]
        assert box[2] - box[0] == 1 and box[3] - box[1] == 1


def test_box_format_errors():
    with pytest.raises(ValueError, match="box_format='yolo' is not valid; choose one of"):
        convert_boxes(LO, HI, "yolo")
    with pytest.raises(ValueError, match="give size"):
        convert_boxes(LO, HI, "cxcywh")


@pytest.mark.parametrize("name", sorted(WINDOW_PRESETS))
def test_window_presets_follow_the_formula(name):
    level, width = WINDOW_PRESETS[name]
    values = np.linspace(level - width, level + width, 301)
    low = level - width / 2
    expected = np.rint(np.clip((values - low) / width, 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(Window.of(check_window(name), values)(values), expected)


def test_percentile_window_ignores_zero_voxels():
    volume = np.zeros((2, 20, 20), dtype=np.int16)
    volume[0, :10] = np.arange(1, 201).reshape(10, 20)
    window = Window.of("percentile", volume)
    low, high = np.percentile(np.arange(1, 201), (0.5, 99.5))
    assert (window.low, window.high) == (low, high)
    assert window(np.array([0, low, high, 1000])).tolist() == [0, 0, 255, 255]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ct-lungs", "window='ct-lungs' is not a known window; choose one of 'ct-soft-tissue'"),
        ([40, 0], r"window=\[40, 0\] has width 0; use a width > 0"),
        ([40, float("nan")], "is not valid"),
        (3, "window=3 is not valid"),
    ],
)
def test_window_errors(value, message):
    with pytest.raises(ValueError, match=message):
        check_window(value)


def test_windowed_pictures_are_padded_grey_levels():
    volume = np.full((3, 2, 2), 40, dtype=np.int16)
    volume[1] = [[-1000, 240], [40, 3000]]
    pictures = SlicePictures(volume, (4, 4), pad_value=7, window=check_window([40, 400]))
    picture = pictures(1)
    assert picture.dtype == np.uint8
    assert picture[1:3, 1:3].tolist() == [[0, 255], [128, 255]]
    assert picture[0].tolist() == [7, 7, 7, 7]
    stacked = pictures.stack(0, channels=3)
    np.testing.assert_array_equal(stacked, [pictures(0), pictures(0), pictures(1)])
    with pytest.raises(ValueError, match="use one of them"):
        SlicePictures(volume, window="ct-lung", normalization="min-max")


def test_class_map_from_found_values():
    classes = ClassMap.build([2, 0.5, 1, 2])
    assert classes.names == ("0.5", "1", "2")
    ids, kept = classes.lookup(np.array([1, 2, 0.5, 7]))
    assert ids.tolist() == [1, 2, 0] and kept.tolist() == [True, True, True, False]


def test_class_map_merges_excludes_and_offsets():
    classes = ClassMap.build([], check_classes({3: "lesion", "1": "liver", 2: "lesion"}), 1)
    assert classes.id_names() == {1: "lesion", 2: "liver"}
    ids, kept = classes.lookup(np.array([1, 2, 3, 4]))
    assert ids.tolist() == [2, 1, 1] and kept.tolist() == [True, True, True, False]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "a", "1.0": "b"}, "classes gives the value 1 twice; keep one entry"),
        ({0: "background"}, "classes key 0 is background"),
        ({"x": "a"}, "classes key 'x' is not a mask value"),
        ({1: ""}, r"classes\[1\]='' is not valid"),
        ([1, 2], "use a mapping of mask values to class names"),
    ],
)
def test_class_errors(value, message):
    with pytest.raises(ValueError, match=message):
        check_classes(value)
