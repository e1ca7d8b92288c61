"""Patient-level splits: whole cases to train / val / test, and the ``split.json`` that says so.

Cases are gathered into groups (a patient: the first group of ``group_pattern`` matched in
the case name, else the case itself); the groups, in sorted order, are shuffled by
``random.Random(seed)`` and dealt to the splits in proportion to the fractions (largest
remainders, ties to the earlier split). Groups holding an annotated case and the others are
dealt separately, so each split with a fraction gets annotated cases when there are at
least as many annotated groups as such splits. Every split with a fraction gets at least
one group when there are enough groups.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

SPLIT_FILE = "split.json"
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """Which split each case belongs to, and how that was decided.

    Args:
        cases: ``{case name: split name}`` (``"train"``, ``"val"`` or ``"test"``).
        groups: ``{case name: group}`` (the patient).
        fractions: the ``(train, val, test)`` fractions asked for.
        seed: the seed of the shuffle.
        group_pattern: the pattern that named the groups, or ``None``.
    """

    cases: dict[str, str]
    groups: dict[str, str]
    fractions: tuple[float, float, float]
    seed: int
    group_pattern: str | None

    def names(self) -> list[str]:
        """The splits holding at least one case, in the order train, val, test."""
        used = set(self.cases.values())
        return [name for name in SPLITS if name in used]

    def to_json(self) -> str:
        """The text of ``split.json`` (cases sorted by name)."""
        document = {
            "seed": self.seed,
            "fractions": dict(zip(SPLITS, self.fractions)),
            "group_pattern": self.group_pattern,
            "cases": {
                name: {"split": self.cases[name], "group": self.groups[name]}
                for name in sorted(self.cases)
            },
        }
        return json.dumps(document, indent=2) + "\n"


def group_of(name: str, pattern: str | None) -> str:
    """The group (patient) of case ``name``: the first group of ``pattern`` found in it.

    Args:
        name: the case name.
        pattern: a checked regular expression, or ``None`` (the case is its own group).

    Raises:
        ValueError: ``pattern`` does not match ``name``.
    """
    if pattern is None:
        return name
    found = re.search(pattern, name)
    if found is None or not found.group(1):
        raise ValueError(
            f"group_pattern={pattern!r} does not match the case name {name!r}; use a pattern "
            "whose first group names the patient of every case"
        )
    return found.group(1)


def _quotas(count: int, fractions: Sequence[float]) -> list[int]:
    """How many of ``count`` groups each split gets."""
    exact = [fraction * count for fraction in fractions]
    quotas = [math.floor(value + 1e-9) for value in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - quotas[i]), i))
    for i in by_remainder[: max(count - sum(quotas), 0)]:
        quotas[i] += 1
    wanted = [i for i, fraction in enumerate(fractions) if fraction > 0]
    if count >= len(wanted):
        for i in wanted:
            if quotas[i] == 0:
                donor = max(range(len(quotas)), key=lambda j: (quotas[j], -j))
                quotas[donor] -= 1
                quotas[i] += 1
    return quotas


def make_split(
    names: Sequence[str],
    annotated: Collection[str],
    fractions: Sequence[float],
    seed: int,
    group_pattern: str | None,
) -> Split:
    """Split the cases ``names`` into train / val / test by patient.

    Args:
        names: the case names.
        annotated: the names of the cases holding at least one annotation.
        fractions: checked ``(train, val, test)`` fractions.
        seed: the seed of the shuffle.
        group_pattern: a checked pattern naming the patient, or ``None``.

    Raises:
        ValueError: ``group_pattern`` does not match a case name.
    """
    groups = {name: group_of(name, group_pattern) for name in names}
    with_boxes = {groups[name] for name in annotated if name in groups}
    assigned: dict[str, str] = {}
    for subset in (sorted(with_boxes), sorted(set(groups.values()) - with_boxes)):
        random.Random(seed).shuffle(subset)
        start = 0
        for split, quota in zip(SPLITS, _quotas(len(subset), fractions)):
            assigned.update((group, split) for group in subset[start : start + quota])
            start += quota
    cases = {name: assigned[groups[name]] for name in names}
    return Split(cases, groups, tuple(float(f) for f in fractions), int(seed), group_pattern)


def read_split(path: str | os.PathLike, names: Sequence[str]) -> Split:
    """The split of an earlier export's ``split.json``, checked to cover ``names``.

    Args:
        path: the ``split.json``.
        names: the case names of this export.

    Raises:
        ValueError: the file cannot be read as a split, or does not list every case.
    """
    where = f"split_file {os.fspath(path)!r}"
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        fractions = tuple(float(document["fractions"][name]) for name in SPLITS)
        entries = document["cases"]
        cases = {str(name): str(entry["split"]) for name, entry in entries.items()}
        groups = {str(name): str(entry["group"]) for name, entry in entries.items()}
        seed = int(document["seed"])
        pattern = document["group_pattern"]
    except OSError as error:
        raise ValueError(f"{where} cannot be read ({error.strerror}); give the split.json "
                         "an earlier export wrote") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{where} is not a niprep split.json ({type(error).__name__}: "
                         f"{error}); give the split.json an earlier export wrote") from None
    wrong = sorted({split for split in cases.values() if split not in SPLITS})
    if wrong:
        raise ValueError(f"{where} names the split {wrong[0]!r}; use 'train', 'val' or 'test'")
    missing = [name for name in names if name not in cases]
    if missing:
        shown = ", ".join(repr(name) for name in missing[:3]) + (", ..." if len(missing) > 3
                                                                  else "")
        raise ValueError(f"{where} does not list {len(missing)} case(s) ({shown}); add them "
                         "to it or export without split_file")
    return Split(cases, groups, fractions, seed, pattern)
