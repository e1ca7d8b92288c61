"""What the export's declared options (:data:`~niprep.options.EXPORT_DATASET`) cannot say
one at a time: the rules between them, and the settings its annotation pipeline runs with."""

from __future__ import annotations

from niprep.options import EXPORT_DATASET, SLICE_SAMPLES, Settings
from niprep.options.groups import ANNOTATION, INPUT, VIEW

#: the options of the shared groups that only the 2-D formats (PNG slices) use
PICTURE_ONLY = ("window", "channels", "view", "target_size", "orientation", "pad_value",
                "preview")


def check_export(settings: Settings) -> None:
    """Refuse values that do not go together, in one line naming the option.

    Args:
        settings: the checked options of :data:`~niprep.options.EXPORT_DATASET`.

    Raises:
        ValueError: no ``image_folder``, ``channels=3`` without a window, a ``pad_value``
            the PNG cannot hold, or an option of the 2-D formats given to
            ``format="monai"``.
    """
    if settings.image_folder is None:
        raise ValueError("image_folder is required: add image_folder=PATH, the folder of the "
                         "image volumes paired with the masks by case name")
    if settings.format == "monai":
        defaults = EXPORT_DATASET.defaults()
        for name in PICTURE_ONLY:
            if settings.values[name] != defaults[name]:
                raise ValueError(f"{name}={settings.values[name]!r} does not apply to "
                                 "format='monai' (its boxes are 3-D); leave it out")
        return
    if settings.channels == 3 and settings.window is None:
        raise ValueError("channels=3 is not valid with window=None; RGB pictures are 8-bit: "
                         "give a window, such as window='percentile'")
    top, unit = (255, "a grey level") if settings.window is not None else (65535, "a 16-bit value")
    pad_value = settings.pad_value
    if not (0 <= pad_value <= top and float(pad_value).is_integer()):
        raise ValueError(f"pad_value={pad_value!r} is not valid; it is {unit} of the PNG: use "
                         f"a whole number in 0..{top}")


def pipeline_settings(settings: Settings, **changes: object) -> Settings:
    """The settings the annotation pipeline (:mod:`niprep.core.pipeline`) reads for an
    export: its view, input and annotation options, with the tight box of each slice.

    Args:
        settings: the checked export options.
        changes: values to use instead (``box_scope``, ``target_size``).
    """
    values = {option.name: settings.values[option.name]
              for group in (VIEW, INPUT, ANNOTATION.without("box_scope"))
              for option in group.options}
    return SLICE_SAMPLES.settings({**values, "box_scope": "slice", **changes})
