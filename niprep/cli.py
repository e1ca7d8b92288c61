"""The ``niprep`` command: a Hydra application over the dataset functions.

::

    niprep nii_folder=data/masks output_path=out view=coronal data_mode=box
    niprep -m view=axial,coronal,sagittal nii_folder=data/masks output_path=out
    niprep task=slices nii_folder=data/scans output_path=out/images target_size=[512,512]
    niprep task=check image_folder=data/scans nii_folder=data/masks output_path=qc
    niprep task=export format=yolo image_folder=data/scans nii_folder=data/masks output_path=yolo

``task`` picks the function; its keys are ``nii_folder``, ``output_path`` and the options
of the groups that function takes (:mod:`niprep.options`), with their defaults and their
checks: each task's config node is built from those declarations, so ``niprep
task=NAME --help`` lists exactly its keys. The configuration, the input folder and the
output folder are checked before MONAI, torch or numba are imported, so ``--help`` and
mistakes answer at once. Exit status: 0 every case done, 1 some cases failed, 2 bad
configuration, input or output (one line on stderr); for ``task=check``, 0 when no finding is
an error, else 1.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import HydraException
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from niprep.options import TASKS, EntryPoint
from niprep.run.inputs import find_cases
from niprep.run.output_tree import check_output
from niprep.run.staging import describe_error

REQUIRED_KEYS = ("nii_folder", "output_path")
PATH_KEYS = (*REQUIRED_KEYS, "preview_images", "preview_masks", "image_folder", "split_file")
#: the tasks whose images are the function's first argument and masks its label_folder
PAIRED_TASKS = ("check", "export")
#: what int(summary) counts, by task
COUNTED = {"export": "boxes"}
DEFAULT_TASK = "annotations"
#: Hydra's command-line flags that take a value (``niprep --hydra-help`` lists them)
_FLAGS_WITH_VALUE = (("-c", "--cfg"), ("-p", "--package"), ("-cp", "--config-path"),
                     ("-cn", "--config-name"), ("-cd", "--config-dir"),
                     ("-sc", "--shell-completion"), ("--experimental-rerun",))
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
    """Store each task's keys and defaults (from its declared option groups) as the
    ``task`` config group, and the ``niprep_scratch`` resolver, where Hydra finds them."""
    store = ConfigStore.instance()
    for name, entry in TASKS.items():
        node = {**entry.defaults(), "hydra": {"help": {"template": help_template(entry)}}}
        store.store(group="task", name=name, node=node, package="_global_")
    OmegaConf.register_new_resolver("niprep_scratch", _multirun_scratch, replace=True)


def _shown(value: Any) -> str:
    """A default as the command line writes it (``[0.8, 0.2, 0.0]``, ``null``, ``_bbox``)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(part) for part in value) + "]"
    return OmegaConf.to_yaml({"key": value}).split(": ", 1)[1].strip()


def help_template(entry: EntryPoint) -> str:
    """``niprep task=NAME --help``: the task's keys with their defaults and help lines."""
    keys = {"nii_folder": ("???", "the input folder of .nii.gz / .nii volumes"),
            "output_path": ("???", "the output folder")}
    for group in entry.groups:
        for option in group.options:
            rule = entry.needs.get(group.name) or option.needs
            text = option.help + (f" (only with {rule.wanted})" if rule else "")
            keys[option.name] = (_shown(entry.options[option.name].default), text)
    width = max(len(f"{name}: {default}") for name, (default, _) in keys.items())
    lines = "\n".join(f"{name}: {default}".ljust(width + 2) + f"# {text}"
                      for name, (default, text) in keys.items())
    return ("${hydra.help.header}\n== Tasks (task=NAME) ==\n"
            f"$APP_CONFIG_GROUPS\n\n== Keys of task={entry.task}, with their defaults "
            f"(niprep task=NAME --help: another task's) ==\n{lines}\n\n"
            "${hydra.help.footer}")


