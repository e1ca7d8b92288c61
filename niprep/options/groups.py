"""Every option of niprep, declared once, in the groups the entry points take.

Adding an option is one :class:`~niprep.options.declare.Option` line in its group (plus
its test); the Python signatures, the ``niprep`` keys and ``--help``, the fingerprint and
the errors follow. docs/reference.md describes each option for users.
"""

from __future__ import annotations

from niprep.core.boxes import BOX_FORMATS
from niprep.core.classes import check_classes
from niprep.options import checks
from niprep.options.declare import Group, Needs, Option

VIEWS = ("axial", "coronal", "sagittal")
SAVING_MODES = ("case", "view")
EXTRACTION_MODES = ("slice", "volume")
DATA_MODES = ("center", "box", "radius")
INSTANCE_MODES = ("label", "components")
BACKENDS = ("auto", "serial", "process", "dask")
EXPORT_FORMATS = ("yolo", "coco", "monai")

COMPONENTS = Needs("instances", lambda value: value == "components", "instances='components'")
PER_SLICE = Needs("extraction_mode", lambda value: value == "slice", "extraction_mode='slice'")
DRAWN = Needs("preview", lambda count: count > 0, "preview=N (N > 0)")
PICTURES = Needs("format", lambda name: name != "monai", "format='yolo' or format='coco'")
VOLUMES = Needs("format", lambda name: name == "monai", "format='monai'")

VIEW = Group("view", (
    Option("view", "axial", checks.choice(*VIEWS), "the array axis sliced"),
    Option("target_size", None, checks.target_size,
           "(H, W) the slices are (or the images were) padded to, or None"),
))

LAYOUT = Group("layout", (
    Option("saving_mode", "case", checks.choice(*SAVING_MODES),
           "'case': <out>/<case>/<view>/, 'view': <out>/<view>/"),
))

INPUT = Group("input", (
    Option("orientation", None, checks.orientation,
           "reorient to this axis code first, such as 'RAS' (None: as stored)"),
    Option("strip_suffix", "_bbox", checks.optional_text,
           "removed from the end of case names (None or '': kept)"),
    Option("max_voxels", 2**31, checks.count(1),
           "refuse volumes whose header declares more voxels"),
))

ANNOTATION = Group("annotation", (
    Option("instances", "label", checks.choice(*INSTANCE_MODES),
           "'label': each value is one annotation; 'components': each connected component"),
    Option("connectivity", 26, checks.choice(6, 18, 26),
           "neighbours that connect a component: 6, 18 or 26", COMPONENTS),
    Option("min_voxels", 0, checks.count(0), "drop components with fewer voxels", COMPONENTS),
    Option("min_volume_mm3", 0.0, checks.non_negative,
           "drop components with a smaller physical volume (mm^3)", COMPONENTS),
    Option("box_scope", "volume", checks.choice("volume", "slice"),
           "'volume': the 3-D box on every slice; 'slice': the tight box of each slice",
           PER_SLICE),
))

CSV = Group("csv", (
    Option("extraction_mode", "slice", checks.choice(*EXTRACTION_MODES),
           "'slice': a CSV per slice; 'volume': a CSV per case"),
    Option("data_mode", "center", checks.choice(*DATA_MODES),
           "the columns written: 'center', 'box' or 'radius'"),
    Option("include_label", False, checks.flag, "append a LABEL column (the voxel value)"),
    Option("write_empty", False, checks.flag,
           "write a header-only CSV for every slice without annotation", PER_SLICE),
))

IMAGE = Group("image", (
    Option("pad_value", 0.0, checks.finite, "the value of the pixels added for target_size"),
    Option("normalization", None, checks.choice(None, "min-max"),
           "None: values as stored; 'min-max': the volume's range to 0..1 (float32)"),
))

NAMED_CLASSES = Needs("classes", lambda mapping: mapping is not None, "classes={value: name}")
WINDOWED = Needs("window", lambda window: window is not None, "a window")

# how image values become pictures: the training samples and the detection exports
PICTURE = Group("picture", (
    Option("window", None, checks.window,
           "an intensity window: a CT preset ('ct-soft-tissue', 'ct-lung', 'ct-bone', "
           "'ct-brain', 'ct-liver'), 'percentile' or [level, width] (None: none)"),
    Option("channels", 1, checks.choice(1, 3),
           "1, or 3 for the previous, this and the next slice"),
))

