"""The ``niprep`` command: a Hydra application over the dataset functions (SPEC section 10).

::

    niprep nii_folder=data/masks output_path=out view=coronal data_mode=box
    niprep -m view=axial,coronal,sagittal nii_folder=data/masks output_path=out
    niprep task=slices nii_folder=data/scans output_path=out/images target_size=[512,512]
    niprep task=check image_folder=data/scans nii_folder=data/masks output_path=qc

The keys are ``nii_folder``, ``output_path`` and every field of
:class:`~niprep.config.ExtractOptions`, with its defaults and its validation (the
``niprep_options`` config node is built from it); ``task`` picks the function. The
configuration, the input folder and the output folder are checked before MONAI, torch
or numba are imported, so ``--help`` and mistakes answer at once. Exit status: 0 every case done,
1 some cases failed, 2 bad configuration, input or output (one line on stderr).
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import hydra
from hydra._internal.utils import get_args_parser
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import HydraException
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from niprep.check.options import CheckOptions
from niprep.config import ExtractOptions
from niprep.run.inputs import find_cases
from niprep.run.output_tree import check_output
from niprep.run.staging import describe_error

TASKS = {"annotations": "extract_annotations_dataset", "slices": "extract_slices_dataset",
         "check": "check_dataset"}
REQUIRED_KEYS = ("nii_folder", "output_path")
PATH_KEYS = (*REQUIRED_KEYS, "preview_images", "preview_masks", "image_folder")
OPTION_KEYS = tuple(field.name for field in dataclasses.fields(ExtractOptions))
#: the keys of task=check only (image_folder, classes, the tolerances), with their defaults
CHECK_KEYS = {"image_folder": None} | {
    field.name: field.default for field in dataclasses.fields(CheckOptions)
    if field.name not in OPTION_KEYS
}
OPTIONS_NODE = "niprep_options"
ALL_DONE, CASES_FAILED, USAGE_ERROR = 0, 1, 2


def config_dir() -> Path:
    """``conf/``: inside the installed package, or at the top of a source checkout."""
    installed = Path(__file__).with_name("conf")
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "conf"


@functools.cache
def _multirun_scratch() -> str:
    """A temporary folder for Hydra's ``multirun.yaml``, removed when the command ends."""
    folder = tempfile.mkdtemp(prefix="niprep-multirun-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def register_configs() -> None:
    """Store the option keys and defaults (from ExtractOptions) and the ``niprep_scratch``
    resolver where Hydra finds them."""
    defaults = dataclasses.asdict(ExtractOptions()) | CHECK_KEYS
    ConfigStore.instance().store(name=OPTIONS_NODE, node=defaults)
    OmegaConf.register_new_resolver("niprep_scratch", _multirun_scratch, replace=True)


def override_error(overrides: list[str], multirun: bool) -> str | None:
    """Why the command-line overrides cannot work (unknown key, unknown task, a sweep
    without ``-m``), or ``None``.

    Hydra would say so too, in several lines and with exit status 1; this says it in one.

    Args:
        overrides: the ``key=value`` arguments.
        multirun: ``-m`` / ``--multirun`` was given.
    """
    parser = OverridesParser.create()
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except HydraException as error:
            return f"cannot read {text!r}: {' '.join(str(error).split())}"
        key = override.key_or_group
        if override.is_hydra_override() or override.type != OverrideType.CHANGE:
            continue
        if override.is_sweep_override() and not multirun:
            return (f"{text!r} is a sweep: add -m to run once per value, or write a list as "
                    f"{key}=[a,b] or a string as {key}='a,b'")
        if key == "task":
            names = (list(override.sweep_string_iterator()) if override.is_sweep_override()
                     else [override.value()])
            for name in names:
                if name not in TASKS:
                    return f"task={name!r} is not valid; choose one of {', '.join(TASKS)}"
        elif key not in (*REQUIRED_KEYS, *OPTION_KEYS, *CHECK_KEYS):
            return (f"unknown key {key!r} in {override.input_line!r}; "
                    "`niprep --help` lists the keys")
    return None


def job_settings(cfg: DictConfig) -> dict[str, Any]:
    """The keyword arguments of the task function: the config, paths made absolute.

    Args:
        cfg: the composed Hydra config of one run.

    Raises:
        ValueError: a required key is missing, or a path key is not a path.
    """
    for key in REQUIRED_KEYS:
        if OmegaConf.is_missing(cfg, key):
            raise ValueError(f"{key} is required: add {key}=PATH (`niprep --help` lists the keys)")
    settings = OmegaConf.to_container(cfg, resolve=True)
    for key in PATH_KEYS:
        value = settings.get(key)
        if value is None and key not in REQUIRED_KEYS:
            continue
        if not isinstance(value, str) or not value:
            raise ValueError(f"{key}={value!r} is not valid; use a folder path")
        settings[key] = os.path.normpath(to_absolute_path(value))
    return settings


def task_settings(task: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``settings`` that ``task`` takes; the others must be at their defaults.

    Args:
        task: the task's name.
        settings: every key of the config.

    Raises:
        ValueError: a key the task does not take is set.
    """
    if task == "check":
        taken = {*REQUIRED_KEYS, *CHECK_KEYS, *(f.name for f in dataclasses.fields(CheckOptions))}
        defaults = dataclasses.asdict(ExtractOptions())
    else:
        taken = {*REQUIRED_KEYS, *OPTION_KEYS}
        defaults = CHECK_KEYS
    for key, value in settings.items():
        if key not in taken and value != defaults[key]:
            where = "task=check only" if task != "check" else "the other tasks, not task=check"
            raise ValueError(f"{key}={value!r} is a key of {where}; leave it out")
    return {key: value for key, value in settings.items() if key in taken}


def run_check(settings: dict[str, Any]) -> int:
    """Run ``task=check``; print its one-line summary; 0 without error finding, else 1.

    Args:
        settings: the keys task=check takes, paths absolute.
    """
    options = {key: value for key, value in settings.items()
               if key not in (*REQUIRED_KEYS, "image_folder")}
    CheckOptions.from_mapping(options)
    for folder in (settings["image_folder"], settings["nii_folder"]):
        if folder is not None:
            find_cases(folder, options.get("strip_suffix", "_bbox"))
    check_output(settings["output_path"])
    check = importlib.import_module("niprep.check.api").check_dataset
    summary = check(settings["image_folder"], settings["nii_folder"], settings["output_path"],
                    **options)
    report = Path(settings["output_path"], "check.csv")
    print(f"niprep check: {summary.line()}; findings in {report}", flush=True)
    return CASES_FAILED if summary.errors else ALL_DONE


def run_job(cfg: DictConfig) -> int:
    """Run the chosen task once; report in one line; return the exit status.

    Args:
        cfg: the composed Hydra config of one run.
    """
    task = HydraConfig.get().runtime.choices["task"]
    try:
        settings = task_settings(task, job_settings(cfg))
        if task == "check":
            return run_check(settings)
        options = ExtractOptions.from_mapping(
            {key: value for key, value in settings.items() if key not in REQUIRED_KEYS}
        )
        find_cases(settings["nii_folder"], options.strip_suffix)
        check_output(settings["output_path"])
        extract = getattr(importlib.import_module("niprep.api"), TASKS[task])
        summary = extract(**settings)
    except (ValueError, OSError, OmegaConfBaseException) as error:
        print(f"niprep: {describe_error(error)}", file=sys.stderr)
        return USAGE_ERROR
    output = settings["output_path"]
    line = (f"niprep {task} ({options.view}): {summary.done} done, {summary.failed} failed, "
            f"{summary.skipped} skipped; {int(summary)} {task} in {output}")
    if summary.failed:
        line += f"; failures listed in {Path(output, f'{options.view}_{task}_failures.csv')}"
    print(line, flush=True)
    return CASES_FAILED if summary.failed else ALL_DONE


def main() -> None:
    """Entry point of the ``niprep`` console script; exits with the worst run's status."""
    register_configs()
    arguments = get_args_parser().parse_args()
    problem = override_error(arguments.overrides, arguments.multirun)
    if problem is not None:
        print(f"niprep: {problem}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    statuses: list[int] = []

    def job(cfg: DictConfig) -> None:
        statuses.append(run_job(cfg))

    application = hydra.main(
        config_path=str(config_dir()), config_name="config", version_base=None
    )(job)
    try:
        application()
    except SystemExit as stop:
        if stop.code:  # Hydra has said on stderr what is wrong with the configuration
            sys.exit(USAGE_ERROR)
        raise
    sys.exit(max(statuses, default=ALL_DONE))
