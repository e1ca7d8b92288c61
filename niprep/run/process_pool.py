"""Local worker processes, kept between runs and fed one item at a time, with no thread here.

A run borrows its workers: those an earlier run in this process left idle, and new ones
for the rest. Each worker has a pipe of its own; the run's process sends each worker an
item, waits on the pipes itself (no feeder or manager thread: its CPU time goes to the
run), and sends a worker its next item before handing the result on, so that no worker
waits for what is done with results. A worker that dies costs the item it held, whose
result is then a :class:`WorkerLost`, and a new worker takes its place.

New workers are forked from this process when that is safe: on Linux, while it runs no
other Python thread (one could hold a lock the copy would never see released). They
start in milliseconds with the task's modules imported and any kernel already compiled.
Otherwise they come from a fork server that imports ``preload`` once, or are spawned.

After a run its workers wait, taking no CPU, for the next run of this process, which
takes them while its working folder and environment are those they started with; a
worker idle for :data:`IDLE_SECONDS` exits, as does every worker once this process has
ended.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from typing import Any

IDLE_SECONDS = 300.0
_CHECK_SECONDS = 1.0  # how often an idle worker checks that its parent is alive
# a worker this close to its idle exit is not given work: it could leave with the item
_SPARE_SECONDS = 30.0


class WorkerLost(RuntimeError):
    """The worker process holding an item ended before it answered."""


Origin = tuple[str, dict[str, str]]


def _origin() -> Origin:
    """What a worker takes from this process when it starts and cannot see change later:
    the working folder (relative paths) and the environment."""
    return os.getcwd(), dict(os.environ)


class _Worker:
    """A worker process, the pipe to it, the :func:`_origin` it started from, the index of
    the item it holds and since when it has held none."""

    def __init__(self, process: multiprocessing.process.BaseProcess, pipe: Connection,
                 origin: Origin) -> None:
        self.process = process
        self.pipe = pipe
        self.origin = origin
        self.item: int | None = None
        self.idle_since = time.monotonic()

    def usable(self, origin: Origin) -> bool:
        """Alive, started from ``origin``, and not about to exit for being idle."""
        idle = time.monotonic() - self.idle_since
        return (self.origin == origin and idle < IDLE_SECONDS - _SPARE_SECONDS
                and self.process.is_alive())

    def answer(self) -> Any:
        """The answer waiting in the pipe, or a :class:`WorkerLost` when the process ended
        without one."""
        try:
            if self.pipe.poll():
                return self.pipe.recv()
        except (EOFError, OSError):
            pass
        self.process.join()
        return WorkerLost(f"the worker process ended abruptly (exit code {self.process.exitcode})")

    def stop(self) -> None:
        """End the process now and release the pipe."""
        self.process.kill()
        self.process.join()
        self.pipe.close()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _forget_idle_workers() -> None:
    """In a forked child: the parent's workers are not its own."""
    global _idle_lock
    _idle.clear()
    _idle_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_idle_workers)