SAMPLES = Group("samples", (
    Option("include_empty", True, checks.flag, "also serve slices without annotation"),
    Option("box_mode", "csv", checks.choice("csv", "monai"),
           "'csv': X_MIN, Y_MIN, X_MAX, Y_MAX inclusive; 'monai': row, col, exclusive max"),
    Option("box_format", None, checks.choice(None, *BOX_FORMATS),
           "boxes as 'csv', 'xyxy', 'monai', 'cxcywh' or 'coco' (None: as box_mode)"),
    Option("label_offset", 0, checks.count(0),
           "the id of the first class (1 for torchvision)", NAMED_CLASSES),
    Option("image_dtype", "float32", checks.choice("float32", "uint8"),
           "the items' image dtype; 'uint8' holds the windowed grey levels", WINDOWED),
    Option("store", "auto", checks.store,
           "the decoded-volume store's folder, 'auto' (~/.cache/niprep) or None"),
    Option("store_limit", 20 * 2**30, checks.count(1),
           "the most bytes the decoded-volume store holds"),
))

CLASSES = Group("classes", (
    Option("classes", None, lambda name, value: check_classes(value),
           "{mask value: class name} of the values a mask may hold (None: every value)"),
))

# images paired with their masks by case name: the dataset check and the exports
PAIRS = Group("pairs", (
    Option("image_folder", None, checks.optional_folder,
           "the images paired with the masks by case name (task=check: None checks the "
           "masks alone)"),
    Option("affine_tolerance", 0.01, checks.non_negative,
           "mm a voxel-grid corner may move between image and mask"),
), shapes_output=False)

# the dataset check's own options: they judge the per-case facts, never change them
CHECK = Group("check", (
    Option("spacing_tolerance", 0.01, checks.non_negative,
           "relative difference allowed between image and mask voxel sizes"),
    Option("spacing_outlier", 2.0, checks.at_least(1),
           "a voxel size more than this many times (or under 1/this) the median is reported"),
    Option("rare_label_share", 0.05, checks.fraction,
           "without classes, a value held by fewer than this share of the masks is reported"),
), shapes_output=False)

RUN = Group("run", (
    Option("workers", 1, checks.count(1), "cases processed at once"),
    Option("backend", "auto", checks.choice(*BACKENDS),
           "'auto', 'serial', 'process' or 'dask'"),
    Option("dask_address", None, checks.optional_text,
           "scheduler address of an existing dask cluster"),
    Option("resume", False, checks.flag,
           "skip cases whose input and options are unchanged since written"),
    Option("progress", True, checks.flag, "show a progress bar"),
    Option("save_stats", False, checks.flag, "write <out>/<view>_<task>_stats.csv"),
), shapes_output=False)

PREVIEW = Group("preview", (
    Option("preview", 0, checks.count(0), "draw this many slices into <out>/preview/"),
    Option("preview_images", None, checks.optional_folder,
           "draw the annotation preview over these images (paired by case name)", DRAWN),
    Option("preview_masks", None, checks.optional_folder,
           "draw the boxes of these masks (paired by case name) on the slices preview", DRAWN),
), shapes_output=False)

EXPORT = Group("export", (
    Option("format", "yolo", checks.choice(*EXPORT_FORMATS),
           "'yolo' or 'coco' (PNG slices and 2-D boxes) or 'monai' (3-D detection data list)"),
    Option("split", (0.8, 0.2, 0.0), checks.fractions,
           "[train, val, test] fractions of the cases (whole cases, never slices)"),
    Option("split_seed", 0, checks.whole, "the seed of the deterministic split"),
    Option("group_pattern", None, checks.group_pattern,
           "regex whose first group names the patient: a patient's cases share a split"),
    Option("split_file", None, checks.optional_file,
           "reuse the split.json of an earlier export (split, split_seed, group_pattern unused)"),
))

EXPORT_PICTURES = Group("export_pictures", (
    Option("negatives", "all", checks.negatives,
           "slices without a box: 'all', 'none', or this many per slice with a box", PICTURES),
    Option("negatives_within", None, checks.choice(None, "image"),
           "'image': negatives only among slices holding image voxels above the minimum",
           PICTURES),
    Option("png_level", 1, checks.choice(*range(10)),
           "zlib level of the PNGs: 1 encodes fastest, 9 writes the smallest files", PICTURES),
))

EXPORT_VOLUMES = Group("export_volumes", (
    Option("box_space", "voxel", checks.choice("voxel", "world"),
           "'voxel': xyzxyz half-open voxel boxes; 'world': cccwhd in mm", VOLUMES),
    Option("world_frame", "RAS", checks.choice("RAS", "LPS"),
           "the world axes of box_space='world': 'RAS' (NIfTI) or 'LPS' (ITK, LUNA16)",
           VOLUMES),
))
