"""Writing a file aside, then moving it into place in one rename: never half-written.

Every file niprep writes outside a case's own staged files (the stats and failures files,
the saved config, the manifest's compacted journal, previews) goes through
:func:`write_then_move`, so a run killed at any moment leaves the old file or the new
one, never a part of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_then_move(
    data: bytes,
    target: str | os.PathLike,
    aside: str | os.PathLike,
    *,
    move: Callable[[str, str], object] = os.replace,
    sync: bool = False,
) -> None:
    """Write ``data`` to a new file in the folder ``aside``, then move it to ``target``.

    Args:
        data: the file's bytes.
        target: where the file goes, as ``move`` takes it.
        aside: a folder on the same file system as ``target``, where the file waits.
        move: moves the written file (its path) to ``target`` in one rename:
            ``os.replace``, or ``OutputTree.place`` to refuse links on the way.
        sync: fsync the file before moving it (a journal that must survive a crash).

    Raises:
        OSError: the file cannot be written or moved; no file is left aside.
    """
    target = os.fspath(target)
    staged = os.path.join(aside, f".{os.path.basename(target)}.{os.getpid()}.part")
    try:
        with open(staged, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        move(staged, target)
    finally:
        Path(staged).unlink(missing_ok=True)