class ProcessBackend:
    """A pool of local worker processes for one run (see the module's description).

    Args:
        workers: number of processes.
        preload: modules a fork server imports before it forks workers.
        prepare: called in this process before it forks new workers, to do once what
            each of them would do at its first item.
    """

    def __init__(self, workers: int, preload: Sequence[str] = (),
                 prepare: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.preload = list(preload)
        self.prepare = prepare
        self._pool: list[_Worker] = []

    def __enter__(self) -> ProcessBackend:
        origin = _origin()
        with _idle_lock:
            kept, _idle[:] = list(_idle), []
            for worker in kept:
                if not worker.usable(origin):
                    worker.stop()
                elif len(self._pool) < self.workers:
                    self._pool.append(worker)
                else:
                    _idle.append(worker)
        self._pool += self._start(self.workers - len(self._pool))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        idle = [worker for worker in self._pool if worker.item is None]
        for worker in self._pool:
            if worker.item is not None:  # the run was interrupted: its answer is not wanted
                worker.stop()
            else:
                worker.idle_since = time.monotonic()
        self._pool = []
        with _idle_lock:
            _idle.extend(idle)

    def imap_unordered(
        self, function: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, function(item))`` as the workers answer; an item whose call
        raised yields the exception, one whose worker died a :class:`WorkerLost`."""
        todo = deque(enumerate(items))

        def feed(worker: _Worker) -> None:
            if todo:
                index, item = todo.popleft()
                try:
                    worker.pipe.send((function, item))
                except OSError:  # it ended while idle (killed): another takes the item
                    worker = self._replace(worker)
                    worker.pipe.send((function, item))
                worker.item = index

        for worker in self._pool:
            feed(worker)
        while busy := [worker for worker in self._pool if worker.item is not None]:
            ready = set(wait([w.pipe for w in busy] + [w.process.sentinel for w in busy]))
            for worker in busy:
                if worker.pipe not in ready and worker.process.sentinel not in ready:
                    continue
                index = worker.item
                worker.item = None
                result = worker.answer()
                if isinstance(result, WorkerLost):
                    worker = self._replace(worker)
                feed(worker)
                yield index, result

    def _replace(self, lost: _Worker) -> _Worker:
        lost.stop()
        worker = self._start(1)[0]
        self._pool[self._pool.index(lost)] = worker
        return worker

    def _start(self, count: int) -> list[_Worker]:
        if count <= 0:
            return []
        context = self._context()
        origin = _origin()
        return [_start_worker(context, origin) for _ in range(count)]

    def _context(self) -> BaseContext:
        """Fork where it is safe, after ``prepare``; else a fork server, else spawn."""
        if sys.platform.startswith("linux") and threading.active_count() == 1:
            if self.prepare is not None:
                self.prepare()
            return multiprocessing.get_context("fork")
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(self.preload)
            return context
        return multiprocessing.get_context("spawn")


def _start_worker(context: BaseContext, origin: Origin) -> _Worker:
    here, there = context.Pipe()
    process = context.Process(target=_serve, args=(there, origin), name="niprep-worker",
                              daemon=True)
    process.start()
    there.close()  # this process keeps its own end only: the worker's death closes the pipe
    return _Worker(process, here, origin)


def _serve(pipe: Connection, origin: Origin) -> None:
    """A worker's life: take the working folder and environment of the process that
    started it (a fork server's would be its own), then answer each ``(function, item)``
    with ``function(item)`` (or the exception it raised) until it has been idle for
    :data:`IDLE_SECONDS` or its parent has ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run, which stops this
    folder, environment = origin
    os.chdir(folder)
    if os.environ != environment:
        os.environ.clear()
        os.environ.update(environment)
    parent = os.getppid()
    deadline = time.monotonic() + IDLE_SECONDS
    try:
        while time.monotonic() < deadline and os.getppid() == parent:
            if not pipe.poll(_CHECK_SECONDS):
                continue
            _send(pipe, _call_next(pipe))
            deadline = time.monotonic() + IDLE_SECONDS
    except (EOFError, OSError):
        return  # the run's process is gone


def _call_next(pipe: Connection) -> Any:
    """``function(item)`` for the ``(function, item)`` waiting in ``pipe``, or the exception
    that unpickling or calling it raised."""
    message = pipe.recv_bytes()  # EOFError, OSError: the run's process is gone
    try:
        function, item = ForkingPickler.loads(message)
        return function(item)
    except Exception as error:
        return error


def _send(pipe: Connection, answer: Any) -> None:
    """Send ``answer``, or the error that says why it cannot be sent."""
    try:
        pipe.send(answer)
    except OSError:
        raise
    except Exception as error:  # pickling failed: nothing was sent
        pipe.send(RuntimeError(f"the worker's answer cannot be sent back: {error}"))
