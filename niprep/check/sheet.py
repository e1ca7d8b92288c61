"""The dataset's distribution sheet: its numbers (``distribution.json``) and their picture.

Four panels drawn with Pillow from the numbers the check reads: annotations per case, the
annotations' width and height in mm per class (in the check's view), slices holding an
annotation per case, and voxel spacing per case. The picture is drawn from the very
numbers written beside it, which come from the same case facts as ``check.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageDraw

from niprep.check.facts import CaseFacts
from niprep.check.png import png_bytes
from niprep.core.classes import format_label
from niprep.core.drawing import BACKGROUND, CAPTION_COLOUR, colour_of
from niprep.options import Settings

#: size of one panel, and the margins around its plot area
PANEL = (520, 300)
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 24, 28
BAR = (90, 160, 255)
#: the colour of the x, y and z voxel size bars
AXIS_COLOURS = ((255, 120, 90), (120, 220, 120), (90, 160, 255))
AXIS_LINE = (140, 140, 140)
#: cases named under their bars, at most
NAMED = 16


def distribution(names: Sequence[str], facts: Mapping[str, CaseFacts],
                 options: Settings) -> dict[str, Any]:
    """The sheet's numbers: per case and per annotation.

    Args:
        names: the cases, in order.
        facts: the facts of each case read (cases without facts are left out).
        options: ``classes`` (names) and ``view``.

    Returns:
        ``{"view", "cases": [{case, annotations, annotated_slices, spacing}], "boxes":
        [{case, value, class, width_mm, height_mm}]}``; a case without a mask has ``None``
        annotations and annotated slices.
    """
    cases, boxes = [], []
    classes = options.classes or {}
    for name in names:
        if name not in facts:
            continue
        case = facts[name]
        mask = case.mask_content
        cases.append({
            "case": name,
            "annotations": None if mask is None else len(mask.boxes),
            "annotated_slices": None if mask is None else mask.annotated_slices,
            "spacing": list(case.spacing),
        })
        for value, *bounds in mask.boxes if mask is not None else ():
            _, row_zoom, col_zoom = mask.view_zooms
            label = classes.get(value, format_label(value))
            boxes.append({
                "case": name,
                "value": value,
                "class": label,
                "width_mm": (bounds[5] - bounds[2] + 1) * col_zoom,
                "height_mm": (bounds[4] - bounds[1] + 1) * row_zoom,
            })
    return {"view": options.view, "cases": cases, "boxes": boxes}


def bar_height(value: float, largest: float) -> int:
    """Pixels of a bar of ``value`` in a panel whose tallest bar is ``largest``."""
    plot = PANEL[1] - TOP - BOTTOM
    return round(value / largest * plot) if largest > 0 else 0


def _frame(pen: ImageDraw.ImageDraw, origin: tuple[int, int], title: str, top: float,
           x_label: str = "") -> tuple[int, int, int, int]:
    """Draw a panel's title and axes; return its plot area ``(left, top, right, bottom)``."""
    x, y = origin
    area = (x + LEFT, y + TOP, x + PANEL[0] - RIGHT, y + PANEL[1] - BOTTOM)
    pen.text((x + 8, y + 6), title, fill=CAPTION_COLOUR)
    pen.line([area[0] - 1, area[1], area[0] - 1, area[3], area[2], area[3]], fill=AXIS_LINE)
    pen.text((x + 4, area[1] - 2), f"{top:g}", fill=CAPTION_COLOUR)
    pen.text((x + 4, area[3] - 10), "0", fill=CAPTION_COLOUR)
    if x_label:
        pen.text((area[2] - 7 * len(x_label), area[3] + 14), x_label, fill=CAPTION_COLOUR)
    return area


def _bars(pen: ImageDraw.ImageDraw, origin: tuple[int, int], title: str,
          names: Sequence[str], series: Sequence[Sequence[float]],
          colours: Sequence[tuple[int, int, int]]) -> None:
    """A bar per case and series, side by side in the case's slot, case names below."""
    largest = max((value for values in series for value in values), default=0)
    left, _, right, bottom = _frame(pen, origin, title, largest)
    slot = (right - left) / max(len(names), 1)
    width = max(1, int(slot / len(series)) - 1)
    for index, name in enumerate(names):
        for number, (values, colour) in enumerate(zip(series, colours)):
            height = bar_height(values[index], largest)
            x = int(left + index * slot) + number * (width + 1)
            if height:
                pen.rectangle([x, bottom - height, x + width - 1, bottom - 1], fill=colour)
        if len(names) <= NAMED:  # as many letters as the slot holds
            pen.text((int(left + index * slot), bottom + 2), name[: max(1, int(slot // 6))],
                     fill=CAPTION_COLOUR)


def _scatter(pen: ImageDraw.ImageDraw, origin: tuple[int, int], title: str,
             boxes: Sequence[dict[str, Any]]) -> None:
    """Each annotation's width (x) and height (y) in mm, coloured by class, with a key."""
    tallest = max((box["height_mm"] for box in boxes), default=0)
    widest = max((box["width_mm"] for box in boxes), default=0)
    left, top, right, bottom = _frame(pen, origin, title, tallest, f"width {widest:g} mm")
    for box in boxes:
        x = left + (box["width_mm"] / widest if widest else 0) * (right - left - 1)
        y = bottom - 1 - (box["height_mm"] / tallest if tallest else 0) * (bottom - top - 1)
        pen.rectangle([round(x) - 1, round(y) - 1, round(x) + 1, round(y) + 1],
                      fill=colour_of(box["value"]))
    key = {box["class"]: box["value"] for box in boxes}
    for row, (label, value) in enumerate(sorted(key.items(), key=lambda item: item[1])[:8]):
        pen.rectangle([right - 90, top + 4 + 12 * row, right - 84, top + 10 + 12 * row],
                      fill=colour_of(value))
        pen.text((right - 80, top + 12 * row), label[:12], fill=CAPTION_COLOUR)


def sheet_png(numbers: dict[str, Any]) -> bytes:
    """The PNG bytes of the distribution sheet of :func:`distribution`'s numbers.

    Args:
        numbers: what :func:`distribution` returns.
    """
    canvas = Image.new("RGB", (2 * PANEL[0], 2 * PANEL[1]), BACKGROUND)
    pen = ImageDraw.Draw(canvas)
    masked = [case for case in numbers["cases"] if case["annotations"] is not None]
    names = [case["case"] for case in masked]
    _bars(pen, (0, 0), "annotations per case", names,
          [[case["annotations"] for case in masked]], [BAR])
    _scatter(pen, (PANEL[0], 0), f"annotation height (y) and width (x) in mm, "
                                  f"{numbers['view']}", numbers["boxes"])
    _bars(pen, (0, PANEL[1]), f"slices with an annotation per case ({numbers['view']})",
          names, [[case["annotated_slices"] for case in masked]], [BAR])
    spacing = [case["spacing"] for case in numbers["cases"]]
    _bars(pen, (PANEL[0], PANEL[1]), "voxel size per case (mm): x, y, z",
          [case["case"] for case in numbers["cases"]],
          [[size[axis] for size in spacing] for axis in range(3)], AXIS_COLOURS)
    return png_bytes(canvas)
