"""Shared test builders and readers: real NIfTI files written by nibabel into tmp_path, and
the outputs read back. One definition of each; test files import them from here only."""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Collection
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from niprep import extract_annotations_dataset
from niprep.training.store import CACHE_ENV

#: a CIFTI-2 file (a NIfTI-2 container without a voxel grid) from nibabel's own test data
CIFTI_FILE = Path(nib.__file__).parent / "tests" / "data" / "row_major.dconn.nii"
VIEWS = ("axial", "coronal", "sagittal")
#: the slice axis of each view, in stored array axes (i=0, j=1, k=2)
SLICE_AXIS = {"axial": 2, "coronal": 1, "sagittal": 0}
#: a target_size larger than every slice of :func:`make_cases`, odd padding included
TARGET = (16, 17)
#: CSV header lines, box mode, without and with the LABEL column
BOX = "X_MIN,Y_MIN,X_MAX,Y_MAX\n"
BOX_LABEL = "X_MIN,Y_MIN,X_MAX,Y_MAX,LABEL\n"
VOLUME_BOX = "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX\n"
VOLUME_BOX_LABEL = "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX,LABEL\n"
#: a stored orientation that is not RAS: axes permuted and flipped
TILTED = np.array([[0, 0, -2.0, 0], [1.0, 0, 0, 0], [0, -1.5, 0, 0], [0, 0, 0, 1]])


# ------------------------------------------------------------------ volumes and files


def neighbour_steps(connectivity: int) -> list[tuple[int, int, int]]:
    """Offsets to the 6 face, 18 face+edge or 26 face+edge+corner neighbours."""
    steps = [d for d in itertools.product((-1, 0, 1), repeat=3) if any(d)]
    most_nonzero = {6: 1, 18: 2, 26: 3}[connectivity]
    return [d for d in steps if sum(map(abs, d)) <= most_nonzero]


def write_nifti(path: Path, array: np.ndarray, affine: np.ndarray | None = None) -> Path:
    """Save ``array`` as a NIfTI file at ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, np.eye(4) if affine is None else affine), path)
    return path


def write_scaled_nifti(path: Path, array: np.ndarray, slope: float, inter: float) -> Path:
    """Save ``array`` with ``scl_slope``/``scl_inter`` set in the header (values stored raw)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(array, np.eye(4))
    image.header.set_slope_inter(slope, inter)
    nib.save(image, path)
    return path


def nifti_bytes(array: np.ndarray, slope: float = 1.0, inter: float = 0.0) -> bytes:
    """A single-file NIfTI-1 image of ``array``, uncompressed, as nibabel writes it
    (``scl_slope``/``scl_inter`` set when not 1 and 0)."""
    image = nib.Nifti1Image(array, np.eye(4))
    if (slope, inter) != (1.0, 0.0):
        image.header.set_slope_inter(slope, inter)
    return image.to_bytes()


def small_volume() -> np.ndarray:
    """A 6 x 7 x 5 (210 voxels) mask holding the value 2."""
    volume = np.zeros((6, 7, 5), dtype=np.uint8)
    volume[1:3, 2:4, 1] = 2
    return volume


#: :func:`small_volume` as an uncompressed NIfTI-1 file
SMALL_NII = nifti_bytes(small_volume())


def worked_example_volume() -> np.ndarray:
    """The 10 x 12 x 8 volume of docs/reference.md, Worked example."""
    volume = np.zeros((10, 12, 8), dtype=np.uint8)
    volume[2:5, 4:9, 1:4] = 3
    volume[6, 0:2, 5:8] = 7
    return volume


@pytest.fixture
def worked_example(tmp_path: Path) -> Path:
    """A folder holding ``case_001_bbox.nii.gz``, the worked example's volume."""
    folder = tmp_path / "masks"
    write_nifti(folder / "case_001_bbox.nii.gz", worked_example_volume())
    return folder


