"""Both ways of finding extents (numba kernel, plain numpy) against a slow reference, and
the background compile that lets a run use numpy until the kernel is in numba's cache."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from niprep.core.compile_aside import kernel_ready, wait_for_compiles
from niprep.core.extents import _scan, _slot_table
from niprep.core.extents_numpy import scan_walk

DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
          "float32", "float64"]
# the kernel compiles for seconds per type and layout: these are checked against it too
KERNEL_CHECKED = {("uint8", "C"), ("uint8", "A"), ("int16", "C"), ("float32", "C")}


def reference_scan(walk: np.ndarray, rank_weights: np.ndarray, slice_axis: int):
    """The kernel's tables, voxel by voxel in the walk's C order."""
    slot_of: dict = {}
    values, lo, hi, voxels, first, seen = [], [], [], [], [], []
    n_slices = walk.shape[slice_axis] if slice_axis >= 0 else 0
    for index in np.ndindex(walk.shape):
        value = walk[index]
        if not value > 0:
            continue
        if value.item() not in slot_of:
            slot_of[value.item()] = len(values)
            values.append(value)
            lo.append(list(index))
            hi.append(list(index))
            voxels.append(0)
            first.append(sum(i * w for i, w in zip(index, rank_weights.tolist())))
            seen.append({})
        slot = slot_of[value.item()]
        lo[slot] = [min(a, b) for a, b in zip(lo[slot], index)]
        hi[slot] = [max(a, b) for a, b in zip(hi[slot], index)]
        voxels[slot] += 1
        first[slot] = min(first[slot], sum(i * w for i, w in zip(index, rank_weights.tolist())))
        if slice_axis >= 0:
            others = [index[axis] for axis in range(3) if axis != slice_axis]
            seen[slot].setdefault(index[slice_axis], []).append(others)
    count = len(values)
    s_lo = np.full((n_slices, count if slice_axis >= 0 else 0, 2), -1, dtype=np.int64)
    s_hi = s_lo.copy()
    for slot, per_slice in enumerate(seen):
        for s, points in per_slice.items():
            s_lo[s, slot] = np.min(points, axis=0)
            s_hi[s, slot] = np.max(points, axis=0)
    return (np.array(values, dtype=walk.dtype), np.array(lo, dtype=np.int64).reshape(-1, 3),
            np.array(hi, dtype=np.int64).reshape(-1, 3), np.array(voxels, dtype=np.int64),
            np.array(first, dtype=np.int64), s_lo, s_hi)


def assert_same_tables(got, expected) -> None:
    for name, a, b in zip(("values", "lo", "hi", "voxels", "first", "slice_lo", "slice_hi"),
                          got, expected):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@st.composite
def walks(draw):
    """A small array of any scanned type, contiguous (``C``) or a strided view (``A``)."""
    dtype = draw(st.sampled_from(DTYPES))
    values = [1, 3, 100]
    if not dtype.startswith("uint"):
        values.append(-2)
    if dtype.startswith("float"):
        values += [0.5, 2.75, float("nan"), float("inf")]
    elements = st.one_of(st.just(0), st.just(0), st.sampled_from(values))
    shape = draw(st.tuples(st.integers(1, 6), st.integers(1, 7), st.integers(1, 6)))
    array = draw(hnp.arrays(dtype, shape, elements=elements, fill=st.nothing()))
    if draw(st.booleans()):  # a flipped view, as an oriented volume is
        array = array[::-1, :, ::-1]
    return array


@settings(max_examples=200, deadline=None)
@given(walk=walks(), slice_axis=st.integers(-1, 2),
       rank_weights=st.lists(st.integers(0, 60), min_size=3, max_size=3))
def test_numpy_and_kernel_paths_equal_the_reference(walk, slice_axis, rank_weights):
    weights = np.array(rank_weights, dtype=np.int64)
    expected = reference_scan(walk, weights, slice_axis)
    assert_same_tables(scan_walk(walk, weights, slice_axis), expected)
    if (walk.dtype.name, numba.typeof(walk).layout) in KERNEL_CHECKED:
        assert_same_tables(_scan(walk, _slot_table(walk.dtype), weights, slice_axis), expected)


def test_the_numpy_path_takes_a_large_volume_in_blocks():
    """More voxels than one block: values met first in a later block keep their order."""
    rng = np.random.default_rng(7)
    walk = np.zeros((40, 200, 150), dtype=np.uint8)
    walk[5:9, 10:50, 20:30] = 9
    walk[35:40, 100:180, 0:150] = rng.integers(0, 4, (5, 80, 150))
    walk[2, 199, 149] = 4
    weights = np.array([1, 40, 8000], dtype=np.int64)
    got = scan_walk(walk, weights, 1)
    np.testing.assert_array_equal(got[0][:2], [4, 9])
    assert sorted(got[0][2:].tolist()) == [1, 2, 3]
    np.testing.assert_array_equal(got[3][:2], [1, 4 * 40 * 10])
    for a, b in zip(got, _scan(walk, _slot_table(walk.dtype), weights, 1)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("flipped", [False, True])
def test_runs_longer_than_a_compared_block(flipped):
    """Runs of every length from 1 to 40 voxels, ending on and beside the kernel's block
    boundaries, in a contiguous and in a flipped row."""
    lengths = np.arange(1, 41)
    row = np.repeat(np.resize(np.array([3, 0, 7, 3], dtype=np.uint8), lengths.size), lengths)
    walk = np.stack([np.roll(row, shift) for shift in range(8)])[None]
    if flipped:
        walk = walk[:, :, ::-1]
    weights = np.array([1, 3, 7], dtype=np.int64)
    for slice_axis in (-1, 0, 2):
        expected = reference_scan(walk, weights, slice_axis)
        assert_same_tables(_scan(walk, _slot_table(walk.dtype), weights, slice_axis), expected)


TOY_KERNEL = '''
import numba


@numba.njit(cache=True)
def twice(values):
    return values * 2
'''


@pytest.fixture
def toy_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A jitted function in its own module, with an empty numba cache of its own."""
    (tmp_path / "toy_kernel.py").write_text(TOY_KERNEL)
    cache = tmp_path / "numba-cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))  # for the compiling process
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(cache))  # for this one
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "toy_kernel", raising=False)
    return importlib.import_module("toy_kernel").twice


