"""Serial, local processes and a real dask.distributed cluster write the same bytes."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from conftest import clean_run, make_masks
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
