"""The ``niprep`` command, run as users run it: a subprocess (docs/reference.md, Options)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import clean_run, make_masks, moving_mask, snapshot, write_nifti

from niprep.cli import _shown
from niprep.options import ANNOTATIONS_DATASET, EXPORT_DATASET, SLICES_DATASET
from niprep.run.output_lock import OutputLock

NIPREP = str(Path(sys.executable).with_name("niprep"))


def niprep(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NIPREP, *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def masks(tmp_path: Path) -> Path:
    return make_masks(tmp_path / "masks", 3)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder the command is started in; it must stay empty unless asked otherwise."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_a_run_with_relative_paths_writes_the_api_bytes_and_its_config(
    masks: Path, work: Path, tmp_path: Path
) -> None:
    done = niprep("nii_folder=../masks", "output_path=out", "data_mode=box",
                  "target_size=[16,16]", "save_stats=true", "progress=false", cwd=work)
    assert done.returncode == 0, done.stderr
    # each mask holds two values > 0, one box each (label mode)
    total = sum(np.count_nonzero(np.unique(moving_mask(index)) > 0) for index in range(3))
    assert done.stdout == (f"niprep annotations (axial): 3 done, 0 failed, 0 skipped; "
                           f"{total} annotations in {work / 'out'}\n")
    stats = (work / "out" / "axial_annotations_stats.csv").read_text().splitlines()
    assert stats[-1] == f"TOTAL_ANNOTATIONS,{total}"
    assert sorted(os.listdir(work)) == ["out"]  # no outputs/, no .hydra, no log
    expected = clean_run(masks, tmp_path / "api", data_mode="box", target_size=(16, 16),
                         save_stats=True)
    assert snapshot(work / "out") == expected
    config = yaml.safe_load((work / "out" / ".niprep" / "annotations-axial.yaml").read_text())
    assert config == {
        "task": "annotations",
        "nii_folder": str(masks),
        "output_path": str(work / "out"),
        **ANNOTATIONS_DATASET.defaults(),
        "data_mode": "box",
        "save_stats": True,
        "progress": False,
        "target_size": [16, 16],
    }


def test_multirun_runs_once_per_view(masks: Path, work: Path, tmp_path: Path) -> None:
    done = niprep("-m", "view=axial,coronal,sagittal", f"nii_folder={masks}",
                  "output_path=out", "progress=false", cwd=work)
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [
        "niprep annotations (axial)", "niprep annotations (coronal)",
        "niprep annotations (sagittal)"]
    assert sorted(os.listdir(work)) == ["out"]  # no multirun/, no multirun.yaml
    expected = {}
    for view in ("axial", "coronal", "sagittal"):
        expected |= clean_run(masks, tmp_path / "api", view=view)
    assert snapshot(work / "out") == expected
    assert sorted(os.listdir(work / "out" / ".niprep")) == [
        "annotations-axial.yaml", "annotations-coronal.yaml", "annotations-sagittal.yaml",
        "lock", "manifest.jsonl"]


def test_a_failing_case_exits_1_and_is_listed(masks: Path, work: Path) -> None:
    (masks / "broken_bbox.nii.gz").write_bytes(b"\x1f\x8b not really gzip")
    done = niprep(f"nii_folder={masks}", "output_path=out", "progress=false", cwd=work)
    assert done.returncode == 1
    assert done.stderr.startswith("niprep: broken_bbox.nii.gz: ")
    failures = work / "out" / "axial_annotations_failures.csv"
    assert failures.read_text().splitlines()[1].startswith("broken_bbox.nii.gz,")
    assert done.stdout.strip().endswith(f"failures listed in {failures}")
    assert (work / "out" / "case_002").is_dir() and not (work / "out" / "broken").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["output_path=out"], "nii_folder is required: add nii_folder=PATH"),
        (["nii_folder=nowhere", "output_path=out"], "nii_folder '{work}/nowhere' does not exist"),
        (["nii_folder={empty}", "output_path=out"], "nii_folder '{empty}' holds no .nii.gz"),
        (["nii_folder={masks}", "output_path=out", "view=bogus"],
         "view='bogus' is not valid; choose one of 'axial', 'coronal', 'sagittal'"),
        (["nii_folder={masks}", "output_path=out", "target_size=[0,4]"],
         "target_size=[0, 4] is not valid"),
        (["nii_folder={masks}", "output_path=out", "workers=0"], "workers=0 is not valid"),
        (["nii_folder={masks}", "output_path=out", "colour=red"],
         "unknown key 'colour'; `niprep task=annotations --help` lists the keys"),
        (["nii_folder={masks}", "output_path=out", "task=masks"],
         "task='masks' is not valid; choose one of annotations, slices, check"),
        (["nii_folder={masks}", "output_path=out", "view=axial,coronal"],
         "'view=axial,coronal' is a sweep: add -m"),
        (["nii_folder={masks}", "output_path=out", "target_size=[16,"],
         "cannot read 'target_size=[16,'"),
        (["nii_folder={masks}", "output_path={blocker}/out"],
         "output_path '{blocker}/out' cannot be made: '{blocker}' is a file, not a folder"),
        (["nii_folder={masks}", "output_path={blocker}"],
         "output_path '{blocker}' is a file, not a folder"),
        (["nii_folder={masks}", "output_path=out", "task=slices", "data_mode=box"],
         "data_mode is a key of task=annotations, not of task=slices"),
        (["nii_folder={masks}", "output_path=out", "box_mode=monai"],
         "box_mode is a key of the training dataset (niprep.training.AnnotatedSliceDataset), "
         "not of task=annotations"),
        (["nii_folder={masks}", "output_path=out", "min_voxels=3"],
         "min_voxels=3 applies only with instances='components'; leave it out or add "
         "instances='components'"),
    ],
)
def test_a_bad_configuration_exits_2_in_one_line_and_writes_nothing(
    arguments: list[str], message: str, masks: Path, work: Path, tmp_path: Path
) -> None:
    places = dict(work=work, masks=masks, empty=tmp_path / "empty", blocker=tmp_path / "file")
    places["empty"].mkdir()
    places["blocker"].write_text("a file")
    done = niprep(*(argument.format(**places) for argument in arguments), cwd=work)
    assert done.returncode == 2
    assert done.stderr.startswith("niprep: " + message.format(**places)), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert os.listdir(work) == [] and os.listdir(places["empty"]) == []
    assert places["blocker"].read_text() == "a file"


def test_a_value_fails_with_the_message_of_the_python_api(work: Path) -> None:
    with pytest.raises(ValueError) as raised:
        ANNOTATIONS_DATASET.settings({"connectivity": 7})
    done = niprep("nii_folder=x", "output_path=y", "connectivity=7", cwd=work)
    assert (done.returncode, done.stderr) == (2, f"niprep: {raised.value}\n")


def test_an_output_folder_in_use_exits_2_naming_the_lock(masks: Path, work: Path) -> None:
    state = work / "out" / ".niprep"
    state.mkdir(parents=True)
    with OutputLock(state / "lock"):
        done = niprep(f"nii_folder={masks}", "output_path=out", cwd=work)
    assert done.returncode == 2
    assert done.stderr.startswith(f"niprep: the output folder is in use: '{state / 'lock'}' "
                                  f"is locked by niprep run pid {os.getpid()} on ")
    assert done.stderr.count("\n") == 1
    assert os.listdir(work / "out") == [".niprep"] and os.listdir(state) == ["lock"]


def test_task_slices_runs_the_slices_function(work: Path, tmp_path: Path) -> None:
    image = np.arange(5 * 6 * 4, dtype=np.int16).reshape(5, 6, 4)
    write_nifti(tmp_path / "scans" / "scan_bbox.nii.gz", image)
    done = niprep("task=slices", f"nii_folder={tmp_path / 'scans'}", "output_path=images",
                  "target_size=[8,8]", "progress=false", cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("niprep slices (axial): 1 done, 0 failed, 0 skipped; 4 slices")
    assert sorted(os.listdir(work / "images" / "scan" / "axial")) == [
        f"scan_axial_{s:03d}.tif" for s in range(4)]
    assert "slices-axial.yaml" in os.listdir(work / "images" / ".niprep")


@pytest.mark.parametrize(("arguments", "entry"), [((), ANNOTATIONS_DATASET),
                                                  (("task=slices",), SLICES_DATASET),
                                                  (("task=export",), EXPORT_DATASET)])
def test_help_lists_exactly_the_keys_of_the_task(arguments, entry, work: Path) -> None:
    done = niprep(*arguments, "--help", cwd=work)
    assert done.returncode == 0
    listed = done.stdout.split("another task's) ==")[1].split("Relative paths")[0]
    rows = [line.split("#")[0].split(": ", 1) for line in listed.splitlines() if ": " in line]
    assert [key for key, _ in rows] == ["nii_folder", "output_path", *entry.options]
    defaults = {key: default.strip() for key, default in rows[2:]}
    assert defaults == {name: _shown(option.default) for name, option in entry.options.items()}
    assert "task: annotations, check, export, slices" in done.stdout
    assert os.listdir(work) == []


def test_the_command_line_imports_nothing_heavy_before_the_work() -> None:
    probe = ("import sys, niprep.cli; "
             "print(sorted(m for m in ('torch', 'monai', 'numba') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout == "[]\n", done.stderr
