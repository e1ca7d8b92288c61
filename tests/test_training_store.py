"""The decoded-volume store: items read from it equal decoded ones; it follows its inputs,
is filled by one process at a time, never shows a half-written entry, and stays bounded."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from conftest import TARGET, write_nifti

from niprep.training import AnnotatedSliceDataset
from niprep.training.store import VolumeStore

STORE_SCRIPT = """
import hashlib, sys
from niprep.training import AnnotatedSliceDataset
images, store = sys.argv[1:3]
pairs = [(f"{images}/{name}.nii.gz", None) for name in ("a", "b")]
dataset = AnnotatedSliceDataset.from_pairs(pairs, target_size=(16, 17), store=store)
digest = hashlib.sha256()
for n in range(len(dataset)):
    digest.update(dataset[n]["image"].numpy().tobytes())
print(digest.hexdigest())
"""
KILLED_WRITER = """
import sys, time
from pathlib import Path
import numpy as np
import niprep.training.case_data as case_data
from niprep.training import AnnotatedSliceDataset

def half_then_hang(window, source, options, folder):
    volume = case_data.load_view(source, options)
    stored = np.lib.format.open_memmap(folder / case_data.VOLUME_FILE, mode="w+",
                                       dtype=volume.dtype, shape=volume.shape)
    stored[: len(volume) // 2] = volume[: len(volume) // 2]
    stored.flush()
    Path(sys.argv[3]).touch()
    time.sleep(60)

case_data._fill_volume = half_then_hang
dataset = AnnotatedSliceDataset.from_pairs([(sys.argv[1], None)], store=sys.argv[2])
dataset[0]
"""


def items(dataset: AnnotatedSliceDataset) -> list[dict]:
    return [dataset[n] for n in range(len(dataset))]


def assert_same_items(left: list[dict], right: list[dict]) -> None:
    assert len(left) == len(right)
    for one, other in zip(left, right):
        assert (one["case"], one["slice"]) == (other["case"], other["slice"])
        for key in ("image", "box", "label"):
            assert one[key].dtype == other[key].dtype
            assert torch.equal(one[key], other[key]), key


def entries(store: Path) -> list[str]:
    return sorted(path.name for path in store.iterdir() if not path.name.startswith("."))


@pytest.mark.parametrize("options", [{}, {"normalization": "min-max", "pad_value": -1.0},
                                     {"view": "sagittal", "box_scope": "slice",
                                      "include_empty": False}])
def test_items_from_the_store_equal_decoded_items_and_the_store_reports_its_size(
        cases, tmp_path, options):
    images, labels = cases
    store = tmp_path / "store"
    decoded = AnnotatedSliceDataset(images, labels, target_size=TARGET, store=None, **options)
    stored = AnnotatedSliceDataset(images, labels, target_size=TARGET, store=store, **options)
    assert_same_items(items(stored), items(decoded))
    again = AnnotatedSliceDataset(images, labels, target_size=TARGET, store=store, **options)
    assert_same_items(items(again), items(decoded))
    assert decoded.store_info() is None
    info = again.store_info()
    names = entries(store)
    read = len({item["case"] for item in items(again)})  # volumes of the cases with items
    assert info.entries == len(names) == 3 + read  # and the boxes of every label
    assert sorted(name.split("-")[0] for name in names) == ["rows"] * 3 + ["volume"] * read
    assert info.bytes == sum(f.stat().st_size for name in names for f in (store / name).iterdir())
    volume = np.load(store / next(n for n in names if n.startswith("volume")) / "volume.npy",
                     mmap_mode="r")
    assert volume.flags.c_contiguous and volume.dtype == np.int16


def test_a_changed_input_gets_a_new_entry(cases, tmp_path):
    images, labels = cases
    store = tmp_path / "store"
    before = items(AnnotatedSliceDataset(images, labels, target_size=TARGET, store=store))
    path = images / "a.nii.gz"
    stat = path.stat()
    shape = nib.load(path).shape
    write_nifti(path, np.random.default_rng(1).integers(-9, 9, shape).astype(np.int16))
    # even with the old modification time back (the gzip stream's CRC tells them apart)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = items(AnnotatedSliceDataset(images, labels, target_size=TARGET, store=store))
    decoded = items(AnnotatedSliceDataset(images, labels, target_size=TARGET, store=None))
    assert_same_items(after, decoded)
    assert not torch.equal(before[0]["image"], after[0]["image"])
    assert len([name for name in entries(store) if name.startswith("volume")]) == 4


def run_python(script: str, *arguments: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, arguments)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_filling_the_store_at_once_read_the_same_items(cases, tmp_path):
    images, _ = cases
    store = tmp_path / "store"
    runs = [run_python(STORE_SCRIPT, images, store) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    pairs = [(images / f"{name}.nii.gz", None) for name in ("a", "b")]
    decoded = AnnotatedSliceDataset.from_pairs(pairs, target_size=TARGET, store=None)
    expected = hashlib.sha256()
    for item in items(decoded):
        expected.update(item["image"].numpy().tobytes())
    assert outputs[0][0].strip() == outputs[1][0].strip() == expected.hexdigest()
    assert [name.split("-")[0] for name in entries(store)] == ["volume", "volume"]
    assert not [path for path in store.iterdir() if path.name.startswith(".tmp-")]


def test_a_writer_killed_mid_entry_leaves_nothing_a_reader_would_take(cases, tmp_path):
    images, _ = cases
    store, started = tmp_path / "store", tmp_path / "started"
    writer = run_python(KILLED_WRITER, images / "a.nii.gz", store, started)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert writer.poll() is None, writer.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    reader = AnnotatedSliceDataset.from_pairs([(images / "a.nii.gz", None)], store=store)
    read: list[list[dict]] = []
    thread = threading.Thread(target=lambda: read.append(items(reader)))
    thread.start()
    thread.join(0.5)
    assert thread.is_alive() and not read  # it waits for the writer, taking nothing half-made
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    thread.join(60)
    decoded = AnnotatedSliceDataset.from_pairs([(images / "a.nii.gz", None)], store=None)
    assert_same_items(read[0], items(decoded))
    assert [name.split("-")[0] for name in entries(store)] == ["volume"]
    temporary = [path for path in store.iterdir() if path.name.startswith(".tmp-")]
    assert len(temporary) == 1  # the killed writer's, until the next run opens the store
    AnnotatedSliceDataset.from_pairs([(images / "a.nii.gz", None)], store=store)
    assert not temporary[0].exists()


def test_the_store_removes_least_recently_used_entries_beyond_its_limit(tmp_path):
    sources = []
    for number in range(3):
        source = tmp_path / f"input{number}"
        source.write_bytes(bytes([number]) * 10)
        sources.append(source)
    store = VolumeStore(tmp_path / "store", limit=2500)

    def fill(folder: Path) -> None:
        (folder / "data.bin").write_bytes(bytes(1000))

    first, second = (store.entry(source, "test", {}, fill) for source in sources[:2])
    os.utime(second, ns=(10**9, 10**9))  # second used long ago, then first more recently
    os.utime(first, ns=(2 * 10**9, 2 * 10**9))
    third = store.entry(sources[2], "test", {}, fill)
    assert sorted(entries(tmp_path / "store")) == sorted([first.name, third.name])
    assert store.info().bytes == 2000 and store.info().entries == 2
    assert store.entry(sources[0], "test", {"other": 1}, fill) != first  # options key too


def test_an_unusable_store_folder_fails_naming_it(cases, tmp_path):
    images, labels = cases
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"store='.*file/store' cannot be used"):
        AnnotatedSliceDataset(images, labels, store=str(tmp_path / "file" / "store"))


def test_a_store_smaller_than_the_decoded_volumes_is_reported(cases, tmp_path):
    images, labels = cases
    decoded = sum(int(np.prod(nib.load(path).shape)) * 2 for path in images.iterdir())  # int16
    with pytest.warns(UserWarning, match=r"take at least 0.0 GiB, more than store_limit=1000"):
        AnnotatedSliceDataset(images, labels, store=tmp_path / "store", store_limit=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AnnotatedSliceDataset(images, labels, store=tmp_path / "store", store_limit=decoded)
