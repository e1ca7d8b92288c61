"""The transforms on their own, inside a user's own ``monai.transforms.Compose``."""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from conftest import worked_example_volume, write_nifti, write_scaled_nifti
from monai.transforms import Compose
from monai.utils import TransformBackends

from niprep.core.annotations import Annotations
from niprep.core.pipeline import apply_chain
from niprep.core.transforms import (
    LoadNifti,
    LoadNiftid,
    MaskToBoxes,
    MaskToBoxesd,
    Orient,
    Orientd,
    PadOffset,
    PadOffsetd,
    SliceView,
    SliceViewd,
)


def user_chain(key: str = "seg", **mask_options) -> Compose:
    return Compose(
        [
            LoadNiftid([key, "seg_followup"], allow_missing_keys=True),
            Orientd([key, "seg_followup"], axcodes="RAS", allow_missing_keys=True),
            SliceViewd([key, "seg_followup"], view="coronal", allow_missing_keys=True),
            MaskToBoxesd([key, "seg_followup"], boxes_key_postfix="table",
                         allow_missing_keys=True, **mask_options),
            PadOffsetd([f"{key}_table", "seg_followup_table"], target_size=(16, 16),
                       allow_missing_keys=True),
        ]
    )


def test_a_users_compose_with_custom_keys(tmp_path: Path):
    path = write_nifti(tmp_path / "case.nii.gz", worked_example_volume())
    out = user_chain()({"seg": path, "subject": "case"})
    assert out["subject"] == "case"
    assert "seg_followup" not in out and "seg_followup_table" not in out
    assert out["seg"].shape == (12, 10, 8)  # coronal: (slice j, row i, col k)
    np.testing.assert_array_equal(out["seg"][5], worked_example_volume()[:, 5, :])
    assert out["seg_meta"]["view"] == "coronal"
    assert out["seg_meta"]["zooms"] == (1.0, 1.0, 1.0)
    table = out["seg_table"]
    assert isinstance(table, Annotations)
    # coronal slice (i, k) = 10 x 8 padded to 16 x 16: rows + 3, cols + 4
    assert table.values.tolist() == [3, 7]
    assert table.lo.tolist() == [[4, 5, 5], [0, 9, 9]]
    assert table.hi.tolist() == [[8, 7, 7], [1, 9, 11]]
    assert table.voxels.tolist() == [45, 6]
    assert (table.num_slices, table.slice_shape) == (12, (10, 8))


def test_every_listed_key_is_processed(tmp_path: Path):
    first = write_nifti(tmp_path / "a.nii.gz", worked_example_volume())
    later = np.zeros((10, 12, 8), dtype=np.int16)
    later[0, 0, 0] = 9
    second = write_nifti(tmp_path / "b.nii.gz", later)
    out = user_chain()({"seg": first, "seg_followup": second})
    assert out["seg_table"].values.tolist() == [3, 7]
    assert out["seg_followup_table"].values.tolist() == [9]
    assert out["seg_followup_table"].lo.tolist() == [[0, 3, 4]]


def test_missing_keys_are_refused_unless_allowed(tmp_path: Path):
    path = write_nifti(tmp_path / "a.nii.gz", worked_example_volume())
    with pytest.raises(KeyError):
        LoadNiftid(["seg", "absent"])({"seg": path})
    assert set(LoadNiftid(["seg", "absent"], allow_missing_keys=True)({"seg": path})) == {
        "seg", "seg_meta"
    }


