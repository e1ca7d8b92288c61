"""The decoded-volume store: what decoding an input gave, on disk, keyed by its content.

An entry is a folder of files (a decoded volume as ``.npy``, a label's boxes as ``.npz``)
made once by a ``fill`` function and then only read, by any number of processes and runs.
It is keyed by the input file's content identity (size, modification time and a SHA-256 of
its first and last 64 KiB) and by the options that shaped it, so an input that changes gets
a new entry and the old one ages out.

Filling is safe when several ``DataLoader`` workers or runs want the same entry at once:
one of them fills it (the others wait on a lock file, which the kernel releases if the
filler dies) into a temporary folder in the store, ``fsync``\\ s it and renames it into
place in one step, so a reader sees a complete entry or none. A filler killed mid-way
leaves only its temporary folder, removed by the next store opened on that machine.

The store is bounded: after each fill, the least recently used entries are removed until
the store holds at most ``limit`` bytes (the entry just filled always stays). A process
that still reads a removed entry keeps reading it (the files are unlinked, not changed).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

#: the environment variable naming the folder that holds niprep's caches
CACHE_ENV = "NIPREP_CACHE"
#: temporary folders of a filler on another machine are removed after this many seconds
STALE_SECONDS = 24 * 3600
#: the ``store`` value that names :func:`default_store_dir`
AUTO_STORE = "auto"
_SAMPLED = 1 << 16
_TEMP = ".tmp-"
_TRASH = ".trash-"
_LOCKS = ".locks"
_VERSION = 1


def default_store_dir() -> Path:
    """``$NIPREP_CACHE/volumes``, else ``$XDG_CACHE_HOME/niprep/volumes``, else
    ``~/.cache/niprep/volumes``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "volumes"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "niprep" / "volumes"


def store_folder(store: str | os.PathLike | None) -> Path | None:
    """The folder of the ``store`` option: ``None`` (no store), ``"auto"``
    (:func:`default_store_dir`) or a folder.

    Args:
        store: the option's value.
    """
    if store is None:
        return None
    return default_store_dir() if store == AUTO_STORE else Path(store)


def content_identity(path: str | os.PathLike) -> str:
    """A digest of a file's size, modification time and first and last 64 KiB.

    Reads at most 128 KiB, so it is cheap for large volumes (a full SHA-256 of a 10 MB
    ``.nii.gz`` costs 15 ms, in every process that opens it): the NIfTI header is in the
    first bytes, a gzip stream ends with the CRC-32 of all the data it holds, and any
    rewrite changes the modification time.

    Args:
        path: the file.
    """
    stat = os.stat(path)
    digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:".encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(_SAMPLED))
        if stat.st_size > 2 * _SAMPLED:
            handle.seek(-_SAMPLED, os.SEEK_END)
        digest.update(handle.read())
    return digest.hexdigest()


class StoreInfo(NamedTuple):
    """How full a store is: its folder, its entries, their bytes, and its bound."""

    folder: Path
    entries: int
    bytes: int
    limit: int


