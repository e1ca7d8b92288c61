"""One run at a time per output folder: an exclusive lock on ``<output>/.niprep/lock``.

The lock is a ``flock`` held for the length of the run. The operating system releases it
when the process ends, however it ends (a run killed with SIGKILL leaves no stale lock),
and it works across machines on NFS (Linux maps it to POSIX record locks). The file stays
in place between runs; it names the process holding it, for the message of the next one.
A process forked while the lock is held (a worker that may outlive the run) closes its
copy at once: a ``flock`` lasts while any copy of the descriptor is open.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType


class OutputInUseError(BlockingIOError):
    """Another run holds the output folder's lock."""


_held: set[int] = set()  # descriptors of the locks this process holds


def _close_inherited_locks() -> None:
    """In a forked child: close the copies of the parent's locks (never unlock them,
    which would release the parent's lock too)."""
    for fd in _held:
        os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_close_inherited_locks)


class OutputLock:
    """An exclusive, non-waiting lock on a file, as a context manager.

    Args:
        path: the lock file (created if missing; never followed if it is a link).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 256).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise OutputInUseError(
                f"the output folder is in use: {str(self.path)!r} is locked by {holder}; "
                "wait for that run to finish or choose another output_path"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"niprep run pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd
        _held.add(fd)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            _held.discard(self._fd)
            os.close(self._fd)
            self._fd = None
