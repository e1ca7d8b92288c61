"""The pipeline against a slow, obviously correct reference written here.

The rules are those of docs/reference.md (Annotations to Stats and failures files).

The reference scans a tiny volume voxel by voxel (``np.argwhere`` per value, a
breadth-first flood fill per component), maps voxels to the view with the table of its
Coordinates section, and formats every CSV itself following its Annotation CSVs.
Hypothesis draws volumes (seven dtypes, negative and non-integer values, several voxel
sizes), views, modes and options; the files written by ``extract_annotations_dataset``
(or, for one case, ``extract_annotations``) must equal the reference's, byte for byte.
"""

from __future__ import annotations

import tempfile
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from conftest import neighbour_steps, read_failures, read_tree, write_nifti
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from niprep import extract_annotations, extract_annotations_dataset

# ---------------------------------------------------------------- the reference

SLICE_HEADERS = {
    "center": "CENTER_X,CENTER_Y",
    "box": "X_MIN,Y_MIN,X_MAX,Y_MAX",
    "radius": "CENTER_X,CENTER_Y,RADIUS_X,RADIUS_Y",
}
VOLUME_HEADERS = {
    "center": "CENTER_X,CENTER_Y,CENTER_Z",
    "box": "X_MIN,Y_MIN,Z_MIN,X_MAX,Y_MAX,Z_MAX",
    "radius": "CENTER_X,CENTER_Y,CENTER_Z,RADIUS_X,RADIUS_Y,RADIUS_Z",
}


def reference_annotations(volume, instances, connectivity, min_voxels, min_volume_mm3,
                          voxel_mm3):
    """``[(value, [(i, j, k), ...]), ...]`` in the CSVs' order."""
    found = []
    for value in sorted(set(volume[volume > 0].tolist())):
        voxels = [tuple(v) for v in np.argwhere(volume == value).tolist()]  # C order
        if instances == "label":
            found.append((value, voxels))
            continue
        unvisited = set(voxels)
        for seed in voxels:  # a component is met first at its first voxel in C order
            if seed not in unvisited:
                continue
            unvisited.remove(seed)
            component, queue = [], deque([seed])
            while queue:
                voxel = queue.popleft()
                component.append(voxel)
                for step in neighbour_steps(connectivity):
                    other = (voxel[0] + step[0], voxel[1] + step[1], voxel[2] + step[2])
                    if other in unvisited:
                        unvisited.remove(other)
                        queue.append(other)
            if len(component) >= min_voxels and len(component) * voxel_mm3 >= min_volume_mm3:
                found.append((value, component))
    return found


def to_view(voxel, view):
    """``(s, row, col)`` of an ``(i, j, k)`` voxel (the table of docs/reference.md, Coordinates)."""
    i, j, k = voxel
    return {"axial": (k, i, j), "coronal": (j, i, k), "sagittal": (i, j, k)}[view]


