"""Mask values to detector classes: ids from 0 (or an offset), names, merges, exclusions.

Without a mapping, every distinct annotation value found is its own class, in ascending
order of value, named by the value as the CSVs write it (``"1"``, ``"2.5"``). With
``classes={value: name}`` the listed values map to their names, several values may share
a name (one class), and values not listed are left out. Class ids follow the order in
which names first appear in the mapping.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def format_label(value: float | int) -> str:
    """A voxel value as the CSVs write it: an integer when integral, else a float."""
    number = value.item() if isinstance(value, np.generic) else value
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return repr(number)


def _as_value(key: Any) -> float | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, numbers.Real):
        return float(key)
    if isinstance(key, str):
        try:
            return float(key)
        except ValueError:
            return None
    return None


def check_classes(value: Any) -> dict[float, str] | None:
    """Return ``classes`` as ``{mask value: class name}`` or ``None``; raise
    ``ValueError`` naming the entry otherwise.

    Args:
        value: ``None`` or a mapping of annotation values (``> 0``, finite) to non-empty
            names.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise ValueError(
            f"classes={value!r} is not valid; use a mapping of mask values to class names, "
            "such as {1: 'liver', 2: 'tumor'}"
        )
    mapping: dict[float, str] = {}
    for key, name in value.items():
        number = _as_value(key)
        if number is None or not math.isfinite(number):
            raise ValueError(f"classes key {key!r} is not a mask value; use a number")
        if number <= 0:
            raise ValueError(
                f"classes key {key!r} is background (values <= 0 are never annotations); "
                "leave it out"
            )
        if not isinstance(name, str) or not name:
            raise ValueError(f"classes[{key!r}]={name!r} is not valid; use a non-empty name")
        if number in mapping:
            raise ValueError(
                f"classes gives the value {format_label(number)} twice; keep one entry"
            )
        mapping[number] = name
    return mapping


@dataclass(frozen=True)
class ClassMap:
    """Which class each annotation value belongs to.

    Args:
        values: the mapped annotation values, ascending.
        ids: the class id of each of ``values``.
        names: the class names; class ``offset + i`` is ``names[i]``.
        offset: the id of the first class (1 for torchvision, whose class 0 is background).
    """

    values: tuple[float, ...]
    ids: tuple[int, ...]
    names: tuple[str, ...]
    offset: int = 0

    @classmethod
    def build(
        cls,
        found: Iterable[float],
        classes: Mapping[float, str] | None = None,
        offset: int = 0,
    ) -> ClassMap:
        """The class map of a dataset.

        Args:
            found: the annotation values present in the dataset (used without ``classes``).
            classes: a checked mapping (:func:`check_classes`), or ``None``.
            offset: the id of the first class.
        """
        if classes is None:
            values = tuple(sorted({float(value) for value in found}))
            names = tuple(format_label(value) for value in values)
            return cls(values, tuple(range(offset, offset + len(values))), names, offset)
        names: list[str] = []
        for name in classes.values():
            if name not in names:
                names.append(name)
        values = tuple(sorted(classes))
        ids = tuple(offset + names.index(classes[value]) for value in values)
        return cls(values, ids, tuple(names), offset)

    def lookup(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, kept)`` for annotation values: the class id of each kept value (int64),
        and whether each value is mapped at all.

        Args:
            values: ``(N,)`` annotation values.
        """
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if not self.values:
            return np.empty(0, dtype=np.int64), np.zeros(len(values), dtype=bool)
        table = np.asarray(self.values, dtype=np.float64)
        where = np.searchsorted(table, values).clip(max=len(table) - 1)
        kept = table[where] == values
        return np.asarray(self.ids, dtype=np.int64)[where[kept]], kept

    def id_names(self) -> dict[int, str]:
        """``{class id: name}`` of every class."""
        return {self.offset + i: name for i, name in enumerate(self.names)}
