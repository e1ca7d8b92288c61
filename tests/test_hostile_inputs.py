"""Broken and hostile input files: each one costs exactly its own case.

A folder of good cases is run alone, then again next to a corpus of broken files. Each
broken file must be listed in the failures file with a one-line reason a person can act
on, the good cases' outputs must come out byte-identical to the run without the broken
files, and nothing may be written outside the output folder.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from conftest import (
    CIFTI_FILE,
    SMALL_NII,
    nifti_bytes,
    read_failures,
    small_volume,
    snapshot,
    worked_example_volume,
    write_nifti,
)

from niprep import extract_annotations, extract_annotations_dataset

OPTIONS = dict(data_mode="box", include_label=True, save_stats=True, progress=False)
FAILURES_FILE = "axial_annotations_failures.csv"
DEFAULT_MAX_VOXELS = 2**31


# ------------------------------------------------------------------ building the files


def labelled_noise() -> np.ndarray:
    """A 16^3 volume of random labels 0..4: its gzip stream is a few kilobytes long."""
    return np.random.default_rng(6).integers(0, 5, (16, 16, 16)).astype(np.uint8)


def with_datatype(blob: bytes, code: int, bitpix: int) -> bytes:
    """``blob`` (NIfTI-1 bytes) with its ``datatype`` and ``bitpix`` fields replaced."""
    patched = bytearray(blob)
    struct.pack_into("<hh", patched, 70, code, bitpix)
    return bytes(patched)


def header_only(header: nib.Nifti1Header) -> bytes:
    """``header`` and its extension flag, gzip-compressed, without a single voxel."""
    return gzip.compress(header.binaryblock + b"\0" * 4)


def bomb_header() -> nib.Nifti1Header:
    """A NIfTI-1 header declaring 4000^3 uint8 voxels (64 GB)."""
    header = nib.Nifti1Header()
    header.set_data_dtype(np.uint8)
    header.set_data_shape((4000, 4000, 4000))
    return header


def overflow_header() -> nib.Nifti2Header:
    """A NIfTI-2 header whose voxel count, 2**64, wraps to 0 in int64 arithmetic."""
    header = nib.Nifti2Header()
    header.set_data_dtype(np.uint8)
    header.set_data_shape((2**21, 2**21, 2**22))
    header.set_data_offset(544)
    return header


def write_good_cases(folder: Path) -> None:
    """Cases that must work: odd names, a link, a single-frame 4-D volume, a float mask."""
    write_nifti(folder / "case_001_bbox.nii.gz", worked_example_volume())
    multi = np.full((5, 6, 4), -1, dtype=np.int16)
    multi[0:2, 1:3, 0:2] = 1
    multi[3, 4:6, 2:4] = 5
    write_nifti(folder / "multi_label.nii.gz", multi)
    floats = np.zeros((4, 4, 3), dtype=np.float32)
    floats[1:3, 0, 1] = 1.5
    floats[3, 3, 2] = 2.0
    write_nifti(folder / "float labels.nii", floats)
    write_nifti(folder / "héllo wörld_bbox.nii.gz", worked_example_volume())
    write_nifti(folder / "single_frame.nii.gz", worked_example_volume()[..., None])
    (folder / "linked.nii.gz").symlink_to("case_001_bbox.nii.gz")
    write_nifti(folder / "a_folder.nii.gz" / "inner.nii.gz", worked_example_volume())


GOOD_CASES = ["case_001", "multi_label", "float labels", "héllo wörld", "single_frame", "linked"]


@dataclass(frozen=True)
class Bad:
    """A broken file: how to write it and the reason its case must fail with.

    Args:
        name: the file name.
        write: writes the file at the path it is given.
        reason: the exact reason, or a pattern it must match from start to end.
    """

    name: str
    write: Callable[[Path], object]
    reason: str | re.Pattern


def _bytes(data: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data)


def _array(array: np.ndarray) -> Callable[[Path], object]:
    return lambda path: write_nifti(path, array)


def _link(target: str) -> Callable[[Path], object]:
    return lambda path: path.symlink_to(target)


def _nan_volume() -> np.ndarray:
    volume = small_volume().astype(np.float32)
    volume[0, 0, 0] = np.nan
    volume[5, 6, 4] = -np.inf
    return volume


NOISE_GZ = gzip.compress(nifti_bytes(labelled_noise()), mtime=0)
SCALED_NII = nifti_bytes(small_volume(), slope=2.0, inter=1.0)
SHORT_DATA = ("truncated file: its data inflates to 542 bytes, but its header needs 562 "
              "(voxels from byte 352, 210 of them, 1 B each)")
CORRUPT_GZ = NOISE_GZ[:200] + b"\xff" * 16 + NOISE_GZ[216:]
SHAPE_NOTE = "(a 4-D volume is taken only when its 4th axis has length 1)"
NOT_UTF8_OR_CONTROL = ("the file name holds a control character or bytes that are not UTF-8; "
                       "rename the file")

BAD_CASES = [
    Bad("truncated.nii.gz", _bytes(NOISE_GZ[: len(NOISE_GZ) * 2 // 3]),
        "truncated file: the gzip stream ends early (an incomplete download?)"),
    Bad("truncated_header.nii.gz", _bytes(NOISE_GZ[:40]),
        "truncated file: the gzip stream ends early (an incomplete download?)"),
    Bad("random_bytes.nii.gz", _bytes(b"\x00" + np.random.default_rng(1).bytes(999)),
        "not a NIfTI file: not gzip data, although the name ends in .gz"),
    Bad("text.nii.gz", _bytes(gzip.compress(b"patient,lesion\n" * 100)),
        "not a NIfTI file: the data does not start with a NIfTI-1 or NIfTI-2 header"),
    Bad("empty.nii.gz", _bytes(b""), "not a NIfTI file: the file is empty"),
    Bad("uncompressed.nii.gz", _bytes(SMALL_NII),
        "not gzip data: this is an uncompressed NIfTI file; rename it to .nii"),
    Bad("compressed.nii", _bytes(gzip.compress(SMALL_NII)),
        "gzip data in a file named .nii; rename it to .nii.gz"),
    Bad("short.nii", _bytes(SMALL_NII[:-20]),
        "truncated file: 542 bytes, but its header needs 562 (voxels from byte 352, "
        "210 of them, 1 B each)"),
    Bad("short_data.nii.gz", _bytes(gzip.compress(SMALL_NII[:-20], mtime=0)), SHORT_DATA),
    Bad("short_scaled.nii.gz", _bytes(gzip.compress(SCALED_NII[:-20], mtime=0)), SHORT_DATA),
    Bad("corrupt.nii.gz", _bytes(CORRUPT_GZ),
        re.compile(r"corrupt file: the gzip data is damaged \(.+\)")),
    Bad("unknown_type.nii", _bytes(with_datatype(SMALL_NII, 1536, 128)),
        re.compile(r"invalid NIfTI header: .*1536.*")),
    Bad("flat.nii.gz", _array(np.ones((5, 6), np.uint8)),
        f"not a 3-D volume: the header gives shape (5, 6) {SHAPE_NOTE}"),
    Bad("series.nii.gz", _array(np.ones((4, 5, 6, 2), np.uint8)),
        f"not a 3-D volume: the header gives shape (4, 5, 6, 2) {SHAPE_NOTE}"),
    Bad("no_slices.nii.gz", _array(np.ones((4, 5, 0), np.uint8)),
        "invalid NIfTI header: shape (4, 5, 0) has an axis of length < 1"),
    Bad("probabilities.nii.gz", _array(_nan_volume()),
        "non-finite voxels: 2 of 210 are NaN or infinite"),
    Bad("complex.nii.gz", _array(small_volume().astype(np.complex64)),
        "unsupported voxel type complex64: only integer and real voxels are read"),
    Bad("rgb.nii.gz", _array(np.zeros((4, 5, 6), [("R", "u1"), ("G", "u1"), ("B", "u1")])),
        "unsupported voxel type RGB: only integer and real voxels are read"),
    Bad("bomb.nii.gz", _bytes(header_only(bomb_header())),
        "too large: the header declares 64000000000 voxels (4000, 4000, 4000), more than "
        f"max_voxels={DEFAULT_MAX_VOXELS}"),
    Bad("overflow.nii.gz", _bytes(header_only(overflow_header())),
        "too large: the header declares 18446744073709551616 voxels (2097152, 2097152, "
        f"4194304), more than max_voxels={DEFAULT_MAX_VOXELS}"),
    Bad("dconn.nii", _link(str(CIFTI_FILE)),
        "not a volume: a CIFTI-2 file (grayordinate data in a NIfTI-2 container) has no "
        "3-D voxel grid; give the NIfTI volume it was made from"),
    Bad("dangling.nii.gz", _link("missing.nii.gz"),
        "broken symbolic link: its target 'missing.nii.gz' cannot be opened "
        "(No such file or directory)"),
    Bad("loop.nii.gz", _link("loop.nii.gz"),
        "broken symbolic link: its target 'loop.nii.gz' cannot be opened "
        "(Too many levels of symbolic links)"),
    Bad("_bbox.nii.gz", _array(small_volume()),
        "the case name '' is empty or starts with '.'; rename the file"),
    Bad(".nii", _array(small_volume()),
        "the case name '' is empty or starts with '.'; rename the file"),
    Bad("..nii.gz", _array(small_volume()),
        "the case name '.' is empty or starts with '.'; rename the file"),
    Bad("...nii.gz", _array(small_volume()),
        "the case name '..' is empty or starts with '.'; rename the file"),
    Bad("new\nline.nii.gz", _array(small_volume()), NOT_UTF8_OR_CONTROL),
]


def write_bad_cases(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for bad in BAD_CASES:
        bad.write(folder / bad.name)


def matches(reason: str, expected: str | re.Pattern) -> bool:
    if isinstance(expected, str):
        return reason == expected
    return expected.fullmatch(reason) is not None


# ------------------------------------------------------------------ the tests


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> dict:
    """The good cases run alone and next to the broken ones, with what each run did."""
    root = tmp_path_factory.mktemp("corpus")
    write_good_cases(root / "good")
    write_good_cases(root / "mixed")
    write_bad_cases(root / "mixed")
    before = snapshot(root, skip={"out_good", "out_mixed"})
    good = extract_annotations_dataset(root / "good", root / "out_good", **OPTIONS)
    mixed = extract_annotations_dataset(root / "mixed", root / "out_mixed", **OPTIONS)
    return dict(root=root, before=before, good=good, mixed=mixed)


def test_bad_files_do_not_change_the_good_cases_outputs(corpus_run):
    root = corpus_run["root"]
    alone = snapshot(root / "out_good")
    mixed = snapshot(root / "out_mixed")
    assert mixed.pop(FAILURES_FILE)
    assert mixed == alone
    assert {path.split("/")[0] for path in alone} == set(GOOD_CASES) | {
        "axial_annotations_stats.csv"
    }
    assert corpus_run["good"].failed == 0
    assert (corpus_run["mixed"].done, corpus_run["mixed"].failed) == (
        len(GOOD_CASES), len(BAD_CASES))
    assert int(corpus_run["mixed"]) == int(corpus_run["good"])


@pytest.mark.parametrize("bad", BAD_CASES, ids=[bad.name.replace("\n", "\\n") for bad in BAD_CASES])
def test_each_bad_file_is_listed_with_its_reason(corpus_run, bad):
    output = corpus_run["root"] / "out_mixed"
    rows = dict(read_failures(output))
    assert matches(rows[bad.name], bad.reason), rows[bad.name]
    assert dict(corpus_run["mixed"].failures)[bad.name] == rows[bad.name]


def test_failures_file_lists_every_bad_file_once_in_case_order(corpus_run):
    rows = read_failures(corpus_run["root"] / "out_mixed")
    assert [filename for filename, _ in rows] == sorted(bad.name for bad in BAD_CASES)


def test_nothing_is_written_outside_the_output_folders(corpus_run):
    root = corpus_run["root"]
    assert snapshot(root, skip={"out_good", "out_mixed"}) == corpus_run["before"]
    assert sorted(path.name for path in root.iterdir()) == [
        "good", "mixed", "out_good", "out_mixed"]


def test_links_single_frames_and_odd_names_read_as_their_volume(corpus_run):
    output = corpus_run["root"] / "out_good"
    files = snapshot(output)
    reference = {path.split("/", 1)[1].replace("case_001", "{}"): data
                 for path, data in files.items() if path.startswith("case_001/")}
    assert reference
    for case in ("linked", "single_frame", "héllo wörld"):
        renamed = {path.split("/", 1)[1].replace(case, "{}"): data
                   for path, data in files.items() if path.startswith(f"{case}/")}
        assert renamed == reference
    assert not (output / "a_folder").exists() and not (output / "inner").exists()


def test_run_reports_each_failure_in_one_line_without_traceback(tmp_path, capfd):
    folder = tmp_path / "masks"
    write_good_cases(folder)
    write_bad_cases(folder)
    extract_annotations_dataset(folder, tmp_path / "out", **OPTIONS)
    err = capfd.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    for bad in BAD_CASES:
        if "\n" in bad.name:
            continue  # a name holding a line break cannot be reported on one line
        prefix = f"niprep: {bad.name}: "
        reasons = [line[len(prefix):] for line in lines if line.startswith(prefix)]
        assert len(reasons) == 1 and matches(reasons[0], bad.reason), reasons


@pytest.mark.parametrize(
    ("header", "voxels"),
    [(bomb_header(), 4000**3), (overflow_header(), 2**64)],
    ids=["4000-cubed", "int64-overflow"],
)
def test_bomb_is_refused_from_the_header_fast_and_without_memory(tmp_path, header, voxels):
    folder = tmp_path / "masks"
    folder.mkdir()
    (folder / "bomb.nii.gz").write_bytes(header_only(header))
    extract_annotations_dataset(folder, tmp_path / "warm-up", progress=False)
    tracemalloc.start()
    start = time.perf_counter()
    summary = extract_annotations_dataset(folder, tmp_path / "out", progress=False)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary.failures == ((
        "bomb.nii.gz",
        f"too large: the header declares {voxels} voxels {header.get_data_shape()}, more than "
        f"max_voxels={DEFAULT_MAX_VOXELS}",
    ),)
    assert elapsed < 1.0  # "refused within a second"; it takes about 0.04 s
    assert peak < 32 * 2**20


@pytest.mark.parametrize(("max_voxels", "failed"), [(209, 1), (210, 0)])
def test_max_voxels_is_the_largest_volume_accepted(tmp_path, max_voxels, failed):
    write_nifti(tmp_path / "masks" / "small.nii.gz", small_volume())
    summary = extract_annotations_dataset(tmp_path / "masks", tmp_path / "out", progress=False,
                                          max_voxels=max_voxels)
    assert summary.failed == failed
    if failed:
        assert summary.failures == (("small.nii.gz", "too large: the header declares 210 "
                                     f"voxels (6, 7, 5), more than max_voxels={max_voxels}"),)
    else:
        assert (tmp_path / "out" / "small" / "axial" / "small_axial_001.csv").is_file()


def test_single_file_api_raises_the_reason_and_writes_nothing(tmp_path):
    path = tmp_path / "masks" / "truncated.nii.gz"
    path.parent.mkdir()
    path.write_bytes(NOISE_GZ[: len(NOISE_GZ) // 2])
    reason = "truncated file: the gzip stream ends early (an incomplete download?)"
    with pytest.raises(ValueError, match=f"^{re.escape(f'truncated.nii.gz: {reason}')}$"):
        extract_annotations(path, tmp_path / "out", progress=False)
    # the exception is the report: no file at all, not even a failures file
    assert snapshot(tmp_path / "out") == {}


def test_command_exits_1_and_lists_the_bad_files_without_traceback(tmp_path):
    write_good_cases(tmp_path / "masks")
    write_bad_cases(tmp_path / "masks")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("niprep")), f"nii_folder={tmp_path / 'masks'}",
         f"output_path={tmp_path / 'out'}", "data_mode=box", "include_label=true",
         "save_stats=true", "progress=false"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{len(GOOD_CASES)} done, {len(BAD_CASES)} failed" in done.stdout
    rows = read_failures(tmp_path / "out")
    assert [filename for filename, _ in rows] == sorted(bad.name for bad in BAD_CASES)
    assert all(matches(reason, bad.reason) for (_, reason), bad in
               zip(rows, sorted(BAD_CASES, key=lambda bad: bad.name)))


def test_names_not_utf8_or_with_line_breaks_fail_alone_on_one_line(tmp_path: Path, capfd):
    masks = tmp_path / "masks"
    good = write_nifti(masks / "good.nii.gz", worked_example_volume())
    (masks / os.fsdecode(b"caf\xe9.nii.gz")).write_bytes(good.read_bytes())
    (masks / "two\nlines.nii.gz").write_bytes(good.read_bytes())
    summary = extract_annotations_dataset(masks, tmp_path / "out", save_stats=True,
                                          progress=False)
    assert (summary.done, summary.failed) == (1, 2)
    failures = (tmp_path / "out" / "axial_annotations_failures.csv").read_bytes()
    reason = b"the file name holds a control character or bytes that are not UTF-8; rename the file"
    assert failures == (
        b"FILENAME,ERROR\ncaf\\udce9.nii.gz," + reason + b'\n"two\nlines.nii.gz",' + reason + b"\n"
    )
    stderr = capfd.readouterr().err
    assert stderr.count("\n") == 2
    assert "niprep: 'two\\nlines.nii.gz': the file name holds" in stderr
