"""Intensity windows: stored image values to 8-bit grey, as radiologists window CT.

A window of level ``L`` and width ``W`` shows the values from ``low = L - W / 2`` to
``high = L + W / 2``; a value ``v`` becomes the grey level

    ``round(255 * clip((v - low) / (high - low), 0, 1))``

(rounding half to even, computed in float64). ``"percentile"`` takes ``low`` and ``high``
as the 0.5th and 99.5th percentiles of the volume's non-zero voxels, for MR whose values
have no fixed scale.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: ``name: (level, width)`` in Hounsfield units
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "ct-soft-tissue": (40.0, 400.0),
    "ct-lung": (-600.0, 1500.0),
    "ct-bone": (400.0, 1800.0),
    "ct-brain": (40.0, 80.0),
    "ct-liver": (30.0, 150.0),
}
PERCENTILE = "percentile"
PERCENTILES = (0.5, 99.5)

WindowSpec = str | tuple[float, float] | None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_window(value: Any) -> WindowSpec:
    """Return ``value`` as a window: a preset name, ``"percentile"``, ``(level, width)``
    or ``None``; raise ``ValueError`` naming it otherwise.

    Args:
        value: a name of :data:`WINDOW_PRESETS`, ``"percentile"``, a ``[level, width]``
            pair of finite numbers with ``width > 0``, or ``None`` (values as stored).
    """
    if value is None:
        return None
    choices = ", ".join(repr(name) for name in (*WINDOW_PRESETS, PERCENTILE))
    if isinstance(value, str):
        if value in WINDOW_PRESETS or value == PERCENTILE:
            return value
        raise ValueError(
            f"window={value!r} is not a known window; choose one of {choices}, "
            "a [level, width] pair or None"
        )
    if (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(_is_number(part) and math.isfinite(part) for part in value)
    ):
        level, width = float(value[0]), float(value[1])
        if width <= 0:
            raise ValueError(f"window={list(value)!r} has width {width:g}; use a width > 0")
        return (level, width)
    raise ValueError(
        f"window={value!r} is not valid; use one of {choices}, a [level, width] pair of "
        "numbers, or None"
    )


@dataclass(frozen=True)
class Window:
    """The value range one volume's pictures are windowed to; call it on any array.

    Args:
        low: the value shown black.
        high: the value shown white (``high <= low``: values above ``low`` are white).
    """

    low: float
    high: float

    @classmethod
    def of(cls, spec: str | tuple[float, float], volume: np.ndarray) -> Window:
        """The window ``spec`` gives for ``volume``.

        Args:
            spec: a checked window (:func:`check_window`), not ``None``.
            volume: the image volume (read only by ``"percentile"``).
        """
        if spec == PERCENTILE:
            values = volume[volume != 0]
            if values.size == 0:
                values = volume.ravel()
            if values.size == 0:
                return cls(0.0, 0.0)
            low, high = np.percentile(values, PERCENTILES)
            return cls(float(low), float(high))
        level, width = WINDOW_PRESETS[spec] if isinstance(spec, str) else spec
        return cls(level - width / 2, level + width / 2)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """``values`` as uint8 grey levels, same shape and memory order."""
        values = np.asarray(values)
        if self.high <= self.low:
            return np.where(values > self.low, 255, 0).astype(np.uint8)
        scaled = (values.astype(np.float64) - self.low) / (self.high - self.low)
        np.clip(scaled, 0.0, 1.0, out=scaled)
        scaled *= 255.0
        return np.rint(scaled, out=scaled).astype(np.uint8)
