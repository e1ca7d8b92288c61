"""Serial, local processes and a real dask.distributed cluster write the same bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import clean_run, make_masks, snapshot
from distributed import LocalCluster

from niprep.run.backends import ProcessBackend, choose_backend
from niprep.run.output_lock import OutputLock
from niprep.run.process_pool import WorkerLost

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


def _answer(item: int) -> object:
    """Ten times ``item``; 2 raises, 3 ends the worker, 5 answers what cannot be pickled."""
    if item == 2:
        raise ValueError("two is refused")
    if item == 3:
        os._exit(3)
    if item == 5:
        return lambda: item
    return item * 10


def test_a_worker_that_dies_costs_its_item_only_and_is_replaced() -> None:
    with ProcessBackend(2) as backend:
        outcomes = dict(backend.imap_unordered(_answer, range(7)))
    lost, refused, unsent = outcomes.pop(3), outcomes.pop(2), outcomes.pop(5)
    assert isinstance(lost, WorkerLost) and str(lost).endswith("(exit code 3)")
    assert isinstance(refused, ValueError) and str(refused) == "two is refused"
    assert isinstance(unsent, RuntimeError) and "cannot be sent back" in str(unsent)
    assert outcomes == {0: 0, 1: 10, 4: 40, 6: 60}
    with ProcessBackend(2) as backend:  # the pool left behind is whole
        assert dict(backend.imap_unordered(_answer, [1, 4])) == {0: 10, 1: 40}


def _worker_pid(_: object) -> int:
    return os.getpid()


def test_a_run_takes_the_workers_an_earlier_run_left_idle() -> None:
    with ProcessBackend(2) as backend:
        first = {pid for _, pid in backend.imap_unordered(_worker_pid, range(8))}
    with ProcessBackend(3) as backend:
        second = {pid for _, pid in backend.imap_unordered(_worker_pid, range(12))}
    assert len(first) == 2 and len(second) == 3 and first < second
    assert os.getpid() not in second


def test_workers_forked_while_an_output_is_locked_do_not_keep_it_locked(
    tmp_path: Path,
) -> None:
    # the lost worker's replacement is forked under the lock
    with OutputLock(tmp_path / "lock"), ProcessBackend(1) as backend:
        outcomes = dict(backend.imap_unordered(_answer, [3, 1]))
    assert isinstance(outcomes[0], WorkerLost) and outcomes[1] == 10
    with OutputLock(tmp_path / "lock"):  # the workers kept after the run hold no copy
        pass


def _where(_: object) -> tuple[int, str, str | None]:
    return os.getpid(), os.getcwd(), os.environ.get("NIPREP_TEST_SETTING")


def test_workers_are_kept_only_while_the_folder_and_environment_are_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run() -> set[tuple[int, str, str | None]]:
        with ProcessBackend(2) as backend:
            return {answer for _, answer in backend.imap_unordered(_where, range(4))}

    before = run()
    monkeypatch.chdir(tmp_path)
    moved = run()
    monkeypatch.setenv("NIPREP_TEST_SETTING", "on")
    changed = run()
    assert {(cwd, value) for _, cwd, value in moved} == {(str(tmp_path), None)}
    assert {(cwd, value) for _, cwd, value in changed} == {(str(tmp_path), "on")}
    pids = [{pid for pid, _, _ in answers} for answers in (before, moved, changed)]
    assert all(len(group) == 2 for group in pids) and not (pids[0] | pids[1]) & pids[2]
    assert not pids[0] & pids[1] and run() == changed  # unchanged: the same workers


def test_a_worker_killed_while_idle_hands_its_item_to_a_new_one() -> None:
    with ProcessBackend(1) as backend:
        (_, killed), = backend.imap_unordered(_worker_pid, [0])
        os.kill(killed, signal.SIGKILL)
        while _running(killed):
            time.sleep(0.01)
        (_, pid), = backend.imap_unordered(_worker_pid, [0])
    assert pid != killed


SPARE_PROGRAM = """
import os, sys, time
from niprep.run import process_pool
process_pool.IDLE_SECONDS = process_pool._SPARE_SECONDS + 1.0
from niprep.run.backends import ProcessBackend

def worker_pid(_):
    return os.getpid()

def run():
    with ProcessBackend(1) as backend:
        return [pid for _, pid in backend.imap_unordered(worker_pid, [0])]

