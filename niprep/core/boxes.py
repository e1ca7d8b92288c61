"""Box conventions: the one place that says how a slice's boxes leave niprep.

A box inside niprep is a pair of inclusive ``(row, col)`` corners ``lo``, ``hi`` in the
padded picture (:class:`~niprep.core.annotations.SliceRows`). Consumers take them as:

========== ======================================================= =====================
format     values of one box                                       read by
========== ======================================================= =====================
``csv``    ``x_min, y_min, x_max, y_max``, inclusive (the CSVs)     nidataset users
``xyxy``   ``x_min, y_min, x_max + 1, y_max + 1``, half-open        torchvision, MONAI
                                                                   ``StandardMode``
``monai``  ``row_min, col_min, row_max + 1, col_max + 1``           MONAI detection in
           (array axis order, half-open)                           array axis order
``cxcywh`` centre and size, half-open, divided by the picture's    Ultralytics YOLO
           width (x) and height (y)
``coco``   ``x_min, y_min, width, height`` in pixels, half-open    COCO, pycocotools
========== ======================================================= =====================

``x`` is the column and ``y`` the row. A box of one pixel has width and height 1 in every
half-open format.

A 3-D box (:func:`convert_boxes_3d`) is a pair of inclusive voxel corners ``(i, j, k)`` of the
stored array, and leaves as MONAI's detection takes it: ``xyzxyz`` (``i_min, j_min, k_min,
i_max + 1, j_max + 1, k_max + 1``, half-open voxel coordinates) or ``cccwhd`` (centre and
size in world millimetres, the half-open voxel box mapped through an affine).
"""

from __future__ import annotations

import numpy as np

BOX_FORMATS = ("csv", "xyxy", "monai", "cxcywh", "coco")
BOX_FORMATS_3D = ("xyzxyz", "cccwhd")


def convert_boxes(
    lo: np.ndarray,
    hi: np.ndarray,
    box_format: str,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Boxes given by inclusive corners, in one of :data:`BOX_FORMATS`.

    Args:
        lo: ``(N, 2)`` inclusive smallest ``(row, col)`` of each box.
        hi: ``(N, 2)`` inclusive largest ``(row, col)`` of each box.
        box_format: one of :data:`BOX_FORMATS`.
        size: ``(height, width)`` of the picture, needed by ``"cxcywh"``.

    Returns:
        ``(N, 4)`` float64 boxes.

    Raises:
        ValueError: an unknown ``box_format``, or ``"cxcywh"`` without ``size``.
    """
    lo = np.asarray(lo, dtype=np.float64).reshape(-1, 2)
    hi = np.asarray(hi, dtype=np.float64).reshape(-1, 2)
    x0, y0, x1, y1 = lo[:, 1], lo[:, 0], hi[:, 1] + 1, hi[:, 0] + 1
    if box_format == "csv":
        return np.stack([x0, y0, x1 - 1, y1 - 1], axis=1)
    if box_format == "xyxy":
        return np.stack([x0, y0, x1, y1], axis=1)
    if box_format == "monai":
        return np.stack([y0, x0, y1, x1], axis=1)
    if box_format == "coco":
        return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    if box_format == "cxcywh":
        if size is None:
            raise ValueError("box_format='cxcywh' is normalised by the picture size; give size")
        height, width = size
        return np.stack(
            [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height],
            axis=1,
        )
    raise _unknown(box_format)


def _unknown(box_format: str) -> ValueError:
    return ValueError(
        f"box_format={box_format!r} is not valid; choose one of "
        + ", ".join(repr(name) for name in BOX_FORMATS)
    )


def convert_boxes_3d(
    lo: np.ndarray,
    hi: np.ndarray,
    box_format: str,
    affine: np.ndarray | None = None,
) -> np.ndarray:
    """3-D boxes given by inclusive voxel corners, in one of :data:`BOX_FORMATS_3D`.

    ``"cccwhd"`` maps the two corners of the half-open box through ``affine`` and takes the
    smallest and largest of each world axis, the way MONAI's ``AffineBoxToImageCoordinated``
    maps a world box back to voxels, so the round trip gives the voxel box again.

    Args:
        lo: ``(N, 3)`` inclusive smallest ``(i, j, k)`` of each box.
        hi: ``(N, 3)`` inclusive largest ``(i, j, k)`` of each box.
        box_format: ``"xyzxyz"`` (voxels) or ``"cccwhd"`` (world).
        affine: ``(4, 4)`` voxel-to-world matrix, needed by ``"cccwhd"``.

    Returns:
        ``(N, 6)`` float64 boxes.

    Raises:
        ValueError: an unknown ``box_format``, or ``"cccwhd"`` without ``affine``.
    """
    lo = np.asarray(lo, dtype=np.float64).reshape(-1, 3)
    stop = np.asarray(hi, dtype=np.float64).reshape(-1, 3) + 1
    if box_format == "xyzxyz":
        return np.concatenate([lo, stop], axis=1)
    if box_format == "cccwhd":
        if affine is None:
            raise ValueError("box_format='cccwhd' is in world coordinates; give affine")
        affine = np.asarray(affine, dtype=np.float64)
        first = lo @ affine[:3, :3].T + affine[:3, 3]
        last = stop @ affine[:3, :3].T + affine[:3, 3]
        low, high = np.minimum(first, last), np.maximum(first, last)
        return np.concatenate([(low + high) / 2, high - low], axis=1)
    raise ValueError(
        f"box_format={box_format!r} is not valid; choose one of "
        + ", ".join(repr(name) for name in BOX_FORMATS_3D)
    )


def inclusive_corners(
    boxes: np.ndarray, box_format: str, size: tuple[int, int] | None = None
) -> np.ndarray:
    """The inverse of :func:`convert_boxes` (same formats, ``size`` and errors): ``(N, 4)``
    boxes of ``box_format`` as the CSVs' inclusive ``x_min, y_min, x_max, y_max``, float64.

    Args:
        boxes: ``(N, 4)`` boxes in ``box_format``.
        box_format: one of :data:`BOX_FORMATS`.
        size: ``(height, width)`` of the picture, for ``"cxcywh"``.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if box_format == "cxcywh":
        if size is None:
            raise ValueError("box_format='cxcywh' is normalised by the picture size; give size")
        height, width = size
        half_w, half_h = b[:, 2] * width / 2, b[:, 3] * height / 2
        x0, y0 = b[:, 0] * width - half_w, b[:, 1] * height - half_h
        x1, y1 = b[:, 0] * width + half_w, b[:, 1] * height + half_h
    elif box_format == "csv":
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 2] + 1, b[:, 3] + 1
    elif box_format == "xyxy":
        x0, y0, x1, y1 = b.T
    elif box_format == "monai":
        y0, x0, y1, x1 = b.T
    elif box_format == "coco":
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    else:
        raise _unknown(box_format)
    return np.rint(np.stack([x0, y0, x1 - 1, y1 - 1], axis=1))