def test_a_kernel_is_compiled_aside_then_loaded_from_the_cache(toy_kernel):
    integers = (numba.typeof(np.arange(3)),)
    assert not kernel_ready(toy_kernel, integers)  # a process compiles it
    wait_for_compiles()
    assert kernel_ready(toy_kernel, integers)
    assert dict(toy_kernel.stats.cache_misses) == {}  # nothing was compiled here
    assert dict(toy_kernel.stats.cache_hits) == {integers: 1}
    np.testing.assert_array_equal(toy_kernel(np.arange(3)), [0, 2, 4])
    assert list(toy_kernel.overloads) == [integers]


def test_a_kernel_without_a_usable_cache_compiles_at_its_call(tmp_path, monkeypatch):
    """A compile aside that cannot fill a cache does not leave the caller waiting on it."""
    (tmp_path / "plain_kernel.py").write_text(TOY_KERNEL.replace("cache=True", "cache=False"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "plain_kernel", raising=False)
    kernel = importlib.import_module("plain_kernel").twice
    integers = (numba.typeof(np.arange(3)),)
    assert not kernel_ready(kernel, integers)
    wait_for_compiles()
    assert kernel_ready(kernel, integers)  # nothing in a cache: it compiles at its call
    assert dict(kernel.stats.cache_hits) == {}
    np.testing.assert_array_equal(kernel(np.arange(3)), [0, 2, 4])


def test_a_kernel_compiles_at_its_call_when_no_process_can_start(toy_kernel, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    integers = (numba.typeof(np.arange(3)),)
    assert kernel_ready(toy_kernel, integers)
    np.testing.assert_array_equal(toy_kernel(np.arange(3)), [0, 2, 4])