def command_line(arguments: list[str]) -> tuple[list[str], bool]:
    """The ``key=value`` overrides and whether ``-m`` / ``--multirun`` was given.

    Args:
        arguments: the command-line arguments, without the program name.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("-m", "--multirun", action="store_true")
    parser.add_argument("-i", "--info", nargs="?")
    for flags in _FLAGS_WITH_VALUE:
        parser.add_argument(*flags)
    known, _ = parser.parse_known_args(arguments)
    return known.overrides, known.multirun


def override_error(overrides: list[str], multirun: bool) -> str | None:
    """Why the command-line overrides cannot work (unknown key, unknown task, a sweep
    without ``-m``), or ``None``.

    Hydra would say so too, in several lines and with exit status 1; this says it in one.

    Args:
        overrides: the ``key=value`` arguments.
        multirun: ``-m`` / ``--multirun`` was given.
    """
    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        try:
            parsed.append(parser.parse_override(text))
        except HydraException as error:
            return f"cannot read {text!r}: {' '.join(str(error).split())}"
    tasks = [DEFAULT_TASK]
    for override in parsed:
        key = override.key_or_group
        if override.is_hydra_override() or override.type != OverrideType.CHANGE:
            continue
        if override.is_sweep_override() and not multirun:
            return (f"{override.input_line!r} is a sweep: add -m to run once per value, or "
                    f"write a list as {key}=[a,b] or a string as {key}='a,b'")
        if key == "task":
            tasks = (list(override.sweep_string_iterator()) if override.is_sweep_override()
                     else [override.value()])
            for name in tasks:
                if name not in TASKS:
                    return f"task={name!r} is not valid; choose one of {', '.join(TASKS)}"
    for override in parsed:
        key = override.key_or_group
        if override.is_hydra_override() or key in ("task", *REQUIRED_KEYS):
            continue
        for name in tasks:
            if key not in TASKS[name].options:
                return TASKS[name].not_taken(key, command=True)
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
            continue  # not a key of this task, or not given
        if not isinstance(value, str) or not value:
            raise ValueError(f"{key}={value!r} is not valid; use a path")
        settings[key] = os.path.normpath(to_absolute_path(value))
    return settings


def run_job(cfg: DictConfig) -> int:
    """Run the chosen task once; report in one line; return the exit status.

    Args:
        cfg: the composed Hydra config of one run.
    """
    task = HydraConfig.get().runtime.choices["task"]
    try:
        settings = job_settings(cfg)
        options = TASKS[task].settings(
            {key: value for key, value in settings.items() if key not in REQUIRED_KEYS},
            command=True,
        )
        for key in ("nii_folder", "image_folder"):
            if settings.get(key) is not None:
                find_cases(settings[key], options.strip_suffix)
        check_output(settings["output_path"])
        function = getattr(importlib.import_module("niprep.api"), TASKS[task].name)
        if task in PAIRED_TASKS:  # masks are their label_folder, images the first argument
            summary = function(settings.pop("image_folder"), settings.pop("nii_folder"),
                               **settings)
        else:
            summary = function(**settings)
    except (ValueError, OSError, OmegaConfBaseException) as error:
        print(f"niprep: {describe_error(error)}", file=sys.stderr)
        return USAGE_ERROR
    output = settings["output_path"]
    if task == "check":
        print(f"niprep check: {summary.line()}; findings in {Path(output, 'check.csv')}",
              flush=True)
        return CASES_FAILED if summary.errors else ALL_DONE
    line = (f"niprep {task} ({options.view}): {summary.done} done, {summary.failed} failed, "
            f"{summary.skipped} skipped; {int(summary)} {COUNTED.get(task, task)} in {output}")
    if summary.failed:
        line += f"; failures listed in {Path(output, f'{options.view}_{task}_failures.csv')}"
    print(line, flush=True)
    return CASES_FAILED if summary.failed else ALL_DONE


def main() -> None:
    """Entry point of the ``niprep`` console script; exits with the worst run's status."""
    register_configs()
    problem = override_error(*command_line(sys.argv[1:]))
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
