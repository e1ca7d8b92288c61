"""The runner's safe output: exact removal of a case's old files, resume, failures, links,
unwritable folders, recovery after a kill, one run at a time.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import clean_run, make_masks, moving_mask, snapshot, write_nifti

from niprep import extract_annotations, extract_annotations_dataset
from niprep.run.output_lock import OutputInUseError

QUIET = dict(progress=False)


@pytest.fixture
def masks(tmp_path: Path) -> Path:
    return make_masks(tmp_path / "masks", 4)


FIRST = dict(data_mode="box", write_empty=True, save_stats=True, include_label=True)
SECOND = dict(saving_mode="view", extraction_mode="volume", data_mode="radius", view="axial")


def test_rerun_with_other_options_leaves_no_stale_file(masks: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    extract_annotations_dataset(masks, out, **QUIET, **FIRST)
    assert (out / "case_000" / "axial" / "case_000_axial_011.csv").read_text() == (
        "X_MIN,Y_MIN,X_MAX,Y_MAX,LABEL\n"
    )
    extract_annotations_dataset(masks, out, **QUIET, **SECOND)
    assert snapshot(out) == clean_run(masks, tmp_path / "clean2", **SECOND)
    assert not (out / "axial_annotations_stats.csv").exists()  # save_stats is off now
    extract_annotations_dataset(masks, out, **QUIET, **FIRST)
    assert snapshot(out) == clean_run(masks, tmp_path / "clean1", **FIRST)


def test_resume_skips_exactly_the_unchanged_cases(masks: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = extract_annotations_dataset(masks, out, **QUIET, save_stats=True)
    assert (first.done, first.skipped) == (4, 0) and first.files_written > 4
    written = {path: path.stat().st_mtime_ns for path in out.rglob("*.csv")}

    again = extract_annotations_dataset(masks, out, **QUIET, save_stats=True, resume=True,
                                        workers=3, preview=2)  # neither changes the files
    assert (again.done, again.skipped, again.files_written) == (0, 4, 0)
    assert int(again) == int(first)
    stats = out / "axial_annotations_stats.csv"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.csv") if p != stats} == {
        p: t for p, t in written.items() if p != stats
    }

    os.utime(masks / "case_001_bbox.nii.gz", ns=(1, 10**18))  # touched, same content
    write_nifti(masks / "case_002_bbox.nii.gz", moving_mask(7))  # new content
    (out / "case_003" / "axial" / "case_003_axial_001.csv").unlink()  # an output lost
    resumed = extract_annotations_dataset(masks, out, **QUIET, save_stats=True, resume=True)
    assert (resumed.done, resumed.skipped) == (2, 2)
    assert snapshot(out) == clean_run(masks, tmp_path / "clean", save_stats=True)

    other = extract_annotations_dataset(masks, out, **QUIET, save_stats=True, resume=True,
                                        data_mode="box")
    assert (other.done, other.skipped) == (4, 0)


def test_failed_case_keeps_no_file_of_an_earlier_run(masks: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    extract_annotations_dataset(masks, out, **QUIET, save_stats=True)
    good = (masks / "case_001_bbox.nii.gz").read_bytes()
    (masks / "case_001_bbox.nii.gz").write_bytes(b"not a NIfTI file at all" * 20)
    summary = extract_annotations_dataset(masks, out, **QUIET, save_stats=True, resume=True)
    assert (summary.done, summary.failed, summary.skipped) == (0, 1, 3)
    assert not (out / "case_001").exists()
    failures = (out / "axial_annotations_failures.csv").read_text().splitlines()
    assert failures[0] == "FILENAME,ERROR" and failures[1].startswith("case_001_bbox.nii.gz,")
    assert "case_001" not in (out / "axial_annotations_stats.csv").read_text()

    (masks / "case_001_bbox.nii.gz").write_bytes(good)
    fixed = extract_annotations_dataset(masks, out, **QUIET, save_stats=True, resume=True)
    assert (fixed.done, fixed.failed, fixed.skipped) == (1, 0, 3)
    assert snapshot(out) == clean_run(masks, tmp_path / "clean", save_stats=True)


def test_a_file_two_slots_share_is_removed_only_by_its_last_writer(tmp_path: Path) -> None:
    source = write_nifti(tmp_path / "masks" / "case_bbox.nii.gz", moving_mask(1))
    out = tmp_path / "out"
    extract_annotations(source, out, view="axial", saving_mode="volume", **QUIET)
    extract_annotations(source, out, view="coronal", saving_mode="volume", **QUIET)
    coronal = (out / "case.csv").read_bytes()
    extract_annotations(source, out, view="axial", saving_mode="slice", **QUIET)
    assert (out / "case.csv").read_bytes() == coronal  # coronal's now, axial must not delete it
    assert (out / "case_axial_001.csv").is_file()


def test_links_in_the_output_tree_are_never_written_through(masks: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.csv"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    (out / "case_001" / "axial").mkdir(parents=True)
    (out / "case_000").symlink_to(outside, target_is_directory=True)
    (out / "case_001" / "axial" / "case_001_axial_001.csv").symlink_to(victim)
    (out / "axial_annotations_stats.csv").symlink_to(victim)

    summary = extract_annotations_dataset(masks, out, **QUIET, save_stats=True)

    assert sorted(os.listdir(outside)) == ["victim.csv"] and victim.read_text() == "precious\n"
    assert summary.failures[0][0] == "case_000_bbox.nii.gz"
    assert "symbolic link" in summary.failures[0][1]
    for path in (out / "case_001" / "axial" / "case_001_axial_001.csv",
                 out / "axial_annotations_stats.csv"):
        assert path.is_file() and not path.is_symlink()
    clean = clean_run(masks, tmp_path / "clean", save_stats=True)
    assert (out / "case_001" / "axial" / "case_001_axial_001.csv").read_bytes() == clean[
        "case_001/axial/case_001_axial_001.csv"
    ]


def test_a_linked_state_folder_is_refused(masks: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".niprep").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ValueError, match=r"\.niprep' is a symbolic link"):
        extract_annotations_dataset(masks, out, **QUIET)
    assert os.listdir(elsewhere) == [] and sorted(os.listdir(out)) == [".niprep"]


def test_an_output_folder_that_cannot_be_made_fails_before_any_work(
    masks: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match="a_file/out' cannot be made: '.*a_file' is a"):
        extract_annotations_dataset(masks, blocker / "out", **QUIET)
    with pytest.raises(NotADirectoryError, match="output_path '.*a_file' is a file"):
        extract_annotations_dataset(masks, blocker, **QUIET)
    assert sorted(os.listdir(tmp_path)) == ["a_file", "masks"]


def test_recovery_of_a_case_interrupted_while_its_files_were_moved(
    masks: Path, tmp_path: Path
) -> None:
    """The worst moment of a kill, made by hand: old files partly replaced, debris left."""
    out = tmp_path / "out"
    options = dict(data_mode="box", write_empty=True, **QUIET)
    extract_annotations_dataset(masks, out, **options)
    stray = out / "case_002" / "coronal" / "case_002_coronal_000.csv"  # "new" file, placed
    stray.parent.mkdir()
    stray.write_text("half\n")
    (out / "case_002" / "axial" / "case_002_axial_000.csv").unlink()  # an old one, removed
    with open(out / ".niprep" / "manifest.jsonl", "a") as journal:
        journal.write(json.dumps({"op": "pending", "slot": ["annotations", "axial", "case_002"],
                                  "files": ["case_002/coronal/case_002_coronal_000.csv"]}) + "\n")
        journal.write('{"op": "done", "slot": ["annotations", "axi')  # cut by the kill
    (out / ".niprep" / "staging" / "case-x").mkdir(parents=True)
    (out / ".niprep" / "staging" / "case-x" / "0").write_text("debris")

    summary = extract_annotations_dataset(masks, out, resume=True, **options)

    assert (summary.done, summary.skipped) == (1, 3)
    assert snapshot(out) == clean_run(masks, tmp_path / "clean", data_mode="box", write_empty=True)
    assert sorted(os.listdir(out / ".niprep")) == ["annotations-axial.yaml", "lock",
                                                   "manifest.jsonl"]


KILLED_RUN = textwrap.dedent(
    """
    import sys
    from niprep import extract_annotations_dataset
    extract_annotations_dataset(sys.argv[1], sys.argv[2], write_empty=True, progress=False)
    """
)


def _journal_lines(out: Path) -> int:
    try:
        return (out / ".niprep" / "manifest.jsonl").read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _kill_when(out: Path, process: subprocess.Popen, ready) -> None:
    """SIGKILL ``process`` as soon as ``ready(journal lines)`` holds."""
    deadline = time.monotonic() + 120
    while not ready(_journal_lines(out)):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.0002)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(lambda lines: lines >= 9 and lines % 2 == 1, id="while-moving-files"),
        pytest.param(lambda lines: lines >= 4, id="anywhere"),
    ],
)
def test_kill_9_then_resume_ends_as_a_clean_run(tmp_path: Path, moment) -> None:
    masks = make_masks(tmp_path / "masks", 24, slices=160)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(masks), str(out)])
    _kill_when(out, process, moment)
    assert process.returncode == -signal.SIGKILL

    summary = extract_annotations_dataset(masks, out, write_empty=True, resume=True, **QUIET)

    assert summary.skipped >= 1 and summary.done + summary.skipped == 24
    assert snapshot(out) == clean_run(masks, tmp_path / "clean", write_empty=True)
    assert sorted(os.listdir(out / ".niprep")) == ["annotations-axial.yaml", "lock",
                                                   "manifest.jsonl"]


def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    masks = make_masks(tmp_path / "masks", 24, slices=160)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(masks), str(out)])
    deadline = time.monotonic() + 120
    lock = out / ".niprep" / "lock"
    while not (lock.exists() and f"pid {process.pid} " in lock.read_text()):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.001)
    with pytest.raises(OutputInUseError, match=f"'{lock}' is locked by niprep run pid "
                                               f"{process.pid} on"):
        extract_annotations_dataset(masks, out, write_empty=True, **QUIET)
    assert process.wait() == 0
    assert snapshot(out) == clean_run(masks, tmp_path / "clean", write_empty=True)


def test_stats_and_failures_files_are_standard_csv_for_odd_names(tmp_path: Path) -> None:
    masks = tmp_path / "masks"
    write_nifti(masks / 'a,"b".nii.gz', moving_mask(0))
    write_nifti(masks / "flat, 2-D.nii.gz", np.ones((3, 4), np.uint8))
    write_nifti(masks / "car\rriage.nii.gz", moving_mask(1))
    out = tmp_path / "out"
    extract_annotations_dataset(masks, out, save_stats=True, **QUIET)
    name_refused = ("the file name holds a control character or bytes that are not UTF-8; "
                    "rename the file")
    shape = ("not a 3-D volume: the header gives shape (3, 4) (a 4-D volume is taken only when "
             "its 4th axis has length 1)")
    assert (out / "axial_annotations_failures.csv").read_bytes() == (
        f'FILENAME,ERROR\n"car\rriage.nii.gz",{name_refused}\n"flat, 2-D.nii.gz","{shape}"\n'
    ).encode()
    assert (out / "axial_annotations_stats.csv").read_bytes() == (
        b'FILENAME,NUM_ANNOTATIONS\n"a,""b"".nii.gz",2\nTOTAL_ANNOTATIONS,2\n'
    )
    with open(out / "axial_annotations_failures.csv", newline="") as handle:
        assert [row[0] for row in csv.reader(handle)] == [
            "FILENAME", "car\rriage.nii.gz", "flat, 2-D.nii.gz"]
