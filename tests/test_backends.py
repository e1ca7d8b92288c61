"""Serial, local processes and a real dask.distributed cluster write the same bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from conftest import clean_run, make_masks, snapshot
from distributed import LocalCluster

from niprep.run.backends import ProcessBackend, choose_backend

OPTIONS = dict(data_mode="radius", write_empty=True, save_stats=True, include_label=True)


@pytest.fixture
def masks(tmp_path: Path) -> Path:
    """Seven masks and, between them, one broken file (a failure to report in order)."""
    folder = make_masks(tmp_path / "masks", 7, slices=20)
    (folder / "case_003_bbox.nii.gz").write_bytes(b"\x1f\x8b broken" * 10)
    return folder


def test_serial_process_and_dask_write_the_same_bytes(masks: Path, tmp_path: Path) -> None:
    serial = clean_run(masks, tmp_path / "serial", backend="serial", **OPTIONS)
    process = clean_run(masks, tmp_path / "process", backend="process", workers=2, **OPTIONS)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        dask = clean_run(masks, tmp_path / "dask", backend="dask", workers=2,
                         dask_address=cluster.scheduler_address, **OPTIONS)
    assert serial == process == dask
    assert serial["axial_annotations_stats.csv"].count(b"\n") == 6 + 2
    failures = serial["axial_annotations_failures.csv"].decode().splitlines()
    assert [line.split(",")[0] for line in failures] == ["FILENAME", "case_003_bbox.nii.gz"]


@pytest.mark.parametrize(
    ("backend", "workers", "address", "chosen"),
    [
        ("auto", 1, None, "serial"),
        ("auto", 4, None, "process"),
        ("auto", 1, "tcp://scheduler:8786", "dask"),
        ("serial", 4, None, "serial"),
        ("dask", 2, None, "dask"),
    ],
)
def test_choose_backend(backend: str, workers: int, address: str | None, chosen: str) -> None:
    assert choose_backend(backend, workers, address) == chosen


def test_a_dask_address_needs_the_dask_backend(masks: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dask_address='tcp://h:1' needs backend='dask'"):
        clean_run(masks, tmp_path / "out", backend="process", dask_address="tcp://h:1")
    assert not (tmp_path / "out").exists()


def test_a_worker_that_dies_costs_its_item_not_the_run() -> None:
    with ProcessBackend(1) as backend:
        outcomes = dict(backend.imap_unordered(os._exit, [3]))
    assert isinstance(outcomes[0], BrokenProcessPool)


def _parent_of_worker(_: object) -> int:
    return os.getppid()


FORKING_PROGRAM = """
import json, os, sys
from niprep import extract_annotations_dataset
from niprep.run.backends import ProcessBackend

def parent_of_worker(_):
    return os.getppid()

prepared = []
with ProcessBackend(2, prepare=lambda: prepared.append(True)) as backend:
    parents = {parent for _, parent in backend.imap_unordered(parent_of_worker, [0, 1])}
extract_annotations_dataset(sys.argv[1], sys.argv[2], workers=2, backend="process",
                            progress=False, **json.loads(sys.argv[3]))
print(parents == {os.getpid()}, prepared)
"""


def test_workers_are_forked_from_this_process_only_while_no_other_thread_runs(
    masks: Path, tmp_path: Path
) -> None:
    """A fresh program (one thread) forks its workers, after ``prepare``; a program with
    another thread takes them from the fork server; all write the same bytes."""
    done = subprocess.run(
        [sys.executable, "-c", FORKING_PROGRAM, str(masks), str(tmp_path / "forked"),
         json.dumps(OPTIONS)], capture_output=True, text=True, check=True,
    )
    assert done.stdout.split() == ["True", "[True]"]

    prepared = []
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with ProcessBackend(2, prepare=lambda: prepared.append(True)) as backend:
            parents = {parent for _, parent in backend.imap_unordered(_parent_of_worker, [0])}
        served = clean_run(masks, tmp_path / "served", backend="process", workers=2, **OPTIONS)
    finally:
        stop.set()
        thread.join()
    assert os.getpid() not in parents and prepared == []
    serial = clean_run(masks, tmp_path / "serial", backend="serial", **OPTIONS)
    assert snapshot(tmp_path / "forked") == served == serial
