"""niprep: NIfTI annotation volumes to detection-ready CSVs, image slices and samples.

The heavy imports (MONAI, torch, numba) wait until a function is used, so that the
command line answers ``--help`` and configuration errors at once.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "check_dataset": "niprep.api",
    "extract_annotations": "niprep.api",
    "extract_annotations_dataset": "niprep.api",
    "extract_slices_dataset": "niprep.api",
    "export_detection_dataset": "niprep.api",
    "RunSummary": "niprep.run.runner",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'niprep' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
