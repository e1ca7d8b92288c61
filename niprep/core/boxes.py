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
"""

from __future__ import annotations

import numpy as np

BOX_FORMATS = ("csv", "xyxy", "monai", "cxcywh", "coco")


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
    raise ValueError(
        f"box_format={box_format!r} is not valid; choose one of "
        + ", ".join(repr(name) for name in BOX_FORMATS)
    )