def number(value) -> str:
    """A ``LABEL``: an integer when integral, else the repr of the float."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def values_text(lo, hi, data_mode):
    """``lo``/``hi`` are inclusive corners in the order X, Y[, Z]."""
    if data_mode == "box":
        return [str(v) for v in lo] + [str(v) for v in hi]
    centers = [repr((a + b) / 2) for a, b in zip(lo, hi)]
    if data_mode == "center":
        return centers
    return centers + [repr((b - a) / 2) for a, b in zip(lo, hi)]


def reference_files(volume, case, voxel_mm3, options, folder):
    """``({relative path: text}, annotation count)`` of one case, or ``None`` if it fails.

    ``folder`` is the prefix of the case's files in the output (``""``: straight in it).
    """
    view, data_mode = options["view"], options["data_mode"]
    shapes = {"axial": (volume.shape[0], volume.shape[1], volume.shape[2]),
              "coronal": (volume.shape[0], volume.shape[2], volume.shape[1]),
              "sagittal": (volume.shape[1], volume.shape[2], volume.shape[0])}
    rows_h, cols_w, num_slices = shapes[view]
    off_row = off_col = 0
    if options["target_size"] is not None:
        height, width = options["target_size"]
        if height < rows_h or width < cols_w:
            return None
        off_row, off_col = (height - rows_h) // 2, (width - cols_w) // 2
    found = reference_annotations(volume, options["instances"], options["connectivity"],
                                  options["min_voxels"], options["min_volume_mm3"], voxel_mm3)
    label = options["include_label"]

    def line(fields, value):
        return ",".join(fields + ([number(value)] if label else [])) + "\n"

    def box(points):  # view-frame points -> ([X, Y, S] min, [X, Y, S] max)
        xs = [p[2] + off_col for p in points]
        ys = [p[1] + off_row for p in points]
        ss = [p[0] for p in points]
        return [min(xs), min(ys), min(ss)], [max(xs), max(ys), max(ss)]

    if options["extraction_mode"] == "volume":
        text = VOLUME_HEADERS[data_mode] + (",LABEL" if label else "") + "\n"
        for value, voxels in found:
            lo, hi = box([to_view(v, view) for v in voxels])
            text += line(values_text(lo, hi, data_mode), value)
        return {f"{folder}{case}.csv": text}, len(found)
    rows = {s: "" for s in range(num_slices)}
    for value, voxels in found:
        points = [to_view(v, view) for v in voxels]
        first, last = box(points)[0][2], box(points)[1][2]
        for s in range(first, last + 1):
            shown = points if options["box_scope"] == "volume" else [p for p in points
                                                                    if p[0] == s]
            if shown:
                lo, hi = box(shown)
                rows[s] += line(values_text(lo[:2], hi[:2], data_mode), value)
    header = SLICE_HEADERS[data_mode] + (",LABEL" if label else "") + "\n"
    files = {
        f"{folder}{case}_{view}_{s:03d}.csv": header + text
        for s, text in rows.items()
        if text or options["write_empty"]
    }
    return files, len(found)


def reference_tree(cases, options):
    """Every CSV of a run over ``[(filename, volume, voxel_mm3)]``, stats included."""
    tree, counts = {}, []
    failed = []
    for filename, volume, voxel_mm3 in sorted(cases, key=lambda case: case[0]):
        case = filename.removesuffix(".nii.gz").removesuffix("_bbox")
        folder = f"{case}/{options['view']}/" if options["saving_mode"] == "case" else (
            f"{options['view']}/")
        produced = reference_files(volume, case, voxel_mm3, options, folder)
        if produced is None:
            failed.append(filename)
            continue
        files, count = produced
        tree.update(files)
        counts.append((filename, count))
    if options["save_stats"]:
        total = sum(count for _, count in counts)
        tree[f"{options['view']}_annotations_stats.csv"] = (
            "FILENAME,NUM_ANNOTATIONS\n"
            + "".join(f"{name},{count}\n" for name, count in counts)
            + f"TOTAL_ANNOTATIONS,{total}\n"
        )
    return tree, failed


# ---------------------------------------------------------------- the strategies

VALUE_POOLS = {
    np.uint8: [1, 2, 5, 255],
    np.int8: [-128, -1, 1, 127],
    np.int16: [-3, 1, 2, 7, 300],
    np.uint16: [1, 300, 65535],
    np.int32: [-7, 1, 70000],
    np.float32: [-1.5, 0.5, 1.0, 2.25, 0.1],
    np.float64: [-2.0, 1e-3, 0.25, 3.0],
}
ZOOMS = [(1.0, 1.0, 1.0), (2.0, 2.0, 2.0), (0.5, 1.0, 2.0)]


@st.composite
def volumes(draw):
    dtype = draw(st.sampled_from(sorted(VALUE_POOLS, key=lambda t: t.__name__)))
    shape = draw(st.tuples(st.integers(1, 7), st.integers(1, 8), st.integers(1, 6)))
    pool = draw(st.lists(st.sampled_from(VALUE_POOLS[dtype]), min_size=1, max_size=3,
                         unique=True))
    # mostly background, so that boxes, gaps and empty slices all happen
    elements = st.one_of(st.just(0), st.just(0), st.sampled_from(pool))
    # fill=st.nothing(): every voxel is drawn, not one fill value plus a few others
    return draw(hnp.arrays(dtype, shape, elements=elements, fill=st.nothing()))


@st.composite
def option_sets(draw):
    instances = draw(st.sampled_from(["label", "components"]))
    components = instances == "components"
    extraction_mode = draw(st.sampled_from(["slice", "volume"]))
    per_slice = extraction_mode == "slice"  # box_scope and write_empty apply only there
    return {
        "view": draw(st.sampled_from(["axial", "coronal", "sagittal"])),
        "saving_mode": draw(st.sampled_from(["case", "view"])),
        "extraction_mode": extraction_mode,
        "data_mode": draw(st.sampled_from(["center", "box", "radius"])),
        "target_size": draw(st.one_of(st.none(), st.tuples(st.integers(1, 11),
                                                           st.integers(1, 11)))),
        "save_stats": draw(st.booleans()),
        "instances": instances,
        "connectivity": draw(st.sampled_from([6, 18, 26])) if components else 26,
        "min_voxels": draw(st.integers(0, 3)) if components else 0,
        "min_volume_mm3": draw(st.sampled_from([0.0, 2.0, 9.0])) if components else 0.0,
        "box_scope": draw(st.sampled_from(["volume", "slice"])) if per_slice else "volume",
        "include_label": draw(st.booleans()),
        "write_empty": draw(st.booleans()) if per_slice else False,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=volumes(),
    second=st.one_of(st.none(), volumes()),
    zooms=st.sampled_from(ZOOMS),
    options=option_sets(),
)
def test_pipeline_matches_the_reference(first, second, zooms, options):
    cases = [("b_bbox.nii.gz", first, float(np.prod(zooms)))]
    if second is not None:
        cases.append(("a.nii.gz", second, float(np.prod(zooms))))
    expected, failed = reference_tree(cases, options)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for filename, volume, _ in cases:
            write_nifti(root / "in" / filename, volume, np.diag([*zooms, 1.0]))
        summary = extract_annotations_dataset(root / "in", root / "out", progress=False,
                                              **options)
        failures = dict(read_failures(root / "out", options["view"]))
        written = read_tree(root / "out")
    written.pop(f"{options['view']}_annotations_failures.csv", None)
    assert written == expected
    assert list(failures) == failed
    assert summary.failed == len(failed)
    assert summary.done == len(cases) - len(failed)
    assert summary.files_written == sum(
        1 for path in expected if not path.endswith("_annotations_stats.csv")
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(volume=volumes(), zooms=st.sampled_from(ZOOMS), options=option_sets())
def test_single_case_function_matches_the_reference(volume, zooms, options):
    options = {**options, "save_stats": False}
    saving_mode = options.pop("extraction_mode")  # the single-case name of the option
    del options["saving_mode"]
    produced = reference_files(volume, "v", float(np.prod(zooms)),
                               {**options, "extraction_mode": saving_mode}, folder="")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = write_nifti(root / "v_bbox.nii", volume, np.diag([*zooms, 1.0]))
        if produced is None:
            with pytest.raises(ValueError, match="smaller than the slice"):
                extract_annotations(path, root / "out", saving_mode=saving_mode,
                                    progress=False, **options)
            return
        summary = extract_annotations(path, root / "out", saving_mode=saving_mode,
                                      progress=False, **options)
        written = read_tree(root / "out")
    expected, count = produced
    assert written == expected
    assert (summary.done, summary.failed, int(summary)) == (1, 0, count)
