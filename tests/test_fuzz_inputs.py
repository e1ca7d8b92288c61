"""Fuzzing the reader with mutated headers and bytes of small valid NIfTI files.

Hypothesis edits header fields (to any value of the field's type: NaN, huge, negative),
overwrites bytes of the uncompressed file or of its gzip stream, and cuts files short.
Every outcome must be either the correct result (the volume CSV that a slow reference
computes from the voxels nibabel decodes) or a failure listed in the failures file with a
one-line reason: never an uncaught exception, a hang, a large allocation, or a file
written outside the output folder.
"""

from __future__ import annotations

import csv
import gzip
import signal
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nibabel as nib
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from niprep import extract_annotations_dataset

MAX_VOXELS = 4096
#: a hang, not a slow example: the first file of each voxel type also compiles the kernel
HANG_SECONDS = 300
PEAK_BYTES = 64 * 2**20
FUZZ = settings(max_examples=50, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
HEADER = nib.nifti1.header_dtype
#: array axes (i, j, k) giving the CSV's X, Y and Z, per view (docs/reference.md, Coordinates)
VIEW_XYZ = {"axial": (1, 0, 2), "coronal": (2, 0, 1), "sagittal": (2, 1, 0)}
VOLUME_HEADER = "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX,LABEL"


def _labels(dtype: type) -> np.ndarray:
    volume = np.zeros((5, 6, 4), dtype=dtype)
    volume[1:3, 2:5, 0:2] = 3
    volume[4, 0, 3] = 1
    volume[0, 5, 1:4] = 7
    return volume


def _valid_files() -> dict[str, bytes]:
    """Small valid single-file NIfTI images, uncompressed, as nibabel writes them."""
    signed = _labels(np.int16)
    signed[0, 0, 0] = -4
    reals = _labels(np.float32)
    reals[2, 2, 2] = 0.25
    return {
        "uint8": nib.Nifti1Image(_labels(np.uint8), np.eye(4)).to_bytes(),
        "int16": nib.Nifti1Image(signed, np.eye(4)).to_bytes(),
        "float32": nib.Nifti1Image(reals, np.eye(4)).to_bytes(),
        "scaled": nib.Nifti1Image(reals * 3, np.eye(4), dtype=np.uint8).to_bytes(),
        "big-endian": nib.Nifti1Image(signed, np.eye(4),
                                      header=nib.Nifti1Header(endianness=">")).to_bytes(),
        "nifti2": nib.Nifti2Image(_labels(np.uint8), np.eye(4)).to_bytes(),
    }


VALID = _valid_files()
NIFTI1 = [name for name in VALID if name != "nifti2"]


# ------------------------------------------------------------------ the reference


def format_label(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def reference_volume_csv(path: Path, view: str) -> str:
    """The volume-mode box CSV of ``path`` computed from nibabel's voxels, voxel by voxel."""
    volume = np.asanyarray(nib.load(path).dataobj)
    if volume.ndim == 4:
        volume = volume[..., 0]
    x, y, z = VIEW_XYZ[view]
    lines = [VOLUME_HEADER]
    for value in np.unique(volume[volume > 0]):
        where = np.argwhere(volume == value)
        lo, hi = where.min(axis=0), where.max(axis=0)
        corners = [lo[x], lo[y], lo[z], hi[x], hi[y], hi[z]]
        lines.append(",".join(str(int(c)) for c in corners) + f",{format_label(value.item())}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the check


class Hang(BaseException):
    """Raised by the alarm; a ``BaseException`` so that no per-case handler swallows it."""


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    def alarm(signum, frame):
        raise Hang(f"no outcome after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def check_outcome(name: str, data: bytes, view: str = "axial") -> None:
    """Run one file through the public API: a correct CSV, or a listed one-line failure."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "masks").mkdir()
        path = root / "masks" / name
        path.write_bytes(data)
        output = root / "out"
        tracemalloc.start()
        try:
            with hang_guard(HANG_SECONDS):
                summary = extract_annotations_dataset(
                    root / "masks", output, view=view, extraction_mode="volume",
                    data_mode="box", include_label=True, max_voxels=MAX_VOXELS, progress=False,
                )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < PEAK_BYTES
        assert tree(root) - {"out", "masks"} - {f"out/{p}" for p in tree(output)} == {
            f"masks/{name}"}
        assert path.read_bytes() == data
        written = {p for p in tree(output) if not p.startswith(".niprep")}
        case = name.split(".")[0]
        if summary.failed:
            assert summary.done == 0
            with open(output / f"{view}_annotations_failures.csv", newline="") as handle:
                rows = list(csv.reader(handle))
            assert rows[0] == ["FILENAME", "ERROR"] and rows[1][0] == name and len(rows) == 2
            reason = rows[1][1]
            assert reason and "\n" not in reason and "applying transform" not in reason
            assert written == {f"{view}_annotations_failures.csv"}
        else:
            assert summary.done == 1
            csv_path = output / case / view / f"{case}.csv"
            assert csv_path.read_text() == reference_volume_csv(path, view)
            assert written == {case, f"{case}/{view}", f"{case}/{view}/{case}.csv"}


# ------------------------------------------------------------------ the strategies


@st.composite
def header_edits(draw) -> list[tuple[str, int | None, object]]:
    """One to three ``(field, index or None, value)`` edits of a NIfTI-1 header."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(HEADER.names))
        kind = HEADER[field]
        index = draw(st.integers(0, kind.shape[0] - 1)) if kind.shape else None
        values = hnp.from_dtype(kind.base)
        if kind.base.kind in "iu":
            limits = np.iinfo(kind.base)
            values = st.one_of(st.integers(max(limits.min, -2), min(limits.max, 40)), values)
        edits.append((field, index, draw(values)))
    return edits


def apply_header_edits(blob: bytes, edits: list[tuple[str, int | None, object]]) -> bytes:
    raw = bytearray(blob)
    header = np.frombuffer(raw, dtype=HEADER, count=1)
    for field, index, value in edits:
        if index is None:
            header[field] = value
        else:
            header[field][0, index] = value
    return bytes(raw)


def byte_edits(size: int):
    """Up to 8 ``(position, byte)`` overwrites, half of them within the first 352 bytes."""
    position = st.one_of(st.integers(0, 351), st.integers(0, size - 1))
    return st.lists(st.tuples(position, st.integers(0, 255)), min_size=1, max_size=8)


def apply_byte_edits(blob: bytes, edits: list[tuple[int, int]], keep: int | None) -> bytes:
    raw = bytearray(blob)
    for position, value in edits:
        raw[position % len(raw)] = value
    return bytes(raw[:keep])


# ------------------------------------------------------------------ the tests


@FUZZ
@given(
    base=st.sampled_from(NIFTI1),
    edits=header_edits(),
    compressed=st.booleans(),
    view=st.sampled_from(sorted(VIEW_XYZ)),
)
def test_mutated_header_fields_give_a_result_or_a_listed_failure(base, edits, compressed, view):
    blob = apply_header_edits(VALID[base], edits)
    if compressed:
        check_outcome("case.nii.gz", gzip.compress(blob, mtime=0), view)
    else:
        check_outcome("case.nii", blob, view)


@FUZZ
@given(data=st.data(), base=st.sampled_from(sorted(VALID)), compressed=st.booleans())
def test_mutated_bytes_give_a_result_or_a_listed_failure(data, base, compressed):
    blob = VALID[base]
    edits = data.draw(byte_edits(len(blob)))
    keep = data.draw(st.none() | st.integers(0, len(blob)))
    mutated = apply_byte_edits(blob, edits, keep)
    if compressed:
        check_outcome("case.nii.gz", gzip.compress(mutated, mtime=0))
    else:
        check_outcome("case.nii", mutated)


@FUZZ
@given(data=st.data(), base=st.sampled_from(sorted(VALID)))
def test_mutated_gzip_streams_give_a_result_or_a_listed_failure(data, base):
    stream = gzip.compress(VALID[base], mtime=0)
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(stream) - 1), st.integers(0, 255)),
                               max_size=4))
    keep = data.draw(st.none() | st.integers(0, len(stream)))
    check_outcome("case.nii.gz", apply_byte_edits(stream, edits, keep))


def test_unmutated_files_give_the_reference_result():
    for blob in VALID.values():
        check_outcome("case.nii", blob)
        check_outcome("case.nii.gz", gzip.compress(blob, mtime=0))