def _entry_bytes(entry: Path) -> int:
    try:
        return sum(part.stat().st_size for part in entry.iterdir())
    except FileNotFoundError:  # removed by another process meanwhile
        return 0


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class VolumeStore:
    """A folder of content-keyed entries, filled atomically and bounded in bytes.

    Args:
        folder: where the entries live (created if missing).
        limit: the most bytes the entries may hold before the least recently used go.

    Raises:
        ValueError: ``folder`` cannot be created or written (the message names it).
    """

    def __init__(self, folder: str | os.PathLike, limit: int) -> None:
        self.folder = Path(folder).expanduser()
        self.limit = limit
        try:
            (self.folder / _LOCKS).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(
                f"store={os.fspath(folder)!r} cannot be used ({error.strerror}); give a "
                "writable folder or store=None"
            ) from error
        self._identities: dict[Path, tuple[tuple[int, ...], str]] = {}
        self.remove_stale()

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder, "limit": self.limit}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _identities={})

    def key(self, source: str | os.PathLike, kind: str, shaped_by: Mapping[str, Any]) -> str:
        """The entry name of ``kind`` made from ``source`` under the options ``shaped_by``.

        The content identity is computed again only when the file's status changed.

        Args:
            source: the input file.
            kind: what the entry holds (``"volume"``, ``"rows"``).
            shaped_by: the options that change the entry's bytes (JSON-serialisable).
        """
        path = Path(source).resolve()
        stat = os.stat(path)
        status = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        known = self._identities.get(path)
        if known is None or known[0] != status:
            known = self._identities[path] = (status, content_identity(path))
        text = json.dumps([_VERSION, known[1], kind, dict(shaped_by)], sort_keys=True)
        return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:40]}"

    def entry(
        self,
        source: str | os.PathLike,
        kind: str,
        shaped_by: Mapping[str, Any],
        fill: Callable[[Path], None],
    ) -> Path:
        """The folder of an entry, filled by ``fill(folder)`` first if the store lacks it.

        Args:
            source: the input file.
            kind: what the entry holds.
            shaped_by: the options that change the entry's bytes.
            fill: writes the entry's files into the (temporary) folder it is given.
        """
        final = self.folder / self.key(source, kind, shaped_by)
        if self._touch(final):
            return final
        with self._locked(final.name):
            if self._touch(final):
                return final
            temporary = self.folder / (
                f"{_TEMP}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}"
            )
            temporary.mkdir()
            try:
                fill(temporary)
                for part in temporary.iterdir():
                    _fsync(part)
                _fsync(temporary)
            except BaseException:
                shutil.rmtree(temporary, ignore_errors=True)
                raise
            try:
                os.rename(temporary, final)  # atomic; refused if another run placed it
            except OSError:
                shutil.rmtree(temporary, ignore_errors=True)
                if not final.is_dir():
                    raise
            _fsync(self.folder)
        self._evict(keep=final)
        return final

    def info(self) -> StoreInfo:
        """How many entries the store holds and their bytes."""
        entries = list(self._entries())
        return StoreInfo(self.folder, len(entries), sum(_entry_bytes(e) for e in entries),
                         self.limit)

    def remove_stale(self) -> None:
        """Remove the temporary folders of fillers that died (this machine's, by process id;
        any machine's, after :data:`STALE_SECONDS`), and removed entries left behind."""
        host = socket.gethostname()
        for path in self.folder.iterdir():
            name = path.name
            if name.startswith(_TRASH):
                shutil.rmtree(path, ignore_errors=True)
            if not name.startswith(_TEMP):
                continue
            writer_host, _, rest = name[len(_TEMP):].rpartition("-")[0].rpartition("-")
            pid = rest if writer_host else ""
            dead = writer_host == host and pid.isdigit() and not _alive(int(pid))
            try:
                old = time.time() - path.stat().st_mtime > STALE_SECONDS
            except FileNotFoundError:
                continue
            if dead or old:
                shutil.rmtree(path, ignore_errors=True)

    def _entries(self) -> Iterator[Path]:
        for path in self.folder.iterdir():
            if not path.name.startswith(".") and path.is_dir():
                yield path

    def _touch(self, entry: Path) -> bool:
        """Mark ``entry`` as just used; False when the store lacks it."""
        try:
            os.utime(entry)
        except FileNotFoundError:
            return False
        except PermissionError:  # a store shared read-only: used, just not marked
            return entry.is_dir()
        return True

    def _evict(self, keep: Path) -> None:
        sized = []
        for entry in self._entries():
            try:
                sized.append((entry.stat().st_mtime_ns, _entry_bytes(entry), entry))
            except FileNotFoundError:
                continue
        total = sum(size for _, size, _ in sized)
        for _, size, entry in sorted(sized):
            if total <= self.limit:
                break
            if entry == keep:
                continue
            trash = self.folder / f"{_TRASH}{uuid.uuid4().hex}"
            try:
                os.rename(entry, trash)  # atomic: readers see the entry whole or not at all
            except FileNotFoundError:
                continue  # another process removed it
            shutil.rmtree(trash, ignore_errors=True)
            (self.folder / _LOCKS / entry.name).unlink(missing_ok=True)
            total -= size

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        with open(self.folder / _LOCKS / name, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
