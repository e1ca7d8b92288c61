"""Value checks of the options: each returns the value in its normal form or raises a
one-line ``ValueError`` naming the option, the value and what to use instead."""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from niprep.core.window import check_window

Check = Callable[[str, Any], Any]

_AXIS_LETTERS = ("LR", "PA", "IS")


def fail(name: str, value: Any, allowed: str) -> ValueError:
    """The error of option ``name`` given ``value``; ``allowed`` says what to use."""
    return ValueError(f"{name}={value!r} is not valid; {allowed}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def choice(*allowed: Any) -> Check:
    """One of ``allowed`` (``True``/``False`` never stand for 1/0)."""

    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or value not in allowed:
            raise fail(name, value, "choose one of " + ", ".join(repr(a) for a in allowed))
        return value

    return check


def flag(name: str, value: Any) -> bool:
    """``True`` or ``False``."""
    if not isinstance(value, bool):
        raise fail(name, value, "use True or False")
    return value


def count(minimum: int) -> Check:
    """A whole number ``>= minimum``."""

    def check(name: str, value: Any) -> int:
        if not _is_int(value) or value < minimum:
            raise fail(name, value, f"use a whole number >= {minimum}")
        return int(value)

    return check


def non_negative(name: str, value: Any) -> float:
    """A real number ``>= 0``."""
    if not _is_real(value) or not value >= 0:
        raise fail(name, value, "use a number >= 0")
    return value


def at_least(minimum: float) -> Check:
    """A real number ``>= minimum``."""

    def check(name: str, value: Any) -> float:
        if not _is_real(value) or not value >= minimum or not math.isfinite(value):
            raise fail(name, value, f"use a number >= {minimum:g}")
        return value

    return check


def fraction(name: str, value: Any) -> float:
    """A real number from 0 to 1."""
    if not _is_real(value) or not 0 <= value <= 1:
        raise fail(name, value, "use a number from 0 to 1")
    return value


def finite(name: str, value: Any) -> float:
    """A finite real number."""
    if not _is_real(value) or not math.isfinite(value):
        raise fail(name, value, "use a finite number")
    return value


def optional_text(name: str, value: Any) -> str | None:
    """``None`` or a string."""
    if value is not None and not isinstance(value, str):
        raise fail(name, value, "use None or a string")
    return value


def optional_path(allowed: str) -> Check:
    """``None`` or a path (``str`` or ``os.PathLike``), returned as ``str``; ``allowed``
    says what to use instead."""

    def check(name: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
            raise fail(name, value, allowed)
        return os.fspath(value)

    return check


optional_folder = optional_path("use None or a folder path")
optional_file = optional_path("use None or a file path")
#: the decoded-volume store's folder: a path, ``"auto"`` (the default folder) or ``None``
store = optional_path("use a folder, 'auto' or None")


def target_size(name: str, value: Any) -> tuple[int, int] | None:
    """``None`` or two positive integers ``(height, width)``, returned as a tuple."""
    if value is None:
        return None
    if (
        isinstance(value, (str, bytes))
        or not (isinstance(value, Sequence) or getattr(value, "ndim", None) == 1)
        or len(value) != 2
        or not all(_is_int(size) and size > 0 for size in value)
    ):
        raise fail(name, value, "use None or two positive integers (height, width)")
    return (int(value[0]), int(value[1]))


def orientation(name: str, value: Any) -> str | None:
    """``None`` or a 3-letter axis code with one of L/R, P/A, I/S each, in upper case."""
    if value is None:
        return None
    allowed = "use None or a 3-letter axis code with one of L/R, P/A, I/S each, such as 'RAS'"
    if not isinstance(value, str) or len(value) != 3:
        raise fail(name, value, allowed)
    code = value.upper()
    axes = sorted(next((i for i, pair in enumerate(_AXIS_LETTERS) if c in pair), -1)
                  for c in code)
    if axes != [0, 1, 2]:
        raise fail(name, value, allowed)
    return code


def window(name: str, value: Any) -> str | tuple[float, float] | None:
    """An intensity window: a preset, ``"percentile"``, ``[level, width]`` or ``None``
    (:func:`niprep.core.window.check_window`)."""
    return check_window(value)


def whole(name: str, value: Any) -> int:
    """A whole number (any sign)."""
    if not _is_int(value):
        raise fail(name, value, "use a whole number")
    return int(value)


def fractions(name: str, value: Any) -> tuple[float, float, float]:
    """Three numbers ``>= 0`` summing to 1 (``[train, val, test]``), returned as a tuple."""
    allowed = "use three fractions [train, val, test], each >= 0, summing to 1, e.g. [0.8, 0.2, 0]"
    if (isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3
            or not all(_is_real(part) and math.isfinite(part) and part >= 0 for part in value)):
        raise fail(name, value, allowed)
    if not math.isclose(math.fsum(value), 1.0, abs_tol=1e-9):
        raise fail(name, list(value), f"they sum to {math.fsum(value):g}; {allowed}")
    return tuple(float(part) for part in value)


def group_pattern(name: str, value: Any) -> str | None:
    """``None`` or a regular expression with at least one group."""
    if value is None:
        return None
    example = "use a regular expression whose first group names the patient, e.g. '(sub-[^_]+)'"
    if not isinstance(value, str):
        raise fail(name, value, example)
    try:
        groups = re.compile(value).groups
    except re.error as error:
        raise fail(name, value, f"it does not compile ({error}); {example}") from None
    if groups < 1:
        raise fail(name, value, f"it has no group; {example}")
    return value


def negatives(name: str, value: Any) -> str | float:
    """``"all"``, ``"none"`` or a number ``>= 0`` (negatives per positive slice)."""
    if value in ("all", "none") and isinstance(value, str):
        return value
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        raise fail(name, value, "use 'all', 'none' or a number >= 0 (negatives per positive "
                                "slice)")
    return value
