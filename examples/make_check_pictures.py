"""Draw the pictures of the README's dataset-check section from ``examples/sample_masks``.

The sample dataset holds masks only; images for them are made here (a soft body-like
ellipse with noise, the lesions brighter), written to a temporary folder with the masks'
affines, and the check runs over both. The dataset is clean, and a clean case gets no
thumbnail: one voxel of case_001's image, in a corner off its three central slices, is made
NaN, so that the check finds it and draws the case. The distribution sheet and case_001's
thumbnail are copied to ``docs/``.

Usage: python examples/make_check_pictures.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

import niprep

MASKS = Path("examples/sample_masks")
DOCS = Path("docs")


def image_for(mask: np.ndarray, seed: int) -> np.ndarray:
    """A CT-like float32 volume: a body ellipse, noise, and the mask's lesions brighter."""
    rng = np.random.default_rng(seed)
    i, j, _ = np.indices(mask.shape, dtype=np.float32)
    centre = (np.array(mask.shape[:2]) - 1) / 2
    body = ((i - centre[0]) / (0.45 * mask.shape[0])) ** 2 + (
        (j - centre[1]) / (0.4 * mask.shape[1])) ** 2 <= 1
    image = np.where(body, 40.0, 0.0) + rng.normal(0, 15, mask.shape)
    image[mask > 0] += 80
    return image.astype(np.float32)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="niprep-check-example-") as temporary:
        images, output = Path(temporary) / "images", Path(temporary) / "out"
        images.mkdir()
        for number, path in enumerate(sorted(MASKS.glob("*.nii.gz"))):
            mask = nib.load(path)
            name = path.name.replace("_bbox", "")
            volume = image_for(np.asarray(mask.dataobj), number)
            if name.startswith("case_001"):
                volume[0, 0, 0] = np.nan  # a finding, so that the case is drawn
            nib.save(nib.Nifti1Image(volume, mask.affine), images / name)
        summary = niprep.check_dataset(images, MASKS, output, progress=False)
        print(f"niprep check: {summary.line()}")
        print((output / "check.csv").read_text(), end="")
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(output / "check" / "distribution.png", DOCS / "check_distribution.png")
        shutil.copyfile(output / "check" / "cases" / "case_001.png", DOCS / "check_case_001.png")


if __name__ == "__main__":
    main()
