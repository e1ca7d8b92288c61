"""The findings of a whole dataset: each case's own, and those against the dataset's norm.

A case is compared with the others on its voxel size (``spacing``: far from the median),
its axis codes (``orientation``: not the most common ones) and its label values
(``label_values``: outside ``classes``, or, without them, rare among the masks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from niprep.check.facts import CaseFacts
from niprep.check.findings import (
    CHECKS,
    SHOWN,
    Finding,
    count,
    image_findings,
    listing,
    mask_findings,
    pair_findings,
    sizes,
)
from niprep.core.classes import format_label
from niprep.options import Settings


def case_findings(facts: CaseFacts, options: Settings) -> list[Finding]:
    """The findings of one case on its own.

    Args:
        facts: the case's facts.
        options: the check's options.
    """
    found = []
    if facts.image is not None and facts.mask is not None:
        found += pair_findings(facts.name, facts.image, facts.mask, options)
    if facts.mask_content is not None:
        found += mask_findings(facts.name, facts.mask_content, options)
    if facts.image_content is not None:
        found += image_findings(facts.name, facts.image_content)
    return found


def spacing_outliers(facts: Sequence[CaseFacts], options: Settings) -> list[Finding]:
    """``spacing``: cases whose voxel size is more than ``spacing_outlier`` times (or under
    its inverse) the dataset's median on an axis.

    Args:
        facts: the facts of every case read.
        options: ``spacing_outlier``.
    """
    if not facts:
        return []
    spacing = np.array([case.spacing for case in facts])
    median = np.median(spacing, axis=0)
    ratio = spacing / median
    far = (ratio > options.spacing_outlier) | (ratio * options.spacing_outlier < 1)
    return [
        Finding(case.name, "spacing", f"voxel size {sizes(case.spacing, 'mm')} is far from "
                                      f"the dataset's median {sizes(median.tolist(), 'mm')} "
                                      f"(more than {options.spacing_outlier:g}x on an axis)")
        for case, outlier in zip(facts, far.any(axis=1))
        if outlier
    ]


def orientation_outliers(facts: Sequence[CaseFacts], options: Settings) -> list[Finding]:
    """``orientation``: cases whose axis codes are not the dataset's most common ones (the
    first of them in case order on a tie); none when ``orientation`` reorients every case.

    Args:
        facts: the facts of every case read.
        options: ``orientation``.
    """
    if options.orientation is not None or not facts:
        return []
    common, count = Counter(case.axcodes for case in facts).most_common(1)[0]
    return [
        Finding(case.name, "orientation", f"axis codes {case.axcodes}, while {count} of "
                                          f"{len(facts)} cases are {common}; orientation="
                                          f"{common} reorients every case")
        for case in facts
        if case.axcodes != common
    ]


def label_outliers(facts: Sequence[CaseFacts], options: Settings) -> list[Finding]:
    """``label_values``: whole-number mask values outside ``classes`` or, without
    ``classes``, held by fewer than ``rare_label_share`` of the masks (other values are
    ``non_integer``).

    Args:
        facts: the facts of every case read.
        options: ``classes``, ``rare_label_share``.
    """
    masks = [case for case in facts if case.mask_content is not None]
    whole = {case.name: [v for v in case.mask_content.values if v == int(v)] for case in masks}
    found = []
    if options.classes is not None:
        known = ", ".join(format_label(value) for value in options.classes)
        for case in masks:
            outside = [value for value in whole[case.name] if value not in options.classes]
            if outside:
                found.append(Finding(case.name, "label_values",
                                     f"{count(len(outside), 'value')} not in classes "
                                     f"({known}): "
                                     f"{listing(outside)}"))
        return found
    holders = Counter(value for values in whole.values() for value in set(values))
    for case in masks:
        rare = [v for v in whole[case.name] if holders[v] < options.rare_label_share * len(masks)]
        if rare:
            counts = ", ".join(f"{value:g} in {holders[value]}" for value in rare[:SHOWN])
            found.append(Finding(case.name, "label_values",
                                 f"rare values (masks holding them, of {len(masks)}): {counts}"
                                 f"{', ...' if len(rare) > SHOWN else ''}; under rare_label_share="
                                 f"{options.rare_label_share:g}"))
    return found


def dataset_findings(
    names: Sequence[str],
    facts: Mapping[str, CaseFacts],
    unpaired: Mapping[str, str],
    unreadable: Mapping[str, str],
    options: Settings,
) -> list[Finding]:
    """Every finding of the dataset, in case order, then in the order of :data:`CHECKS`.

    Args:
        names: the cases, in order (a file name for a file that gives no case name).
        facts: the facts of each case read.
        unpaired: ``{case: "image without a mask" or "mask without an image"}``.
        unreadable: ``{case: niprep's one-line reason}`` for the cases that failed.
        options: the check's options.
    """
    read = [facts[name] for name in names if name in facts]
    found = [Finding(name, "unpaired", why) for name, why in unpaired.items()]
    found += [Finding(name, "unreadable", why) for name, why in unreadable.items()]
    for case in read:
        found += case_findings(case, options)
    found += spacing_outliers(read, options)
    found += orientation_outliers(read, options)
    found += label_outliers(read, options)
    position = {name: index for index, name in enumerate(names)}
    return sorted(found, key=lambda finding: (position[finding.case],
                                              CHECKS.index(finding.check)))