def moving_mask(index: int, slices: int = 12) -> np.ndarray:
    """A small mask of two annotations (values 1 and ``2 + index % 5``) that move with
    ``index``, so every case differs."""
    volume = np.zeros((6, 7, slices), dtype=np.uint8)
    volume[1 : 3 + index % 3, 2:5, 1 : 1 + slices // 3] = 1
    volume[4, index % 7, slices // 2 : slices - 1] = 2 + index % 5
    return volume


def make_masks(folder: Path, count: int, slices: int = 12) -> Path:
    """``count`` masks ``case_000_bbox.nii.gz`` ... (:func:`moving_mask`) in ``folder``."""
    for index in range(count):
        write_nifti(folder / f"case_{index:03d}_bbox.nii.gz", moving_mask(index, slices))
    return folder


def make_cases(root: Path) -> tuple[Path, Path]:
    """Three paired cases: ``images/<case>.nii.gz`` and ``labels/<case>_bbox.nii.gz``.

    ``a``: the worked example's mask; ``b``: four values, value 4 in two pieces, stored
    tilted; ``c``: no annotation. Images are int16 noise of the same shapes.
    """
    rng = np.random.default_rng(7)
    b = np.zeros((9, 7, 6), dtype=np.int16)
    b[1:4, 2:5, 0:3] = 1
    b[5:8, 0:2, 1:6] = 2
    b[2, 5:7, 4] = 3
    b[7:9, 5:7, 0:2] = 4
    b[0, 0, 5] = 4
    masks = {
        "a": (worked_example_volume(), None),
        "b": (b, TILTED),
        "c": (np.zeros((5, 6, 4), dtype=np.uint8), None),
    }
    for name, (mask, affine) in masks.items():
        write_nifti(root / "labels" / f"{name}_bbox.nii.gz", mask, affine)
        image = rng.integers(-1000, 2000, size=mask.shape).astype(np.int16)
        write_nifti(root / "images" / f"{name}.nii.gz", image, affine)
    return root / "images", root / "labels"


@pytest.fixture
def cases(tmp_path: Path) -> tuple[Path, Path]:
    """The image and label folders of :func:`make_cases`."""
    return make_cases(tmp_path / "data")


# ------------------------------------------------------------------ independent expectations


def _stored(path: Path, orientation: str | None) -> nib.spatialimages.SpatialImage:
    image = nib.load(path)
    return nib.as_closest_canonical(image) if orientation == "RAS" else image


def view_slice(path: Path, view: str, index: int, orientation: str | None = None) -> np.ndarray:
    """Slice ``index`` of a volume as the Coordinates table takes it, straight from nibabel."""
    volume = np.asanyarray(_stored(path, orientation).dataobj)
    return np.take(volume, index, axis=SLICE_AXIS[view])


def num_slices(path: Path, view: str, orientation: str | None = None) -> int:
    """The number of slices of a volume in ``view``, from nibabel."""
    return _stored(path, orientation).shape[SLICE_AXIS[view]]


def padded(picture: np.ndarray, size: tuple[int, int], fill: float = 0.0) -> np.ndarray:
    """``picture`` placed at the padding offset: symmetric, odd pixel bottom/right."""
    out = np.full(size, fill, dtype=np.float32)
    row, col = (size[0] - picture.shape[0]) // 2, (size[1] - picture.shape[1]) // 2
    out[row : row + picture.shape[0], col : col + picture.shape[1]] = picture
    return out


# ------------------------------------------------------------------ reading outputs back


def csv_rows(folder: Path, case: str, view: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The box rows and labels of one slice's CSV (none when there is no file)."""
    path = folder / case / view / f"{case}_{view}_{index:03d}.csv"
    if not path.exists():
        return np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.int64)
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    boxes = [[float(row[c]) for c in ("X_MIN", "Y_MIN", "X_MAX", "Y_MAX")] for row in rows]
    return (np.array(boxes, dtype=np.float32).reshape(-1, 4),
            np.array([int(row["LABEL"]) for row in rows], dtype=np.int64))


def user_files(folder: Path) -> list[str]:
    """Every file under ``folder`` except niprep's own state folder, as relative paths."""
    if not folder.exists():
        return []
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] != ".niprep"
    )


def read_tree(folder: Path) -> dict[str, str]:
    """Every CSV under ``folder`` as ``{relative path: text}``."""
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.csv"))}


def snapshot(folder: Path, skip: Collection[str] = (".niprep",)) -> dict[str, bytes | str]:
    """Every file (its bytes), folder (``"folder"``) and link (``"link -> target"``) under
    ``folder``, leaving out the top-level entries named in ``skip``; ``{}`` if absent."""
    tree: dict[str, bytes | str] = {}
    for root, folders, files in os.walk(folder):
        here = Path(root)
        if here == folder:
            folders[:] = [name for name in folders if name not in skip]
            files = [name for name in files if name not in skip]
        for name in folders + files:
            path = here / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                tree[key] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                tree[key] = "folder"
            else:
                tree[key] = path.read_bytes()
    return tree


def clean_run(masks: Path, folder: Path, **options) -> dict[str, bytes | str]:
    """The :func:`snapshot` of an annotation run of ``masks`` into an empty ``folder``."""
    extract_annotations_dataset(masks, folder, progress=False, **options)
    return snapshot(folder)


def read_failures(
    folder: Path, view: str = "axial", task: str = "annotations"
) -> list[tuple[str, str]]:
    """The ``(file name, reason)`` rows of ``<folder>/<view>_<task>_failures.csv``, in
    order, its header checked; ``[]`` when there is no such file."""
    path = folder / f"{view}_{task}_failures.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["FILENAME", "ERROR"]
    return [(name, error) for name, error in rows[1:]]


@pytest.fixture(autouse=True, scope="session")
def _decoded_volume_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The training datasets' default decoded-volume store lives in the test's temp folder,
    not in the user's ``~/.cache`` (subprocesses inherit it)."""
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("niprep-cache"))
