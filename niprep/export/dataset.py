"""The dataset-level files of an export, assembled from the cases' parts after the run.

* every format: ``split.json`` (:mod:`niprep.export.split`);
* ``yolo``: ``data.yaml`` (``path``, the splits that exist, ``names``);
* ``coco``: ``annotations/instances_<split>.json`` for each split that exists;
* ``monai``: ``datalist.json`` (``training``, ``validation``, ``test`` for the splits that
  exist, as ``monai.data.load_decathlon_datalist`` reads it with ``is_segmentation=False``).

Each file is written aside under ``.niprep/`` and renamed into place, so a reader never
sees half a file; the same cases, split and classes give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

import niprep
from niprep.core.classes import ClassMap
from niprep.export.split import SPLIT_FILE, SPLITS, Split

#: the data-list key of each split, as MONAI's detection tutorials name them
MONAI_KEYS = {"train": "training", "val": "validation", "test": "test"}
DATA_YAML = "data.yaml"
DATALIST = "datalist.json"


def coco_file(split: str) -> str:
    """``annotations/instances_<split>.json``."""
    return f"annotations/instances_{split}.json"


def data_yaml(output: Path, splits: Sequence[str], class_map: ClassMap) -> str:
    """The Ultralytics dataset file.

    Args:
        output: the output folder (absolute): the dataset root.
        splits: the splits that exist.
        class_map: the classes (ids from 0).
    """
    document: dict[str, Any] = {"path": str(output)}
    document.update((split, f"images/{split}") for split in splits)
    document["names"] = class_map.id_names()
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def coco_json(parts: Sequence[dict[str, Any]], class_map: ClassMap) -> str:
    """One split's COCO instances file: image and annotation ids from 1, in case order.

    Args:
        parts: the parts of the split's cases, in case order.
        class_map: the classes (category ids from 1).
    """
    images, annotations = [], []
    for part in parts:
        for picture in part["images"]:
            image_id = len(images) + 1
            images.append({"id": image_id, **{key: value for key, value in picture.items()
                                              if key != "annotations"}})
            for annotation in picture["annotations"]:
                annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                    **annotation})
    document = {
        "info": {"description": "exported by niprep", "version": niprep.__version__},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": name} for i, name in class_map.id_names().items()],
    }
    return json.dumps(document, separators=(",", ":")) + "\n"


def datalist_json(
    parts: Sequence[dict[str, Any]], splits: Sequence[str], class_map: ClassMap
) -> str:
    """The MONAI detection data list: a key per split that exists (MONAI's loader refuses
    an empty list), entries in case order.

    Args:
        parts: the parts of every case, in case order.
        splits: the splits that exist.
        class_map: the classes (ids from 0).
    """
    document: dict[str, Any] = {
        MONAI_KEYS[split]: [part["entry"] for part in parts if part["split"] == split]
        for split in splits
    }
    document["classes"] = {str(i): name for i, name in class_map.id_names().items()}
    return json.dumps(document, separators=(",", ":")) + "\n"


def dataset_files(
    output: Path, format: str, split: Split, class_map: ClassMap, parts: Sequence[dict]
) -> dict[str, str | None]:
    """``{relative path: text}`` of the dataset files (``None``: a file to remove).

    Args:
        output: the output folder (absolute).
        format: ``"yolo"``, ``"coco"`` or ``"monai"``.
        split: the split of the cases.
        class_map: the classes.
        parts: the parts of the cases written, in case order.
    """
    files: dict[str, str | None] = {SPLIT_FILE: split.to_json()}
    if format == "yolo":
        files[DATA_YAML] = data_yaml(output, split.names(), class_map)
    elif format == "coco":
        for name in SPLITS:
            chosen = [part for part in parts if part["split"] == name]
            files[coco_file(name)] = (coco_json(chosen, class_map)
                                      if name in split.names() else None)
    else:
        files[DATALIST] = datalist_json(parts, split.names(), class_map)
    return files
