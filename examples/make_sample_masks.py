"""Write the small sample dataset that ``make demo`` runs niprep on.

Three CT-like lesion masks (64 x 64 x 24 voxels, uint8, 0.8 x 0.8 x 2.5 mm) with a few
ellipsoid lesions each, named like the masks users bring (``case_XXX_bbox.nii.gz``).
Deterministic: running it again writes the same files.

Usage: python examples/make_sample_masks.py [folder]   (default: examples/sample_masks)
"""

from __future__ import annotations

import sys
from pathlib import Path

import nibabel as nib
import numpy as np

SHAPE = (64, 64, 24)
SPACING = (0.8, 0.8, 2.5)


def lesion_mask(seed: int, lesions: int) -> np.ndarray:
    """A mask with ``lesions`` ellipsoids labelled 1..lesions."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(SHAPE, dtype=np.uint8)
    i, j, k = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    for label in range(1, lesions + 1):
        center = rng.integers((10, 10, 4), (54, 54, 20))
        radii = rng.uniform((2, 2, 1), (7, 7, 3))
        inside = sum(((axis - c) / r) ** 2 for axis, c, r in zip((i, j, k), center, radii)) <= 1
        mask[inside] = label
    return mask


def main(folder: str = "examples/sample_masks") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    affine = np.diag([*SPACING, 1.0])
    for number, lesions in enumerate((3, 1, 4), start=1):
        path = out / f"case_{number:03d}_bbox.nii.gz"
        nib.save(nib.Nifti1Image(lesion_mask(number, lesions), affine), path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
