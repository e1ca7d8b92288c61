"""The output folder: made (or refused) before any work, then changed only from inside.

Every path a task names is relative to the output folder and checked. Folders are made
one level at a time and a symbolic link met on the way is refused, so nothing is written
or removed through a link that points elsewhere; a file that is itself a link is replaced
by the new file (``os.replace`` swaps the link, its target is never touched).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from niprep.run.atomic import write_then_move

STATE_DIR = ".niprep"


# a path that starts with the state folder, or has an empty, "." or ".." part
_OUTSIDE = re.compile(rf"^{re.escape(STATE_DIR)}(/|$)|(^|/)\.{{0,2}}(/|$)")


def checked_relative(relative: str) -> str:
    """``relative`` if it is a clean path inside the output folder; ``ValueError`` if not.

    Args:
        relative: a ``/``-separated path relative to the output folder, without empty,
            ``.`` or ``..`` parts, not under ``.niprep``.
    """
    if "\\" in relative or _OUTSIDE.search(relative):
        raise ValueError(f"{relative!r} is not a file path inside the output folder")
    return relative


def refuse_link(path: Path) -> None:
    """Raise ``ValueError`` when ``path`` is a symbolic link.

    Args:
        path: a folder niprep is about to write into.
    """
    if path.is_symlink():
        raise ValueError(
            f"{str(path)!r} is a symbolic link; niprep never writes through links "
            "(make it a real folder or remove it)"
        )


def check_output(output_path: str | os.PathLike) -> Path:
    """Say why the output folder could not be made or written, without writing anything.

    Args:
        output_path: the output folder (it may not exist yet).

    Returns:
        The output folder as an absolute path.

    Raises:
        NotADirectoryError: it, or a folder above it, is a file.
        PermissionError: the folder (or the nearest existing one above it) is read-only.
        ValueError: its ``.niprep`` folder is a symbolic link.
    """
    output = Path(output_path).absolute()
    existing = output
    while not existing.is_dir() and existing.parent != existing:
        if existing.exists():
            where = "" if existing == output else f" cannot be made: {str(existing)!r}"
            raise NotADirectoryError(f"output_path {str(output)!r}{where} is a file, not a folder")
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"output_path {str(output)!r} cannot be written: "
                              f"no write permission on {str(existing)!r}")
    refuse_link(output / STATE_DIR)
    return output


def prepare_output(output_path: str | os.PathLike) -> Path:
    """Create the output folder and its ``.niprep`` folder, or say why they cannot be.

    Args:
        output_path: the output folder.

    Returns:
        The output folder as an absolute path.

    Raises:
        NotADirectoryError, PermissionError, ValueError: see :func:`check_output`.
        OSError: the folders cannot be made for another reason.
    """
    output = check_output(output_path)
    state = output / STATE_DIR
    try:
        output.mkdir(parents=True, exist_ok=True)
        state.mkdir(exist_ok=True)
    except OSError as error:
        raise type(error)(
            f"output_path {str(output)!r} cannot be written: {error.strerror or error}"
        ) from None
    if not os.access(state, os.W_OK | os.X_OK):
        raise PermissionError(f"output_path {str(output)!r} cannot be written: "
                              f"no write permission on {str(state)!r}")
    return output


class OutputTree:
    """The files of an output folder, changed only from the inside.

    Args:
        root: the output folder (itself may be a link: it is the user's choice of place).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._real_folders: set[str] = {""}  # relative paths checked to be real folders

    def place(self, staged: str, relative: str) -> None:
        """Move the file ``staged`` (same file system) to ``relative``, atomically.

        Args:
            staged: a file written aside.
            relative: where it goes, relative to the output folder.

        Raises:
            ValueError: ``relative`` leaves the folder, or a folder on the way is a link.
            OSError: a folder on the way is a file, or the target is a folder.
        """
        folder = _parent(checked_relative(relative))
        self._make_folders(folder)
        os.replace(staged, os.path.join(self.root, relative))

    def move_in(self, staged: str, folder: str = "") -> None:
        """Move the files under ``staged/folder`` to the same paths in the output folder.

        A folder the output lacks moves in whole, with one rename (its files appear at
        once); into a folder it has, each file moves on its own, as :meth:`place` does.

        Args:
            staged: a folder on the same file system holding files at their paths
                relative to the output folder.
            folder: the part of it to move (``""``: all).

        Raises:
            ValueError: a folder on the way is a link.
            OSError: a folder on the way is a file, or a file's target is a folder.
        """
        source = os.path.join(staged, folder)
        with os.scandir(source) as entries:
            found = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        for name, is_folder in found:
            relative = f"{folder}/{name}" if folder else name
            target = os.path.join(self.root, relative)
            if not is_folder:
                os.replace(os.path.join(source, name), target)
            elif relative in self._real_folders or os.path.lexists(target):
                self._make_folders(relative)  # refuses a link or a file in the way
                self.move_in(staged, relative)
            else:
                os.rename(os.path.join(source, name), target)

    def remove(self, relatives: Iterable[str]) -> None:
        """Remove files (missing ones are fine), then the folders this leaves empty.

        A path under a folder that is now a link is left alone: it is not ours.

        Args:
            relatives: paths relative to the output folder.
        """
        emptied: set[str] = set()
        for relative in relatives:
            folder = _parent(checked_relative(relative))
            if not self._is_real_folder(folder):
                continue
            try:
                os.unlink(os.path.join(self.root, relative))
            except (FileNotFoundError, IsADirectoryError):
                continue
            emptied.add(folder)
        for folder in sorted(emptied, key=lambda path: path.count("/"), reverse=True):
            self._prune(folder)

    def has_file(self, relative: str, size: int) -> bool:
        """True when ``relative`` is a regular file of ``size`` bytes reached without links.

        Args:
            relative: path relative to the output folder.
            size: the expected size in bytes.
        """
        if not self._is_real_folder(_parent(checked_relative(relative))):
            return False
        try:
            status = os.lstat(os.path.join(self.root, relative))
        except OSError:
            return False
        return stat.S_ISREG(status.st_mode) and status.st_size == size

    def _make_folders(self, folder: str) -> None:
        if folder in self._real_folders:
            return
        self._make_folders(_parent(folder))
        path = self.root / folder
        try:
            os.mkdir(path)
        except FileExistsError:
            refuse_link(path)
            if not path.is_dir():
                raise NotADirectoryError(f"{str(path)!r} is a file, not a folder") from None
        self._real_folders.add(folder)

    def _is_real_folder(self, folder: str) -> bool:
        if folder in self._real_folders:
            return True
        if not self._is_real_folder(_parent(folder)):
            return False
        try:
            status = os.lstat(self.root / folder)
        except OSError:
            return False
        if not stat.S_ISDIR(status.st_mode):
            return False
        self._real_folders.add(folder)
        return True

    def _prune(self, folder: str) -> None:
        while folder:
            try:
                os.rmdir(os.path.join(self.root, folder))
            except OSError:
                return
            self._real_folders.discard(folder)
            folder = _parent(folder)


def _parent(relative: str) -> str:
    """The folder of a relative path (``""`` for the output folder itself)."""
    return relative.rpartition("/")[0]


def write_files(output: Path, files: dict[str, str | bytes | None]) -> None:
    """Write each file aside under ``.niprep/`` and rename it into place; remove the
    ``None`` ones. The caller holds the output folder's lock.

    Args:
        output: the output folder.
        files: ``{relative path: text, bytes or None}``.
    """
    tree = OutputTree(output)
    tree.remove([path for path, text in files.items() if text is None])
    for path, text in files.items():
        if text is not None:
            data = text.encode("utf-8") if isinstance(text, str) else text
            write_then_move(data, path, output / STATE_DIR, move=tree.place)
