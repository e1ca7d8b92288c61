"""What a case's files depend on: the input file's content and the task's options.

``resume=True`` skips a case only when both are unchanged since its files were written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any

import niprep

# A file modified this shortly before it was stat-ed may change again within the same
# timestamp tick (coarse file-system clocks), so its size and times alone prove nothing.
RACY_WINDOW_NS = 2_000_000_000
_CHUNK = 1 << 20


def file_digest(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's content (hex); about 0.7 GB/s with CPU SHA extensions."""
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


@dataclass(frozen=True)
class InputFingerprint:
    """The identity of an input file at the moment it was read.

    Args:
        size: bytes.
        mtime_ns: modification time.
        ctime_ns: status-change time (changes on any write, cannot be set back by users).
        sha256: digest of the content.
        taken_ns: wall-clock time of the ``stat``.
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    sha256: str
    taken_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike) -> InputFingerprint:
        """Stat then hash ``path`` (before it is processed, so a later change is seen)."""
        taken_ns = time.time_ns()
        stat = os.stat(path)
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, file_digest(path), taken_ns)

    def matches(self, path: str | os.PathLike) -> bool:
        """True when ``path`` still holds the content this fingerprint was taken of.

        Equal size and times are trusted unless the file was modified within
        :data:`RACY_WINDOW_NS` before the fingerprint; otherwise the content is hashed,
        so a copied or touched but unchanged file still matches.

        Args:
            path: the input file now.
        """
        try:
            stat = os.stat(path)
            if stat.st_size != self.size:
                return False
            same_times = (stat.st_mtime_ns, stat.st_ctime_ns) == (self.mtime_ns, self.ctime_ns)
            if same_times and self.taken_ns - stat.st_mtime_ns >= RACY_WINDOW_NS:
                return True
            return file_digest(path) == self.sha256
        except OSError:
            return False


def task_fingerprint(task: Any) -> str:
    """A digest of everything about ``task`` that shapes the bytes of a case's files.

    The task's class, its fields, the options of the groups that shape the output
    (:meth:`~niprep.options.Settings.shaping`: not the run, preview or training-sample
    options) and the niprep version (a new version may write other bytes).

    Args:
        task: a runner task: a dataclass holding its ``options``.
    """
    fields = {
        field.name: getattr(task, field.name)
        for field in dataclasses.fields(task)
        if field.name != "options"
    }
    identity = [type(task).__qualname__, niprep.__version__, task.options.shaping(), fields]
    text = json.dumps(identity, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()
