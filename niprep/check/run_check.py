"""Checking a dataset end to end (``niprep.check_dataset``): pair, map, then judge and draw.

The cases are paired by name, then mapped through the runner like any task (workers,
backends, progress, resume, and ``<view>_check_failures.csv`` for the files it cannot
read); each case stages its facts, and its thumbnail when it has a finding of its own, under
``check/cases/``. After the map the findings are computed from the facts of every case and
written, with the distribution sheet, the report and the thumbnails of the cases whose
findings only the whole dataset shows, in one go.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from niprep.check.dataset import case_findings, dataset_findings
from niprep.check.facts import CaseFacts
from niprep.check.findings import Finding, count
from niprep.check.report import csv_text, html_text, json_text
from niprep.check.sheet import distribution, sheet_png
from niprep.check.task import CASES_FOLDER, CheckCase, CheckTask, facts_file, thumbnail_file
from niprep.options import Settings
from niprep.run.inputs import Case, find_cases
from niprep.run.output_lock import OutputLock
from niprep.run.output_tree import STATE_DIR, write_files
from niprep.run.runner import LOCK_FILE, RunSummary, run

CSV_FILE, JSON_FILE = "check.csv", "check.json"
SHEET_FILE, NUMBERS_FILE, REPORT_FILE = ("check/distribution.png", "check/distribution.json",
                                         "check/report.html")


@dataclass(frozen=True)
class CheckSummary:
    """What a check found.

    Args:
        cases: cases checked (pairs, unpaired files and unreadable ones).
        errors: findings of severity ``error``.
        warnings: findings of severity ``warning``.
        findings: every finding, as ``check.csv`` lists them.
        run: the runner's summary of the per-case work.
    """

    cases: int
    errors: int
    warnings: int
    findings: tuple[Finding, ...]
    run: RunSummary

    def line(self) -> str:
        """The one-line summary: cases checked, errors, warnings."""
        return (f"{count(self.cases, 'case')} checked: {count(self.errors, 'error')}, "
                f"{count(self.warnings, 'warning')}")


def _key(case: Case) -> str:
    """A case's row name: its case name, or its file name when it has none."""
    return case.name if case.name is not None else case.filename


def pair_for_check(
    images: Sequence[Case] | None, masks: Sequence[Case] | None
) -> tuple[list[CheckCase], dict[str, str]]:
    """The check's cases, sorted by name, and the unpaired ones when both folders are given.

    Args:
        images: the image cases, or ``None`` without an image folder.
        masks: the mask cases, or ``None`` without a mask folder.
    """
    by_image = {case.name: case for case in images or () if case.name is not None}
    paired = {case.name for case in masks or () if case.name in by_image}
    cases = [
        CheckCase(case.path, case.name, case.problem,
                  image=by_image[case.name].path if case.name in paired else None)
        for case in masks or ()
    ]
    cases += [CheckCase(case.path, case.name, case.problem, has_mask=False)
              for case in images or () if case.name is None or case.name not in paired]
    unpaired = {}
    if images is not None and masks is not None:
        for case in cases:
            if case.name is None:
                continue
            if not case.has_mask:
                unpaired[case.name] = "image without a mask of the same case name"
            elif case.image is None:
                unpaired[case.name] = "mask without an image of the same case name"
    return sorted(cases, key=_key), unpaired


def run_check(
    label_folder: str | os.PathLike | None,
    output_path: str | os.PathLike,
    settings: Settings,
) -> CheckSummary:
    """Check every image and mask of a dataset; write the findings and the pictures.

    Args:
        label_folder: folder of the masks, or ``None`` to check the images only.
        output_path: the output folder.
        settings: the validated options of :data:`~niprep.options.CHECK_DATASET`
            (``image_folder`` among them).

    Raises:
        ValueError: both folders are ``None``, or two files of a folder give one case name.
        FileNotFoundError: a folder is missing or holds no NIfTI file.
    """
    image_folder = settings.image_folder
    if image_folder is None and label_folder is None:
        raise ValueError("image_folder and label_folder are both None; give at least one")
    images = None if image_folder is None else find_cases(image_folder, settings.strip_suffix)
    masks = None if label_folder is None else find_cases(label_folder, settings.strip_suffix)
    cases, unpaired = pair_for_check(images, masks)
    stamps = tuple((case.filename, (stat := case.path.stat()).st_size, stat.st_mtime_ns)
                   for case in images or () if case.path.exists())
    task = CheckTask(settings, stamps)
    summary = run(task, cases, output_path)
    output = Path(output_path)
    failed = dict(summary.failures)
    names = [_key(case) for case in cases]
    unreadable = {_key(case): failed[case.filename] for case in cases
                  if case.filename in failed}
    facts = {
        case.name: CaseFacts.from_json((output / facts_file(case.name)).read_text("utf-8"))
        for case in cases if case.filename not in failed
    }
    findings = dataset_findings(names, facts, unpaired, unreadable, settings)
    errors = sum(finding.severity == "error" for finding in findings)
    result = CheckSummary(len(cases), errors, len(findings) - errors, tuple(findings), summary)
    numbers = distribution(names, facts, settings)
    relative = CASES_FOLDER.split("/", 1)[1]
    drawn = {finding.case for finding in findings if finding.case in facts}
    thumbnails = {name: f"{relative}/{name}.png" for name in sorted(drawn)}
    with OutputLock(output / STATE_DIR / LOCK_FILE):
        # the workers drew the cases with findings of their own (a case skipped by resume
        # kept its picture); the others, and any picture missing, are drawn here
        later = {}
        for case in cases:
            name = _key(case)
            if name in drawn and (not case_findings(facts[name], settings)
                                  or not (output / thumbnail_file(name)).is_file()):
                later[thumbnail_file(name)] = task.thumbnail(case, facts[name])
        write_files(output, {
            # a thumbnail left by an earlier run into this folder, of a case now without finding
            **{thumbnail_file(name): None for name in names if name not in drawn},
            **later,
            CSV_FILE: csv_text(findings),
            JSON_FILE: json_text(findings),
            NUMBERS_FILE: json.dumps(numbers, indent=1) + "\n",
            SHEET_FILE: sheet_png(numbers),
            REPORT_FILE: html_text(findings, thumbnails, result.line(), "distribution.png"),
        })
    return result
