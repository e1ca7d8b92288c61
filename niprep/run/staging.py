"""A worker's share of a case: process it and write its files aside, not yet in place.

This runs wherever the backend puts it (this process, a local worker process, a dask
worker). The files land in a fresh folder under ``<output>/.niprep/staging/``, on the
output's file system, at their paths relative to the output, so the process that owns
the run can then move them into place with atomic renames: a folder the output lacks in
one rename, few as its files are.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from niprep.run.fingerprint import InputFingerprint
from niprep.run.inputs import Case
from niprep.run.output_tree import checked_relative

if TYPE_CHECKING:
    from niprep.tasks.base import CaseOutput


def describe_error(error: BaseException) -> str:
    """One line saying what went wrong, without a traceback."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, (ValueError, OSError)) else f"{type(error).__name__}: {text}"


@dataclass(frozen=True)
class StagedCase:
    """A processed case whose files wait in ``folder``, at their paths relative to the output.

    Args:
        filename: the input file name.
        count: what the stats file counts for the case.
        files: ``(path relative to the output folder, size in bytes)`` of every file.
        folder: where the files wait, or ``None`` when the case failed.
        source: fingerprint of the input taken before it was read, ``None`` if that failed.
        error: the one-line reason of a failure, else ``None``.
    """

    filename: str
    count: int = 0
    files: tuple[tuple[str, int], ...] = ()
    folder: str | None = None
    source: InputFingerprint | None = None
    error: str | None = None


def write_aside(
    folder: str, files: Iterable[tuple[str, str | bytes]]
) -> tuple[tuple[str, int], ...]:
    """Write every file at its relative path under ``folder`` (text as UTF-8, ``\\n`` kept
    as is), so that the output can take a new folder of them in one move.

    Args:
        folder: an empty folder.
        files: ``(relative path, text or bytes)`` of each file.

    Returns:
        ``(relative path, size in bytes)`` of each file, in order.
    """
    written = []
    made = {""}
    for relative, content in files:
        parent = checked_relative(relative).rpartition("/")[0]
        if parent not in made:
            os.makedirs(os.path.join(folder, parent), exist_ok=True)
            made.add(parent)
        data = content.encode("utf-8") if isinstance(content, str) else content
        with open(os.path.join(folder, relative), "wb") as handle:
            handle.write(data)
        written.append((relative, len(data)))
    return tuple(written)


def stage_case(task: Any, scratch: str, case: Case) -> StagedCase:
    """Process one case with ``task`` and write its files aside; never raises.

    Args:
        task: the runner task (picklable: it travels to the worker).
        scratch: the run's staging folder, under the output folder.
        case: the case.
    """
    folder: str | None = None
    try:
        if case.name is None:
            raise ValueError(case.problem)
        try:
            source = InputFingerprint.of(case.path)
        except OSError:
            source = None  # the task says, in its words, why the file cannot be read
        produced: CaseOutput = task(case)
        folder = tempfile.mkdtemp(prefix="case-", dir=scratch)
        files = write_aside(folder, produced.files)
        return StagedCase(case.filename, produced.count, files, folder, source)
    except Exception as error:  # one bad case must cost exactly that case
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return StagedCase(case.filename, error=describe_error(error))