def test_meta_key_postfix_and_voxel_volume_travel_along_the_chain(tmp_path: Path):
    volume = np.zeros((4, 4, 4), dtype=np.uint8)
    volume[0, 0, 0] = 1  # 8 mm3
    volume[3, 3, 2:4] = 1  # 16 mm3
    path = write_nifti(tmp_path / "a.nii.gz", volume, np.diag([2.0, 2.0, 2.0, 1.0]))
    chain = Compose(
        [
            LoadNiftid("m", meta_key_postfix="hdr"),
            Orientd("m", axcodes=None, meta_key_postfix="hdr"),
            SliceViewd("m", view="axial", meta_key_postfix="hdr"),
            MaskToBoxesd("m", meta_key_postfix="hdr", instances="components",
                         min_volume_mm3=10.0),
        ]
    )
    out = chain({"m": path})
    assert out["m_hdr"]["voxel_volume"] == 8.0
    assert out["m_boxes"].lo.tolist() == [[2, 3, 3]]  # (k, i, j) of the 2-voxel component
    assert out["m_boxes"].hi.tolist() == [[3, 3, 3]]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint16, np.int32,
                                   np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_load_keeps_the_stored_dtype_and_fortran_order(tmp_path: Path, dtype, suffix: str):
    volume = (np.arange(60).reshape(3, 4, 5) % 7).astype(dtype)
    path = write_nifti(tmp_path / f"v{suffix}", volume)
    array, meta = LoadNifti()(path)
    assert array.dtype == np.dtype(dtype)
    assert array.flags.f_contiguous
    np.testing.assert_array_equal(array, volume)
    assert meta["shape"] == (3, 4, 5)


def test_load_of_one_frame_4d_is_a_fortran_3d_array(tmp_path: Path):
    volume = worked_example_volume()
    path = write_nifti(tmp_path / "v.nii.gz", volume[..., None])
    array, _ = LoadNifti()(path)
    assert array.shape == volume.shape and array.dtype == np.uint8
    assert array.flags.f_contiguous
    np.testing.assert_array_equal(array, volume)


def test_load_applies_scaling_as_nibabel_does(tmp_path: Path):
    volume = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_scaled_nifti(tmp_path / "v.nii.gz", volume, slope=2.0, inter=-1.0)
    array, _ = LoadNifti()(path)
    expected = np.asanyarray(nib.load(path).dataobj)
    assert array.dtype == expected.dtype
    np.testing.assert_array_equal(array, volume * 2.0 - 1.0)


@pytest.mark.parametrize(
    ("view", "take"),
    [
        ("axial", lambda volume, s: volume[:, :, s]),
        ("coronal", lambda volume, s: volume[:, s, :]),
        ("sagittal", lambda volume, s: volume[s, :, :]),
    ],
)
def test_slice_view_is_a_view_giving_numpys_slices(tmp_path: Path, view, take):
    path = write_nifti(tmp_path / "v.nii.gz", worked_example_volume())
    volume, _ = LoadNifti()(path)
    sliced = SliceView(view)(volume)
    assert np.shares_memory(sliced, volume)
    for s in range(sliced.shape[0]):
        np.testing.assert_array_equal(sliced[s], take(volume, s))


def test_orient_without_code_leaves_the_array_alone():
    volume = np.asfortranarray(worked_example_volume())
    affine = np.diag([-1.0, 1.0, 1.0, 1.0])
    array, same_affine = Orient(None)(volume, affine)
    assert array is volume and same_affine is affine


