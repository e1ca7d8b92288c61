"""The baseline niprep is measured against: nidataset's per-label scan of a float64 copy.

``baseline_extract_annotations_dataset`` reproduces the algorithm of the package users
migrate from (``nidataset.slices.extract_annotations_dataset``): every mask is loaded with
nibabel's ``get_fdata()`` (a float64 copy, 8x the stored uint8 size), its labels are found
with ``np.unique`` over all voxels (a full sort), and then the whole volume is scanned once
per label (``np.argwhere(vol == label)``) to get that label's min/max index on each axis.

It writes what niprep writes for ``view="axial"``, ``saving_mode="case"``,
``extraction_mode="slice"``, ``data_mode="box"`` (see docs/reference.md):
``<out>/<case>/axial/<case>_axial_<s:03d>.csv``, header ``X_MIN,Y_MIN,X_MAX,Y_MAX``, one
row per annotation whose k-range covers slice ``s``, ``X`` = column = ``j``, ``Y`` = row =
``i``, rows in ascending label order, and optionally ``<out>/axial_annotations_stats.csv``.
The benchmark compares its output tree byte for byte with niprep's.

Run ``python benchmarks/baseline.py`` to check it against docs/reference.md's worked example.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import nibabel as nib
import numpy as np
from synthetic_masks import ensure_worked_example

BOX_HEADER = "X_MIN,Y_MIN,X_MAX,Y_MAX"
STRIP_SUFFIX = "_bbox"
NIFTI_SUFFIXES = (".nii.gz", ".nii")


def case_name(file_name: str) -> str:
    """File name without its NIfTI extension and without a trailing ``_bbox``."""
    for suffix in NIFTI_SUFFIXES:
        if file_name.endswith(suffix):
            file_name = file_name[: -len(suffix)]
            break
    return file_name.removesuffix(STRIP_SUFFIX)


def label_boxes(vol: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inclusive ``(min, max)`` ``(i, j, k)`` index of every value > 0, ascending by value.

    The slow way, on purpose: one sort of all voxels, then one full scan per label.
    """
    labels = np.unique(vol)
    boxes = []
    for label in labels[labels > 0]:
        coords = np.argwhere(vol == label)
        boxes.append((coords.min(axis=0), coords.max(axis=0)))
    return boxes


def axial_box_rows(boxes: list[tuple[np.ndarray, np.ndarray]]) -> dict[int, list[str]]:
    """CSV rows ``X_MIN,Y_MIN,X_MAX,Y_MAX`` per axial slice ``k``, in annotation order."""
    rows: dict[int, list[str]] = defaultdict(list)
    for (i0, j0, k0), (i1, j1, k1) in boxes:
        for s in range(int(k0), int(k1) + 1):
            rows[s].append(f"{j0},{i0},{j1},{i1}")
    return rows


def write_case(case: str, rows: dict[int, list[str]], output_path: Path) -> None:
    """Write one file per annotated slice under ``<output_path>/<case>/axial/``."""
    folder = output_path / case / "axial"
    folder.mkdir(parents=True, exist_ok=True)
    for s in sorted(rows):
        lines = [BOX_HEADER, *rows[s]]
        with open(folder / f"{case}_axial_{s:03d}.csv", "w", newline="") as handle:
            handle.write("\n".join(lines) + "\n")


def write_stats(counts: dict[str, int], output_path: Path) -> None:
    """Write ``axial_annotations_stats.csv``: one row per file, then the total."""
    lines = ["FILENAME,NUM_ANNOTATIONS", *(f"{name},{n}" for name, n in counts.items())]
    lines.append(f"TOTAL_ANNOTATIONS,{sum(counts.values())}")
    with open(output_path / "axial_annotations_stats.csv", "w", newline="") as handle:
        handle.write("\n".join(lines) + "\n")


def baseline_extract_annotations_dataset(
    nii_folder: str | Path, output_path: str | Path, save_stats: bool = False
) -> int:
    """nidataset's algorithm for axial / case / slice / box; returns the annotation total.

    Args:
        nii_folder: folder of ``.nii.gz`` / ``.nii`` masks, processed in sorted name order.
        output_path: root of the CSV tree (created if missing).
        save_stats: also write ``axial_annotations_stats.csv``.
    """
    folder, output_path = Path(nii_folder), Path(output_path)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(NIFTI_SUFFIXES))
    if not files:
        raise FileNotFoundError(f"no NIfTI file in {folder}")
    output_path.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for path in files:
        vol = nib.load(path).get_fdata()
        boxes = label_boxes(vol)
        write_case(case_name(path.name), axial_box_rows(boxes), output_path)
        counts[path.name] = len(boxes)
    if save_stats:
        write_stats(counts, output_path)
    return sum(counts.values())


def check_worked_example() -> None:
    """Raise ``AssertionError`` unless the baseline writes the worked example's axial boxes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        total = baseline_extract_annotations_dataset(
            ensure_worked_example(Path(tmp)), out, save_stats=True
        )
        axial = out / "case_001" / "axial"
        expected = {f"case_001_axial_{s:03d}.csv": "4,2,8,4" for s in (1, 2, 3)}
        expected |= {f"case_001_axial_{s:03d}.csv": "0,6,1,6" for s in (5, 6, 7)}
        written = {p.name: p.read_text() for p in axial.iterdir()}
        assert total == 2, total
        assert written == {name: f"{BOX_HEADER}\n{row}\n" for name, row in expected.items()}
        stats = (out / "axial_annotations_stats.csv").read_text()
        assert stats == "FILENAME,NUM_ANNOTATIONS\ncase_001_bbox.nii.gz,2\nTOTAL_ANNOTATIONS,2\n"


if __name__ == "__main__":
    check_worked_example()
    print("baseline matches the worked example (axial, slice, box, stats)", file=sys.stderr)
