"""The record of the files each case wrote, so a re-run removes exactly those.

``<output>/.niprep/manifest.jsonl`` is a journal, one JSON object per line:

* ``{"op": "done", "slot": [task, view, case], "record": {...}}``: the case's files are
  in place; the record lists them (with sizes) and what they were made from.
* ``{"op": "pending", "slot": ..., "files": [...]}``: the case's old files are being
  replaced by these new ones.
* ``{"op": "forget", "slot": ...}``: the case has no file any more.

Replaying the lines gives the state. A ``pending`` not followed by ``done`` or ``forget``
means the run stopped while moving that case's files; the next run removes the slot's old
and new files before anything else (:meth:`Manifest.unfinished`), so a killed run leaves
neither a stale nor a half-replaced case. Lines are flushed to the operating system as
they are written but not fsynced, one write per event: this survives the process being
killed at any moment. The journal is rewritten compactly (and fsynced once) when a run
opens and closes it. A last line cut short by a kill is ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from niprep.run.atomic import write_then_move
from niprep.run.fingerprint import InputFingerprint

Slot = tuple[str, str, str]


@dataclass(frozen=True)
class CaseRecord:
    """What one case last wrote, and from what.

    Args:
        filename: the input file name.
        count: what the stats file counts for the case.
        files: path relative to the output folder -> size in bytes, of every file.
        task: fingerprint of the task that wrote them; ``None`` once they are no longer
            all its own (another case overwrote one), so the case must be done again.
        source: fingerprint of the input file, ``None`` if it could not be taken.
    """

    filename: str
    count: int
    files: dict[str, int] = field(default_factory=dict)
    task: str | None = None
    source: InputFingerprint | None = None

    def to_json(self) -> dict[str, Any]:
        source = vars(self.source).copy() if self.source is not None else None
        return {"filename": self.filename, "count": self.count, "files": self.files,
                "task": self.task, "source": source}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseRecord:
        source = data.get("source")
        return cls(
            filename=data["filename"],
            count=data["count"],
            files=dict(data["files"]),
            task=data.get("task"),
            source=InputFingerprint(**source) if source else None,
        )


class Manifest:
    """The journal of an output folder, loaded; its methods append as they change it.

    Open it with :meth:`open` while holding the folder's lock.

    Args:
        path: the journal file.
        scratch: a folder on the same file system for writing the compacted journal.
    """

    def __init__(self, path: Path, scratch: Path) -> None:
        self.path = path
        self.scratch = scratch
        self.records: dict[Slot, CaseRecord] = {}
        self._pending: dict[Slot, list[str]] = {}
        self._owners: dict[str, Slot] = {}
        self._journal: Any = None

    @classmethod
    def open(cls, path: Path, scratch: Path) -> Manifest:
        """Load the journal at ``path`` (if any), rewrite it compactly and open it.

        Raises:
            ValueError: a line other than the last is not valid JSON.
        """
        manifest = cls(path, scratch)
        if path.exists():
            manifest._replay(path.read_text(encoding="utf-8").split("\n"))
        manifest.compact()
        return manifest

    def unfinished(self) -> dict[Slot, list[str]]:
        """Slots whose files were being replaced when a run stopped: old and new files."""
        return {
            slot: sorted(set(new) | set(self.files_of(slot))) for slot, new in self._pending.items()
        }

    def files_of(self, slot: Slot) -> list[str]:
        """The files the slot's case wrote last (empty if none)."""
        record = self.records.get(slot)
        return list(record.files) if record else []

    def begin(self, slot: Slot, files: list[str]) -> None:
        """Note that the slot's files are about to be replaced by ``files``."""
        self._pending[slot] = list(files)
        self._journal_line({"op": "pending", "slot": list(slot), "files": files})

    def finish(self, slot: Slot, record: CaseRecord) -> None:
        """Note that the slot's files are now exactly ``record.files``."""
        self._settle(slot, record)
        self._journal_line({"op": "done", "slot": list(slot), "record": record.to_json()})

    def forget(self, slot: Slot) -> None:
        """Note that the slot has no file any more."""
        self._settle(slot, None)
        self._journal_line({"op": "forget", "slot": list(slot)})

    def compact(self) -> None:
        """Rewrite the journal as one line per slot (fsynced once), then keep appending."""
        self._close_journal()
        lines = [_line({"op": "done", "slot": list(slot), "record": record.to_json()})
                 for slot, record in self.records.items()]
        lines += [_line({"op": "pending", "slot": list(slot), "files": files})
                  for slot, files in self._pending.items()]
        write_then_move("".join(lines).encode("utf-8"), self.path, self.scratch, sync=True)
        self._journal = open(  # noqa: SIM115 - stays open for the appends of a run
            self.path, "a", encoding="utf-8",
            opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW, 0o644),
        )

    def close(self) -> None:
        """Compact the journal and close it."""
        self.compact()
        self._close_journal()

    def _close_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _journal_line(self, entry: dict[str, Any]) -> None:
        self._journal.write(_line(entry))
        self._journal.flush()

    def _replay_entry(self, entry: dict[str, Any]) -> None:
        slot: Slot = tuple(entry["slot"])
        if entry["op"] == "pending":
            self._pending[slot] = list(entry["files"])
        else:
            done = entry["op"] == "done"
            self._settle(slot, CaseRecord.from_json(entry["record"]) if done else None)

    def _settle(self, slot: Slot, record: CaseRecord | None) -> None:
        """The slot's replacement is over: its files are ``record``'s (``None``: none)."""
        self._pending.pop(slot, None)
        self._set_record(slot, record)

    def _set_record(self, slot: Slot, record: CaseRecord | None) -> None:
        for path in self.files_of(slot):
            if self._owners.get(path) == slot:
                del self._owners[path]
        if record is None:
            self.records.pop(slot, None)
            return
        for path in record.files:
            owner = self._owners.get(path)
            if owner is not None and owner != slot:
                taken = self.records[owner]
                files = {name: size for name, size in taken.files.items() if name != path}
                self.records[owner] = replace(taken, files=files, task=None)
            self._owners[path] = slot
        self.records[slot] = record

    def _replay(self, lines: list[str]) -> None:
        if lines and not lines[-1]:
            lines.pop()
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                if number == len(lines):
                    return  # cut short by a kill while it was written
                raise ValueError(
                    f"{str(self.path)!r} is damaged at line {number}; delete the output "
                    "folder (or that file, leaving older files in place) and run again"
                ) from None
            self._replay_entry(entry)


def _line(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":")) + "\n"