def test_mask_to_boxes_and_pad_offset_on_plain_arrays():
    mask = SliceView("axial")(worked_example_volume())
    table = MaskToBoxes(box_scope="slice")(mask, source_axes=(2, 0, 1))
    assert table.values.tolist() == [3, 7]
    assert table.lo.tolist() == [[1, 2, 4], [5, 6, 0]]
    assert table.slice_present[:, 1].tolist() == [False] * 5 + [True] * 3
    moved = PadOffset((16, 16))(table)
    assert moved.lo.tolist() == [[1, 5, 6], [5, 9, 2]]  # rows + 3, cols + 2
    assert moved.slice_lo[5, 1].tolist() == [9, 2]
    with pytest.raises(ValueError, match=r"\(8, 16\).*\(10, 12\)"):
        PadOffset((8, 16))(table)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MaskToBoxes(instances="component"), "instances='component' is not valid"),
        (lambda: MaskToBoxes(box_scope="slices"), "box_scope='slices' is not valid"),
        (lambda: MaskToBoxes(connectivity=8), "connectivity=8 is not valid"),
        (lambda: PadOffset([16]), "target_size=[16] is not valid"),
        (lambda: Orient("RAX"), "orientation='RAX' is not valid"),
    ],
)
def test_transforms_check_their_arguments_as_the_options_do(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


# ------------------------------------------------------------------ header facts in <key>_meta


def test_orientd_without_an_affine_names_the_key_it_needs():
    volume = worked_example_volume()
    for data in ({"x": volume}, {"x": volume, "x_meta": {"zooms": (1.0, 1.0, 1.0)}}):
        with pytest.raises(KeyError, match=re.escape(
            "Orientd needs 'affine' of 'x' in data['x_meta']; load 'x' with LoadNiftid "
            "(meta_key_postfix='meta') or put it there"
        )):
            Orientd("x", axcodes="RAS")(data)


def test_wrappers_without_meta_take_their_array_transforms_defaults():
    volume = worked_example_volume()
    viewed = SliceViewd("x", view="axial")({"x": volume})
    assert viewed["x_meta"] == {"view": "axial", "view_axes": (2, 0, 1), "shape": (8, 10, 12)}
    boxes = MaskToBoxesd("x")({"x": volume})["x_boxes"]
    expected = MaskToBoxes()(volume)
    assert boxes.lo.tolist() == expected.lo.tolist() == [[2, 4, 1], [6, 0, 5]]
    assert boxes.voxels.tolist() == expected.voxels.tolist()


def test_meta_shape_is_the_arrays_shape_after_every_step(tmp_path: Path):
    path = write_nifti(tmp_path / "v.nii.gz", worked_example_volume())  # RAS, (10, 12, 8)
    data = LoadNiftid("x")({"x": path})
    assert data["x_meta"]["shape"] == (10, 12, 8)
    data = Orientd("x", axcodes="SAR")(data)
    assert data["x"].shape == data["x_meta"]["shape"] == (8, 12, 10)
    data = SliceViewd("x", view="axial")(data)
    assert data["x"].shape == data["x_meta"]["shape"] == (10, 8, 12)
    np.testing.assert_array_equal(data["x"][2], worked_example_volume()[2].T)  # (k, j) of i=2


def test_every_transform_declares_its_backend_as_monais_enum():
    for transform in (LoadNifti, LoadNiftid, Orient, Orientd, SliceView, SliceViewd,
                      MaskToBoxes, MaskToBoxesd, PadOffset, PadOffsetd):
        assert transform.backend == [TransformBackends.NUMPY]
        assert all(isinstance(backend, TransformBackends) for backend in transform.backend)


# ------------------------------------------------------------------ the pipeline's own runner


def test_apply_chain_raises_a_steps_error_as_the_step_raised_it(tmp_path: Path):
    path = write_nifti(tmp_path / "flat.nii.gz", np.ones((5, 6), np.uint8))
    steps = [LoadNiftid("x"), Orientd("x", axcodes="RAS"), SliceViewd("x", view="axial")]
    with pytest.raises(ValueError, match=re.escape(
        "not a 3-D volume: the header gives shape (5, 6) (a 4-D volume is taken only when "
        "its 4th axis has length 1)"
    )) as caught:
        apply_chain(steps, {"x": path})
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert not [frame.filename for frame in frames if "monai" in frame.filename]


def test_apply_chain_keeps_a_users_error_whatever_its_words():
    def failing_step(data: dict) -> dict:
        try:
            raise OSError("the disk is full")
        except OSError as cause:
            raise RuntimeError("applying transform failed: the disk is full") from cause

    with pytest.raises(RuntimeError, match="^applying transform failed: the disk is full$"):
        apply_chain([failing_step], {})
    steps = [SliceViewd("x", view="sagittal"), MaskToBoxesd("x")]
    assert apply_chain(steps, {"x": worked_example_volume()})["x_boxes"].values.tolist() == [3, 7]


def test_load_dict_wrapper_passes_allow_non_finite_on(tmp_path: Path):
    volume = np.zeros((2, 2, 2), dtype=np.float32)
    volume[0, 1, 1] = np.nan
    path = write_nifti(tmp_path / "nan.nii.gz", volume)
    with pytest.raises(ValueError, match="non-finite voxels: 1 of 8 are NaN or infinite"):
        LoadNiftid("x")({"x": path})
    loaded = LoadNiftid("x", allow_non_finite=True)({"x": path})["x"]
    assert np.isnan(loaded[0, 1, 1]) and np.count_nonzero(np.isnan(loaded)) == 1
