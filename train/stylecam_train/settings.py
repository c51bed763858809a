"""One way to declare the settings of a recipe command (``train``, ``distill``, ``paint``).

A setting is a dataclass field built with ``setting(default, help, bounds=(low, high), ...)``:
``add_config_arguments`` makes one flag of it (``--style-size`` for style_size) whose type
refuses what is outside the bounds (or not finite) before any work, with the bounds and the
default in its help; ``check_bounds(config)`` checks the same bounds when a config is built from
Python or read back from a file. The settings several commands share (a seed, a device, a time
limit, a processing scale, the loss network's weights) are declared once below, so a flag of
one name has one meaning and one range in every command.

Standard library and stylecam's option names only: ``stylecam COMMAND --help`` builds these
flags without importing torch's training stack.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, field, fields
from typing import Any

from stylecam.argtypes import bounded, limits_text
from stylecam.choices import DEVICES, MAX_SCALE
from stylecam_train.errors import TrainingInputError

SEED_BOUNDS = (0, 2**32 - 1)  # what torch.manual_seed and NumPy accept alike
WEIGHT_BOUNDS = (0, 1e6)  # a loss weight: 0 (off) up to far beyond any useful value, never NaN or infinite
SCALE_BOUNDS = (0, MAX_SCALE)  # a processing scale: above 0, at most the runtime's MAX_SCALE
MINUTES_BOUNDS = (0, 10**6)  # a time limit: above 0
SIDE_BOUNDS = (16, 4096)  # the long side of a painting or photo the loss network sees

MAX_MINUTES_HELP = (
    "wall-clock limit of the training loop in minutes: the run stops after the step that passes it and exports "
    "what it has learned (a fixed time budget on a shared machine; loading and export do not count)"
)
VGG_WEIGHTS_HELP = (
    "state_dict file of torchvision vgg16().features (default: torchvision's ImageNet weights, "
    "downloaded once; 'random' for smoke tests only)"
)
DEVICE_HELP = "where it runs: auto = CUDA, then MPS, then CPU"


def setting(
    default: Any = MISSING,
    help: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    bounds: tuple[float, float] | None = None,
    above: bool = False,
    shown: str | None = None,
    **flag: Any,
) -> Any:
    """A config field that is also a flag: ``help`` and argparse keywords (type, metavar, choices, nargs, group).

    ``bounds`` (low, high) of a number, low excluded if ``above``: the flag's parser refuses what
    is outside (or not finite) before any work, its help states them, and ``check_bounds``
    checks them when the config is built from Python or from a file. ``shown``: what the help
    says the default is, where the default value (None) says nothing. ``group``: the name of the
    argument group the flag goes in (see ``add_config_arguments``).
    """
    metadata: dict[str, Any] = {"help": help, **flag}
    if bounds is not None:
        metadata["bounds"] = bounds
        metadata["above"] = above
    if shown is not None:
        metadata["shown"] = shown
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


# -- the settings several commands share ----------------------------------------------------------
def seed_setting(help: str = "random seed", **flag: Any) -> Any:
    return setting(0, help, bounds=SEED_BOUNDS, **flag)


def device_setting(help: str = DEVICE_HELP, **flag: Any) -> Any:
    return setting("auto", help, choices=DEVICES, **flag)


def max_minutes_setting(**flag: Any) -> Any:
    return setting(None, MAX_MINUTES_HELP, bounds=MINUTES_BOUNDS, above=True, shown="no limit", **flag)


def scale_setting(default: float | None, help: str, **flag: Any) -> Any:
    return setting(default, help, bounds=SCALE_BOUNDS, above=True, **flag)


def vgg_weights_setting(**flag: Any) -> Any:
    return setting(None, VGG_WEIGHTS_HELP, **flag)


# -- checks -----------------------------------------------------------------------------------------
def is_integer(spec: Field) -> bool:
    """Whether a field holds whole numbers (its annotation, a string under ``from __future__ import annotations``)."""
    return str(spec.type).replace(" ", "") in ("int", "int|None", "Optional[int]")


def limits(bounds: tuple[float, float], above: bool = False) -> str:
    """The bounds as the help and the errors say them: "1 to 10000", "above 0 and at most 4"."""
    return limits_text(*bounds, above=above)


def check_value(name: str, value: Any, bounds: tuple[float, float], integer: bool = False, what: str = "", above: bool = False) -> None:
    """A TrainingInputError naming the flag (and ``what`` of it) unless value is a finite number (a whole one if integer) within bounds."""
    low, high = bounds
    flag = "--" + name.replace("_", "-") + (f" {what}" if what else "")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    too_low = is_number and (value <= low if above else value < low)
    if not is_number or not math.isfinite(value) or too_low or value > high or (integer and value != int(value)):
        kind = "a whole number" if integer else "a number"
        raise TrainingInputError(f"{flag} must be {kind} {limits(bounds, above) if above else 'from ' + limits(bounds)}, got {value!r}")


def check_bounds(config: Any) -> None:
    """Every bounded setting of a config dataclass within its bounds (None: not set, nothing to check)."""
    for spec in fields(config):
        value = getattr(config, spec.name)
        if "bounds" in spec.metadata and value is not None:
            check_value(spec.name, value, spec.metadata["bounds"], integer=is_integer(spec), above=spec.metadata["above"])


# -- flags ------------------------------------------------------------------------------------------
def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{name}:{weight:g}" for name, weight in value.items())
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return str(value)


def add_config_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    groups: Mapping[str, argparse._ArgumentGroup] | None = None,
    *,
    default_group: str | None = None,
    given_only: bool = False,
) -> None:
    """One flag per setting of ``cls`` (``--style-size`` for style_size), dest the field's name.

    A field goes in ``groups[its group]`` (``default_group``'s when it names none; ``parser``
    when neither is given). ``given_only``: a flag not given reads None, so a caller can tell it
    apart from the default (``from_args`` then keeps the field's default); else it reads the
    field's default. Fields without help are not flags.
    """
    groups = groups or {}
    defaults = cls()
    for spec in fields(cls):
        if not spec.metadata.get("help"):
            continue
        meta = spec.metadata
        options = {key: value for key, value in meta.items() if key not in ("help", "group", "bounds", "above", "shown")}
        default = getattr(defaults, spec.name)
        help_text = meta["help"]
        if "bounds" in meta:
            options["type"] = bounded(int if is_integer(spec) else float, *meta["bounds"], above=meta["above"])
            help_text += f"; {limits(meta['bounds'], meta['above'])}"
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        options.setdefault("type", type(default) if numeric else str)
        if "shown" in meta:
            help_text += f" (default: {meta['shown']})"
        elif default not in (None, "", []):
            help_text += f" (default {_shown(default)})"
        group_name = meta.get("group", default_group)
        target = groups[group_name] if group_name is not None else parser
        target.add_argument(
            f"--{spec.name.replace('_', '-')}", dest=spec.name, default=None if given_only else default, help=help_text, **options
        )


def config_from_args(cls: type, args: argparse.Namespace, **values: Any) -> Any:
    """The config of the flags ``add_config_arguments`` made; a flag not given (None) keeps the field's default."""
    given = {spec.name: getattr(args, spec.name) for spec in fields(cls) if getattr(args, spec.name, None) is not None}
    return cls(**(given | values))
