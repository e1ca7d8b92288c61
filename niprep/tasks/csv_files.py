"""Annotations to CSV text: slice and volume mode, center / box / radius.

The columns and number formats are those of docs/reference.md, Annotation CSVs."""

from __future__ import annotations

from collections.abc import Iterator

from niprep.core.annotations import Annotations
from niprep.core.classes import format_label

_SLICE_COLUMNS = {
    "center": ("CENTER_X", "CENTER_Y"),
    "box": ("X_MIN", "Y_MIN", "X_MAX", "Y_MAX"),
    "radius": ("CENTER_X", "CENTER_Y", "RADIUS_X", "RADIUS_Y"),
}
_VOLUME_COLUMNS = {
    "center": ("CENTER_X", "CENTER_Y", "CENTER_Z"),
    "box": ("X_MIN", "Y_MIN", "Z_MIN", "X_MAX", "Y_MAX", "Z_MAX"),
    "radius": ("CENTER_X", "CENTER_Y", "CENTER_Z", "RADIUS_X", "RADIUS_Y", "RADIUS_Z"),
}


def header(data_mode: str, extraction_mode: str, include_label: bool) -> str:
    """The CSV header line (with its newline) for a mode.

    Args:
        data_mode: ``"center"``, ``"box"`` or ``"radius"``.
        extraction_mode: ``"slice"`` or ``"volume"``.
        include_label: append the ``LABEL`` column.
    """
    columns = (_SLICE_COLUMNS if extraction_mode == "slice" else _VOLUME_COLUMNS)[data_mode]
    return ",".join(columns + (("LABEL",) if include_label else ())) + "\n"


def format_row(lo: list[int], hi: list[int], data_mode: str) -> str:
    """One row of values for a box with corners ``lo``/``hi`` (axis order ``X, Y[, Z]``).

    Args:
        lo: inclusive minimum of each axis.
        hi: inclusive maximum of each axis.
        data_mode: ``"center"``, ``"box"`` or ``"radius"``.
    """
    if data_mode == "box":
        return ",".join(str(v) for v in [*lo, *hi])
    centers = [repr((a + b) / 2) for a, b in zip(lo, hi)]
    if data_mode == "center":
        return ",".join(centers)
    return ",".join(centers + [repr((b - a) / 2) for a, b in zip(lo, hi)])


def _with_label(row: str, value: float | int, include_label: bool) -> str:
    return f"{row},{format_label(value)}\n" if include_label else f"{row}\n"


def slice_file_name(case: str, view: str, index: int) -> str:
    """``<case>_<view>_<s>.csv`` with ``s`` zero-padded to at least 3 digits."""
    return f"{case}_{view}_{index:03d}.csv"


def slice_texts(annotations: Annotations, data_mode: str, include_label: bool) -> dict[int, str]:
    """The CSV rows of every slice holding an annotation, keyed by slice index.

    With per-slice boxes (``box_scope="slice"``) each row is the annotation's tight box
    on that slice; otherwise its 3-D box is projected on every slice it spans.

    Args:
        annotations: the table, in the view frame.
        data_mode: ``"center"``, ``"box"`` or ``"radius"``.
        include_label: append the value of each annotation.
    """
    table = annotations.slice_rows()
    texts = [
        _with_label(format_row(lo[::-1], hi[::-1], data_mode), value, include_label)
        for lo, hi, value in zip(table.lo.tolist(), table.hi.tolist(), table.values.tolist())
    ]
    rows: dict[int, list[str]] = {}
    for s, box in zip(table.slices.tolist(), table.boxes.tolist()):
        rows.setdefault(s, []).append(texts[box])
    return {s: "".join(lines) for s, lines in rows.items()}


def slice_files(
    annotations: Annotations,
    case: str,
    view: str,
    data_mode: str,
    include_label: bool = False,
    write_empty: bool = False,
) -> Iterator[tuple[str, str]]:
    """Yield ``(file name, text)`` of every per-slice CSV of one case, by slice index.

    Args:
        annotations: the table, in the view frame.
        case: the case name used in file names.
        view: the view name used in file names.
        data_mode: ``"center"``, ``"box"`` or ``"radius"``.
        include_label: append a ``LABEL`` column.
        write_empty: also yield a header-only file for every slice with no annotation.
    """
    top = header(data_mode, "slice", include_label)
    rows = slice_texts(annotations, data_mode, include_label)
    indices = range(annotations.num_slices) if write_empty else sorted(rows)
    for s in indices:
        yield slice_file_name(case, view, s), top + rows.get(s, "")


def volume_file(
    annotations: Annotations, case: str, data_mode: str, include_label: bool = False
) -> tuple[str, str]:
    """``(file name, text)`` of the one volume-mode CSV of a case, a row per annotation.

    Args:
        annotations: the table, in the view frame.
        case: the case name (the file is ``<case>.csv``).
        data_mode: ``"center"``, ``"box"`` or ``"radius"``.
        include_label: append a ``LABEL`` column.
    """
    lines = [header(data_mode, "volume", include_label)]
    values = annotations.values.tolist()
    for n, (lo, hi) in enumerate(zip(annotations.lo.tolist(), annotations.hi.tolist())):
        # view frame (slice, row, col) -> (X=col, Y=row, Z=slice)
        row = format_row([lo[2], lo[1], lo[0]], [hi[2], hi[1], hi[0]], data_mode)
        lines.append(_with_label(row, values[n], include_label))
    return f"{case}.csv", "".join(lines)