first, again = run(), run()
time.sleep(1.5)  # now too close to its idle exit to be given work
print(first == again, run() != again)
"""


def test_a_worker_close_to_its_idle_exit_is_not_given_work() -> None:
    done = subprocess.run([sys.executable, "-c", SPARE_PROGRAM],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]


def test_runs_from_several_threads_at_once_each_get_their_own_workers(
    masks: Path, tmp_path: Path
) -> None:
    serial = clean_run(masks, tmp_path / "serial", backend="serial", **OPTIONS)
    outputs: dict[int, dict[str, bytes | str]] = {}

    def run(number: int) -> None:
        outputs[number] = clean_run(masks, tmp_path / f"run{number}", backend="process",
                                    workers=2, **OPTIONS)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outputs == {0: serial, 1: serial, 2: serial}


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_run_left_early_stops_the_workers_still_busy() -> None:
    with ProcessBackend(2) as backend:
        answers = backend.imap_unordered(_pid_after, [0.0, 60.0, 60.0])
        _, answered = next(answers)
        answers.close()
    # the worker that answered had already been given the next item: both were busy
    assert not _running(answered)
    with ProcessBackend(2) as backend:  # new workers, no answer left over from that run
        assert dict(backend.imap_unordered(abs, [-1, -2])) == {0: 1, 1: 2}


FORKING_PROGRAM = """
import json, os, sys, threading
from niprep import extract_annotations_dataset
from niprep.run.backends import ProcessBackend

def parent_of_worker(_):
    return os.getppid()

stop = threading.Event()
if sys.argv[4] == "thread":
    threading.Thread(target=stop.wait).start()
prepared = []
with ProcessBackend(2, prepare=lambda: prepared.append(True)) as backend:
    parents = {parent for _, parent in backend.imap_unordered(parent_of_worker, [0, 1])}
extract_annotations_dataset(sys.argv[1], sys.argv[2], workers=2, backend="process",
                            progress=False, **json.loads(sys.argv[3]))
stop.set()
print(parents == {os.getpid()}, prepared)
"""


@pytest.mark.parametrize(("other_thread", "forked"), [(False, ["True", "[True]"]),
                                                        (True, ["False", "[]"])])
def test_workers_are_forked_from_this_process_only_while_no_other_thread_runs(
    masks: Path, tmp_path: Path, other_thread: bool, forked: list[str]
) -> None:
    """A program with one thread forks its workers, after ``prepare``; a program with
    another thread takes them from the fork server; both write the serial run's bytes."""
    done = subprocess.run(
        [sys.executable, "-c", FORKING_PROGRAM, str(masks), str(tmp_path / "process"),
         json.dumps(OPTIONS), "thread" if other_thread else "alone"],
        capture_output=True, text=True, check=True,
    )
    assert done.stdout.split() == forked
    serial = clean_run(masks, tmp_path / "serial", backend="serial", **OPTIONS)
    assert snapshot(tmp_path / "process") == serial


IDLE_PROGRAM = """
import multiprocessing, os, sys, time
from niprep.run import process_pool
process_pool.IDLE_SECONDS = float(sys.argv[1])
from niprep.run.backends import ProcessBackend

def worker_pid(_):
    return os.getpid()

with ProcessBackend(2) as backend:
    print(*{pid for _, pid in backend.imap_unordered(worker_pid, range(4))}, flush=True)
if sys.argv[2] == "end":
    os._exit(0)  # no clean-up: the workers are left to notice by themselves
deadline = time.monotonic() + 30
while multiprocessing.active_children() and time.monotonic() < deadline:
    time.sleep(0.1)
print(not multiprocessing.active_children())
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_idle_workers_exit_after_their_idle_time() -> None:
    done = subprocess.run([sys.executable, "-c", IDLE_PROGRAM, "0.5", "wait"],
                          capture_output=True, text=True, check=True)
    pids, gone = done.stdout.splitlines()
    assert len(pids.split()) == 2 and gone == "True"


def test_workers_exit_when_the_process_that_started_them_ends_abruptly() -> None:
    done = subprocess.run([sys.executable, "-c", IDLE_PROGRAM, "300", "end"],
                          capture_output=True, text=True, check=True)
    pids = [int(pid) for pid in done.stdout.split()]
    deadline = time.monotonic() + 30
    while any(map(_running, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == 2 and not any(map(_running, pids))
