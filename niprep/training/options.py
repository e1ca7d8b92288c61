"""The options of training samples: box format, classes, image window and channels, store.

They are checked here, in one place, with the same check functions as the export's
options (:mod:`niprep.core.boxes`, :mod:`niprep.core.classes`, :mod:`niprep.core.window`).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from niprep.core.boxes import BOX_FORMATS
from niprep.core.classes import check_classes
from niprep.core.window import WindowSpec, check_window
from niprep.training.store import default_store_dir

IMAGE_DTYPES = ("float32", "uint8")
CHANNELS = (1, 3)
#: ``store="auto"``: the folder :func:`~niprep.training.store.default_store_dir` names
AUTO_STORE = "auto"
DEFAULT_STORE_LIMIT = 20 * 2**30


def _choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if isinstance(value, bool) or value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not valid; choose one of "
            + ", ".join(repr(choice) for choice in allowed)
        )


def _whole(name: str, value: Any, minimum: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}={value!r} is not valid; use a whole number >= {minimum}")


@dataclass(frozen=True)
class SampleOptions:
    """How a training item's image and targets are made; validated on construction.

    Args:
        box_format: ``"csv"``, ``"xyxy"``, ``"monai"``, ``"cxcywh"`` or ``"coco"``
            (:mod:`niprep.core.boxes`); ``None`` follows ``box_mode`` (``"csv"``).
        classes: ``{mask value: class name}``: labels are class ids and boxes of values
            not listed are left out; ``None``: labels are the mask values, which must then
            be whole numbers.
        label_offset: the id of the first class (1 for torchvision, whose 0 is the
            background); needs ``classes``.
        window: an intensity window (:func:`~niprep.core.window.check_window`): the image
            becomes grey levels, ``0..1`` in float32 or ``0..255`` in uint8.
        channels: 1, or 3 for the previous, this and the next slice (2.5-D).
        image_dtype: ``"float32"``, or ``"uint8"`` (needs ``window``) for a 4x smaller
            item to move between processes; convert on the GPU with ``.float() / 255``.
        store: the decoded-volume store's folder (:mod:`niprep.training.store`),
            ``"auto"`` for ``$NIPREP_CACHE/volumes`` or ``~/.cache/niprep/volumes``, or
            ``None`` to decode in every process that needs a volume.
        store_limit: the most bytes the store holds before least recently used entries go.
    """

    box_format: str | None = None
    classes: Mapping[Any, str] | None = None
    label_offset: int = 0
    window: WindowSpec = None
    channels: int = 1
    image_dtype: str = "float32"
    store: str | os.PathLike | None = AUTO_STORE
    store_limit: int = DEFAULT_STORE_LIMIT

    def __post_init__(self) -> None:
        if self.box_format is not None:
            _choice("box_format", self.box_format, BOX_FORMATS)
        object.__setattr__(self, "classes", check_classes(self.classes))
        _whole("label_offset", self.label_offset, 0)
        if self.label_offset and self.classes is None:
            raise ValueError(
                f"label_offset={self.label_offset!r} needs classes={{value: name}}; "
                "without classes the labels are the mask values themselves"
            )
        object.__setattr__(self, "window", check_window(self.window))
        _choice("channels", self.channels, CHANNELS)
        _choice("image_dtype", self.image_dtype, IMAGE_DTYPES)
        if self.image_dtype == "uint8" and self.window is None:
            raise ValueError(
                "image_dtype='uint8' holds grey levels 0..255; give a window too "
                "(e.g. window='ct-soft-tissue' or window='percentile')"
            )
        if self.store is not None and not isinstance(self.store, (str, os.PathLike)):
            raise ValueError(
                f"store={self.store!r} is not valid; use a folder, 'auto' or None"
            )
        _whole("store_limit", self.store_limit, 1)

    @classmethod
    def split(cls, options: Mapping[str, Any]) -> tuple[SampleOptions, dict[str, Any]]:
        """The sample options among ``options``, and the other options.

        Args:
            options: keyword arguments of a dataset.
        """
        names = {field.name for field in fields(cls)}
        mine = {name: value for name, value in options.items() if name in names}
        rest = {name: value for name, value in options.items() if name not in names}
        return cls(**mine), rest

    def resolved_box_format(self, box_mode: str) -> str:
        """``box_format``, or ``box_mode`` when it is not given.

        Args:
            box_mode: the older option, ``"csv"`` or ``"monai"``.

        Raises:
            ValueError: both are given and differ.
        """
        if self.box_format is None:
            return box_mode
        if box_mode != "csv" and box_mode != self.box_format:
            raise ValueError(
                f"box_mode={box_mode!r} and box_format={self.box_format!r} disagree; "
                "give box_format alone"
            )
        return self.box_format

    def store_folder(self) -> Path | None:
        """The store's folder, or ``None`` without a store."""
        if self.store is None:
            return None
        if self.store == AUTO_STORE:
            return default_store_dir()
        return Path(self.store)
