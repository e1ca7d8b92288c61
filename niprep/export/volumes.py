"""One case of a MONAI 3-D detection export: its data-list entry, boxes of the stored voxels.

MONAI's detection workflow loads the image as stored (``LoadImaged``: array axes ``i, j,
k``), so the boxes are the mask's 3-D annotation boxes in that array's axes, not in a view
frame: ``xyzxyz`` half-open voxel coordinates, or ``cccwhd`` world millimetres through the
mask's affine (RAS, or LPS as ITK readers and MONAI's LUNA16 tutorial have it).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from niprep.core.boxes import convert_boxes_3d
from niprep.core.classes import ClassMap
from niprep.core.transforms import LoadNifti, MaskToBoxes
from niprep.export.pairs import check_pair, header_grid
from niprep.options import Settings

#: RAS world coordinates to LPS: x and y change sign
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def datalist_entry(
    mask_path: str | os.PathLike,
    image_path: str | os.PathLike,
    options: Settings,
    class_map: ClassMap,
) -> tuple[dict[str, Any], int]:
    """The data-list entry of one case and the number of boxes of unlisted values.

    Args:
        mask_path: the mask file.
        image_path: the image file (its header is read, its voxels are not).
        options: the export options (annotation options, ``box_space``, ``world_frame``,
            ``affine_tolerance``).
        class_map: the dataset's classes.

    Returns:
        ``({"image": file name, "box": [[...], ...], "label": [...]}, left out)``.
    """
    check_pair(header_grid(image_path, options.max_voxels),
               header_grid(mask_path, options.max_voxels), options.affine_tolerance)
    array, meta = LoadNifti(options.max_voxels)(mask_path)
    annotations = MaskToBoxes(options.instances, options.connectivity, options.min_voxels,
                              options.min_volume_mm3)(array, meta["voxel_volume"])
    ids, kept = class_map.lookup(annotations.values)
    lo, hi = annotations.lo[kept], annotations.hi[kept]
    if options.box_space == "voxel":
        boxes = convert_boxes_3d(lo, hi, "xyzxyz").astype(np.int64).tolist()
    else:
        affine = meta["affine"] if options.world_frame == "RAS" else RAS_TO_LPS @ meta["affine"]
        boxes = convert_boxes_3d(lo, hi, "cccwhd", affine).tolist()
    entry = {"image": os.path.basename(image_path), "box": boxes, "label": ids.tolist()}
    return entry, int(np.count_nonzero(~kept))
