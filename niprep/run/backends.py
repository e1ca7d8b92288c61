"""Where cases are processed: this process, a pool of local processes, or a dask cluster.

Every backend maps a picklable function over items and yields ``(index, result)`` as the
results arrive, in any order; the runner puts them back in case order, so the output is
the same bytes whatever the backend. A worker that dies (killed, out of memory) yields
the exception that says so as that item's result, so that it costs its items only.
Workers must see the input and output folders at the same paths as the process that
starts the run (a shared file system on a cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol

from niprep.run.process_pool import ProcessBackend

DASK_CONNECT_TIMEOUT = "10s"


class Backend(Protocol):
    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc_info: Any) -> None: ...

    def imap_unordered(
        self, function: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]: ...


def choose_backend(backend: str, workers: int, dask_address: str | None) -> str:
    """The backend a run uses: ``"auto"`` is dask with an address, serial for one worker,
    else process.

    Args:
        backend: ``"auto"``, ``"serial"``, ``"process"`` or ``"dask"``.
        workers: number of cases processed at once.
        dask_address: scheduler address of an existing dask cluster, or ``None``.

    Raises:
        ValueError: ``dask_address`` is given with a backend other than dask.
    """
    if backend == "auto":
        if dask_address:
            return "dask"
        return "serial" if workers == 1 else "process"
    if dask_address and backend != "dask":
        raise ValueError(
            f"dask_address={dask_address!r} needs backend='dask' or 'auto', "
            f"not backend={backend!r}"
        )
    return backend


def _outcome(future: Any) -> Any:
    """A finished future's result, or the exception that ended its worker."""
    try:
        return future.result()
    except Exception as error:  # KilledWorker, ...
        return error


class SerialBackend:
    """One case after the other, in this process."""

    def __enter__(self) -> SerialBackend:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def imap_unordered(
        self, function: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            yield index, function(item)


class DaskBackend:
    """A ``dask.distributed`` cluster: the one at ``address``, or a local one.

    Args:
        workers: worker processes of the local cluster (one thread each); unused with
            ``address``, where the cluster has the workers it has.
        address: scheduler address such as ``"tcp://host:8786"``, or ``None`` for a local
            cluster started for this run.
    """

    def __init__(self, workers: int, address: str | None = None) -> None:
        self.workers = workers
        self.address = address
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskBackend:
        from distributed import Client, LocalCluster

        if self.address is None:
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, dashboard_address=None
            )
            self._client = Client(self._cluster)
            return self
        try:
            self._client = Client(self.address, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, ValueError, TypeError) as error:
            raise ConnectionError(
                f"dask_address={self.address!r}: cannot reach the dask scheduler ({error})"
            ) from None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def imap_unordered(
        self, function: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed as completed

        futures = self._client.map(function, list(items), pure=False)
        index = {future.key: position for position, future in enumerate(futures)}
        for future in completed(futures):
            yield index[future.key], _outcome(future)


def open_backend(
    name: str,
    workers: int,
    dask_address: str | None = None,
    preload: Sequence[str] = (),
    prepare: Callable[[], None] | None = None,
) -> Backend:
    """The backend called ``name`` (see :func:`choose_backend`), not yet entered.

    Args:
        name: ``"serial"``, ``"process"`` or ``"dask"``.
        workers: number of cases processed at once.
        dask_address: scheduler of an existing dask cluster, or ``None``.
        preload: modules worth importing once before local worker processes start.
        prepare: what local worker processes forked from this one should find done.
    """
    if name == "serial":
        return SerialBackend()
    if name == "process":
        return ProcessBackend(workers, preload, prepare)
    return DaskBackend(workers, dask_address)


def backend_for(options: Any, items: int, preload: Sequence[str]) -> Backend:
    """The backend a run's options ask for, not yet entered: never more workers than
    ``items``, and local workers forked once the extents kernels are prepared.

    Args:
        options: the run's options (``backend``, ``workers``, ``dask_address``).
        items: how many items the run maps.
        preload: modules worth importing once before local worker processes start.

    Raises:
        ValueError: ``dask_address`` is given with a backend other than dask.
    """
    name = choose_backend(options.backend, options.workers, options.dask_address)
    workers = max(1, min(options.workers, items))
    return open_backend(name, workers, options.dask_address, preload, _prepare_kernels)


def _prepare_kernels() -> None:
    from niprep.core.extents import prepare_kernel

    prepare_kernel()
