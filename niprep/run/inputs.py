"""Finding the cases of a folder, naming them, and pairing images with their masks.

The rules are those of docs/reference.md, Inputs and case names.
"""

from __future__ import annotations

import os
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NIFTI_SUFFIXES = (".nii.gz", ".nii")


@dataclass(frozen=True)
class Case:
    """One input volume.

    Args:
        path: the file.
        name: the case name used in output names, or ``None`` when the file name
            cannot give a safe one.
        problem: why ``name`` is ``None``.
    """

    path: Path
    name: str | None
    problem: str | None = None

    @property
    def filename(self) -> str:
        return self.path.name


def nifti_stem(filename: str) -> str | None:
    """The file name without ``.nii.gz``/``.nii``, or ``None`` if it is not a NIfTI name."""
    for suffix in NIFTI_SUFFIXES:
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return None


def case_for(path: str | os.PathLike, strip_suffix: str | None = "_bbox") -> Case:
    """Name the case of one NIfTI file.

    Args:
        path: the file.
        strip_suffix: removed once from the end of the name; ``None`` or ``""`` keeps it.
    """
    path = Path(path)
    name = nifti_stem(path.name)
    if name is None:
        raise ValueError(f"{path}: not a NIfTI file name (expected .nii.gz or .nii)")
    if strip_suffix and name.endswith(strip_suffix):
        name = name[: -len(strip_suffix)]
    if not name or name.startswith("."):
        return Case(path, None, f"the case name {name!r} is empty or starts with '.'; "
                                "rename the file")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in path.name):
        return Case(path, None, "the file name holds a control character or bytes that are "
                                "not UTF-8; rename the file")
    return Case(path, name)


def find_cases(nii_folder: str | os.PathLike, strip_suffix: str | None = "_bbox") -> list[Case]:
    """Every NIfTI file of a folder, in sorted order of file names.

    Sub-directories and other files are ignored; a dangling symlink with a NIfTI name is
    kept, so that it is reported as a failing case rather than skipped silently.

    Args:
        nii_folder: the folder.
        strip_suffix: see :func:`case_for`.

    Raises:
        FileNotFoundError: the folder is missing or holds no NIfTI file.
        ValueError: two files give the same case name.
    """
    folder = Path(nii_folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"nii_folder {str(folder)!r} does not exist or is not a folder")
    cases = [
        case_for(entry, strip_suffix)
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if nifti_stem(entry.name) is not None
        and (entry.is_file() or (entry.is_symlink() and not entry.exists()))
    ]
    if not cases:
        raise FileNotFoundError(f"nii_folder {str(folder)!r} holds no .nii.gz or .nii file")
    seen: dict[str, str] = {}
    for case in cases:
        if case.name is None:
            continue
        if case.name in seen:
            raise ValueError(
                f"{seen[case.name]!r} and {case.filename!r} both give the case name "
                f"{case.name!r}; rename one or set strip_suffix"
            )
        seen[case.name] = case.filename
    return cases


@dataclass(frozen=True)
class CasePair:
    """An image volume and the label volume annotating it.

    Args:
        name: the case name (file name without extension and ``strip_suffix``).
        image: the image file.
        label: the label file, or ``None`` for an image without annotations.
    """

    name: str
    image: Path
    label: Path | None


def pair_cases(images: Sequence[Case], labels: Sequence[Case]) -> list[CasePair]:
    """Pair image and label files by case name; warn once about the files left out.

    Args:
        images: the image cases, as :func:`find_cases` gives them.
        labels: the label cases.

    Raises:
        ValueError: no image has a label.
    """
    by_name = {case.name: case for case in labels if case.name is not None}
    pairs = [
        CasePair(case.name, case.path, by_name[case.name].path)
        for case in images
        if case.name in by_name
    ]
    paired = {pair.name for pair in pairs}
    left_out = [f"image {case.filename!r}" for case in images if case.name not in paired] + [
        f"label {case.filename!r}" for case in labels if case.name not in paired
    ]
    if not pairs:
        raise ValueError(
            "no image has a label of the same case name (after strip_suffix); "
            f"left out: {', '.join(left_out[:6])}"
        )
    if left_out:
        shown = ", ".join(left_out[:6]) + (", ..." if len(left_out) > 6 else "")
        warnings.warn(
            f"left out {len(left_out)} file(s) with no partner of the same case name: {shown}",
            stacklevel=3,
        )
    return pairs
