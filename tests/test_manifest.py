"""The manifest's file ownership: a file belongs to the last case that wrote it.

When case B writes a file that case A wrote before, the file moves to B: A's record no
longer lists it (so a re-run of A never removes B's file), and A's record loses its task
fingerprint (A's outputs are no longer all its own, so ``resume`` must redo A).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from niprep.run.manifest import CaseRecord, Manifest

A = ("annotations", "axial", "a")
B = ("annotations", "axial", "b")


def record(filename: str, *files: str, task: str = "fingerprint") -> CaseRecord:
    return CaseRecord(filename, count=len(files), files={name: 10 for name in files}, task=task)


@pytest.fixture
def manifest(tmp_path: Path):
    opened = Manifest.open(tmp_path / "manifest.jsonl", tmp_path)
    yield opened
    opened.close()


def write(manifest: Manifest, slot, done: CaseRecord) -> None:
    """Commit a case as the runner does: pending, then done."""
    manifest.begin(slot, list(done.files))
    manifest.finish(slot, done)


def reopened(manifest: Manifest, tmp_path: Path) -> Manifest:
    manifest.close()
    return Manifest.open(manifest.path, tmp_path)


def test_a_file_written_by_another_case_moves_to_it(manifest: Manifest):
    write(manifest, A, record("a.nii.gz", "axial/shared.csv", "axial/a_only.csv"))
    write(manifest, B, record("b.nii.gz", "axial/shared.csv"))
    assert manifest.files_of(A) == ["axial/a_only.csv"]
    assert manifest.files_of(B) == ["axial/shared.csv"]
    assert manifest.records[A] == CaseRecord("a.nii.gz", 2, {"axial/a_only.csv": 10}, None)
    assert manifest.records[B].task == "fingerprint"


def test_forgetting_the_new_owner_does_not_give_the_file_back(manifest: Manifest):
    write(manifest, A, record("a.nii.gz", "axial/shared.csv", "axial/a_only.csv"))
    write(manifest, B, record("b.nii.gz", "axial/shared.csv"))
    manifest.begin(B, [])
    manifest.forget(B)
    assert B not in manifest.records
    assert manifest.files_of(A) == ["axial/a_only.csv"]


def test_the_old_owner_rewriting_the_file_takes_it_back(manifest: Manifest):
    write(manifest, A, record("a.nii.gz", "axial/shared.csv"))
    write(manifest, B, record("b.nii.gz", "axial/shared.csv", "axial/b_only.csv"))
    write(manifest, A, record("a.nii.gz", "axial/shared.csv"))
    assert manifest.files_of(A) == ["axial/shared.csv"]
    assert manifest.records[A].task == "fingerprint"
    assert manifest.files_of(B) == ["axial/b_only.csv"]
    assert manifest.records[B].task is None


def test_a_case_rewriting_its_own_files_keeps_its_fingerprint(manifest: Manifest):
    write(manifest, A, record("a.nii.gz", "axial/one.csv", "axial/two.csv"))
    write(manifest, A, record("a.nii.gz", "axial/two.csv", "axial/three.csv", task="new"))
    assert manifest.records[A] == record("a.nii.gz", "axial/two.csv", "axial/three.csv",
                                         task="new")


def test_ownership_survives_reopening_the_journal(manifest: Manifest, tmp_path: Path):
    write(manifest, A, record("a.nii.gz", "axial/shared.csv", "axial/a_only.csv"))
    write(manifest, B, record("b.nii.gz", "axial/shared.csv"))
    before = dict(manifest.records)
    again = reopened(manifest, tmp_path)
    try:
        assert again.records == before
        # the replayed owner of the shared file is B: A rewriting it takes it from B
        write(again, A, record("a.nii.gz", "axial/shared.csv"))
        assert again.files_of(B) == [] and again.records[B].task is None
    finally:
        again.close()


def test_a_pending_replacement_lists_old_and_new_files(manifest: Manifest, tmp_path: Path):
    write(manifest, A, record("a.nii.gz", "axial/old.csv"))
    manifest.begin(A, ["axial/new.csv"])  # the run stops here
    again = reopened(manifest, tmp_path)
    try:
        assert again.unfinished() == {A: ["axial/new.csv", "axial/old.csv"]}
    finally:
        again.close()
