"""Numba kernels compiled aside: in a background process that fills numba's on-disk cache.

A jitted kernel's first call for new argument types compiles it, for seconds, in the
caller. :func:`kernel_ready` says instead whether the compiled code is at hand, in this
process or in numba's cache (then it is loaded, in milliseconds); if not, it starts a
background process that compiles it into the cache and answers ``False``, and the caller
takes a path that needs no compiling meanwhile. Later calls, later runs and worker
processes find the cache filled. The background processes of all the programs that share
a cache take turns (a file lock), so the second one finds the work done.

    python -m niprep.core.compile_aside HEX   # a pickled (module, name, signature)
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

from numba.core.dispatcher import Dispatcher

Signature = tuple[Any, ...]  # numba types of a kernel's arguments

# (kernel, signature) -> (pid of the process that started the compile, pid of the
# compiling process, 0 once it has ended and been waited for)
_compiling: dict[tuple[Dispatcher, Signature], tuple[int, int]] = {}


def kernel_ready(kernel: Any, signature: Signature) -> bool:
    """True when ``kernel`` runs for ``signature`` without compiling; else start compiling it
    in the background and return ``False``.

    When the compile cannot be done aside (no process can be started, or it ends without
    filling the cache because numba has no cache folder it can write), the answer is
    ``True``: the kernel then compiles at its call, as numba does by itself.

    Args:
        kernel: a ``numba.njit(cache=True)`` function (anything else is always ready).
        signature: the numba types of the arguments of the call to come.
    """
    if not isinstance(kernel, Dispatcher) or signature in kernel.overloads:
        return True
    key = (kernel, signature)
    started = _compiling.get(key)
    if started is not None and started[0] != os.getpid():
        started = None  # a forked worker: the compiling process is its parent's child
    if started is not None and _still_running(key, wait=False):
        return False
    if kernel._cache.load_overload(signature, kernel.targetctx) is not None:
        kernel.compile(signature)  # in the cache: this loads it
        return True
    if started is not None:
        return True
    try:
        _compiling[key] = (os.getpid(), _start(kernel, signature))
    except OSError:
        return True
    return False


def prepare(kernel: Any) -> None:
    """Load the tables numba needs before any kernel runs (a few tenths of a second, once
    per process), so that worker processes forked afterwards start with them.

    Args:
        kernel: a jitted function (anything else is left alone).
    """
    if isinstance(kernel, Dispatcher):
        kernel.targetctx.refresh()


def wait_for_compiles() -> None:
    """Wait for the background compiles this process started (benchmarks, tests)."""
    for key, (owner, _) in list(_compiling.items()):
        if owner == os.getpid():
            _still_running(key, wait=True)


def _still_running(key: tuple[Dispatcher, Signature], wait: bool) -> bool:
    """Whether the compiling process of ``key`` runs; once it has ended it is waited for
    (and forgotten: its pid may be another process's later)."""
    owner, child = _compiling[key]
    if child == 0:
        return False
    try:
        if os.waitpid(child, 0 if wait else os.WNOHANG)[0] == 0:
            return True
    except ChildProcessError:
        pass  # waited for elsewhere (SIGCHLD ignored): it has ended
    _compiling[key] = (owner, 0)
    return False


def _start(kernel: Dispatcher, signature: Signature) -> int:
    """Start a process compiling ``kernel`` for ``signature``; its pid."""
    function = kernel.py_func
    payload = pickle.dumps((function.__module__, function.__qualname__, signature)).hex()
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    return os.posix_spawn(
        sys.executable, [sys.executable, "-m", __name__, payload],
        {**os.environ, "PYTHONPATH": path},
        file_actions=quiet,
        setsid=True,  # an interrupted run leaves the compile to finish
    )


def _lock_path(module: str) -> Path:
    """One lock per module and numba cache folder, shared by every program using them."""
    place = f"{sys.executable}|{module}|{os.environ.get('NUMBA_CACHE_DIR', '')}"
    digest = hashlib.sha256(place.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"niprep-compile-{digest}.lock"


def _compile(module: str, name: str, signature: Signature) -> None:
    """Compile ``module.name`` for ``signature`` into numba's cache, one program at a time
    (the others wait before importing anything: waiting costs them no memory)."""
    import importlib

    with open(_lock_path(module), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kernel = importlib.import_module(module)
        for part in name.split("."):
            kernel = getattr(kernel, part)
        kernel.compile(signature)  # loads it instead when another program compiled it


if __name__ == "__main__":
    _compile(*pickle.loads(bytes.fromhex(sys.argv[1])))
