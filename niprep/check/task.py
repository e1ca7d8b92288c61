"""The check's per-case work in the runner: read a case once, keep its facts and thumbnail.

Each case is staged and committed like any task's: ``check/cases/<case>.json`` (its
:class:`~niprep.check.facts.CaseFacts`) and, when the case has a finding of its own,
``check/cases/<case>.png`` (its thumbnail).
The dataset's files are written from the facts after the map (:mod:`niprep.check.run_check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from niprep.check.dataset import case_findings
from niprep.check.facts import CaseFacts, ImageFacts, MaskFacts, VolumeFacts
from niprep.check.thumbnail import thumbnail_png
from niprep.core.transforms import Orient, SliceView
from niprep.core.transforms.load import LoadNifti
from niprep.options import Settings
from niprep.run.inputs import Case
from niprep.tasks.base import CaseOutput

CASES_FOLDER = "check/cases"


@dataclass(frozen=True)
class CheckCase(Case):
    """A case of the check: ``path`` is its mask, or its image when it has no mask.

    Args:
        image: the image file, or ``None``.
        has_mask: whether ``path`` is a mask.
    """

    image: Path | None = None
    has_mask: bool = True


def facts_file(case: str) -> str:
    """Where a case's facts go, relative to the output folder."""
    return f"{CASES_FOLDER}/{case}.json"


def thumbnail_file(case: str) -> str:
    """Where a case's thumbnail goes, relative to the output folder."""
    return f"{CASES_FOLDER}/{case}.png"


def _read(
    path: Path, role: str, loader: LoadNifti, orient: Orient
) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(oriented array, oriented affine, stored header facts)`` of a volume; a broken
    file's one-line reason starts with its role (``image`` or ``mask``)."""
    try:
        array, meta = loader(path)
    except ValueError as error:
        raise ValueError(f"{role}: {error}") from None
    return (*orient(array, meta["affine"]), meta)


def _boxes_along(mask: MaskFacts, view_axes: tuple[int, int, int]) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """``(N, 6)`` inclusive ``lo, hi`` of each annotation along the (oriented) mask's own
    axes, from the view frame the facts hold, and ``(N,)`` their values."""
    table = mask.bounds
    boxes = np.empty_like(table)
    boxes[:, list(view_axes)] = table[:, :3]
    boxes[:, [3 + axis for axis in view_axes]] = table[:, 3:]
    return boxes, np.array([box[0] for box in mask.boxes])


@dataclass(frozen=True)
class CheckTask:
    """Check one case: its facts, and its thumbnail when it has a finding of its own.

    A case whose only findings compare it with the rest of the dataset (``orientation``,
    ``spacing`` outliers, rare ``label_values``, ``unpaired``) is drawn after the map, by
    :meth:`thumbnail`, once every case is known; a clean case costs no picture.

    Args:
        options: the check's validated options.
        image_stamps: ``(file name, size, mtime_ns)`` of every image: a case's runner input
            is its mask, so with ``resume`` a changed image re-checks every case.
    """

    options: Settings
    image_stamps: tuple[tuple[str, int, int], ...] = ()

    name = "check"
    count_column = "NUM_ANNOTATIONS"
    total_row = "TOTAL_ANNOTATIONS"

    def __call__(self, case: CheckCase) -> CaseOutput:
        image, mask, facts = self._volumes(case)
        summary = self._facts(case.name, image, mask, facts)
        count = len(summary.mask_content.boxes) if summary.mask_content else 0
        files = [(facts_file(case.name), summary.to_json())]
        if case_findings(summary, self.options):
            files.append((thumbnail_file(case.name), self._draw(summary, image, mask)))
        return CaseOutput(count, files)

    def thumbnail(self, case: CheckCase, facts: CaseFacts) -> bytes:
        """The PNG bytes of a case's thumbnail, its volumes read again.

        Args:
            case: a case the map read without failing.
            facts: the facts the map found for it.
        """
        image, mask, _ = self._volumes(case)
        return self._draw(facts, image, mask)

    def _volumes(self, case: CheckCase) -> tuple[np.ndarray | None, np.ndarray | None, dict]:
        """``(image, mask, header facts)`` of a case, the volumes oriented (``None`` when
        absent), and the mask's oriented affine under ``"mask_affine"``."""
        options = self.options
        orient = Orient(options.orientation)
        mask = image = None
        facts: dict = {}
        if case.has_mask:
            mask, facts["mask_affine"], meta = _read(case.path, "mask",
                                                      LoadNifti(options.max_voxels), orient)
            facts["mask"] = VolumeFacts.of(meta)
        image_path = case.image if case.has_mask else case.path
        if image_path is not None:
            loader = LoadNifti(options.max_voxels, allow_non_finite=True)
            image, _, meta = _read(image_path, "image", loader, orient)
            facts["image"] = VolumeFacts.of(meta)
        return image, mask, facts

    def _facts(self, name: str, image: np.ndarray | None, mask: np.ndarray | None,
               facts: dict) -> CaseFacts:
        """The case's facts from its volumes and their headers (:meth:`_volumes`)."""
        content = {}
        if mask is not None:
            slicer = SliceView(self.options.view)
            zooms = np.linalg.norm(facts["mask_affine"][:3, :3], axis=0)[list(slicer.axes)]
            content["mask_content"] = MaskFacts.of(slicer(mask), tuple(zooms), slicer.axes,
                                                   self.options)
        if image is not None:
            content["image_content"] = ImageFacts.of(image)
        return CaseFacts(name, image=facts.get("image"), mask=facts.get("mask"), **content)

    def _draw(self, facts: CaseFacts, image: np.ndarray | None,
              mask: np.ndarray | None) -> bytes:
        """The thumbnail of a case from its facts and oriented volumes."""
        boxes, values = np.zeros((0, 6), dtype=np.int64), np.zeros(0)
        if facts.mask_content is not None:
            boxes, values = _boxes_along(facts.mask_content, SliceView(self.options.view).axes)
        return thumbnail_png(facts.name, image, mask, boxes, values)
