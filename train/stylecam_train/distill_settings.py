"""The settings of `stylecam distill` and its flags, apart from the distillation itself so that
`stylecam distill --help` loads no torch."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stylecam.choices import MAX_DETAIL
from stylecam_train.settings import (
    WEIGHT_BOUNDS,
    add_config_arguments,
    check_bounds,
    device_setting,
    max_minutes_setting,
    scale_setting,
    seed_setting,
    setting,
)


@dataclass
class DistillConfig:
    """Every setting of a distillation; stored in the student's file. Its flags are built from these fields."""

    # 8 channels, 3 residual blocks, 9x9 edges at processing scale 0.5: the variant that measured
    # 20 fps or more at 640x480 end to end on the project's 2-core CPU (README, "Fast variants for the CPU").
    width: int = setting(8, "channels of its first layer", bounds=(4, 256), group="student")
    blocks: int = setting(3, "residual blocks", bounds=(0, 16), group="student")
    # Odd (checked with the network's other rules in check_config); the classic network's is 9.
    edge_kernel: int = setting(9, "side of its first and last convolutions, an odd number", bounds=(1, 15), group="student")
    # The student's processing scale (its file's default_scale); the teacher runs at its own default.
    scale: float = scale_setting(
        0.5, "processing scale it will run at; it learns the teacher's look at the teacher's own scale", group="student"
    )
    # Not learned: the runtime adds the input's detail back to the student's output at this amount by
    # default (its file's default_detail; stylecam.frames.apply_controls). At 0.5 the twelve shipped
    # fast codes kept 15 to 17 of 17 test faces and came at most 1.2 levels of 255 further from their
    # teachers' pixels than at 0; at 1 they kept as many, 3 to 6 levels further (train/evidence/README.md,
    # "Detail for the fast styles").
    detail: float = setting(
        0.5,
        "detail of the input the runtime adds back by default (its --detail): the small network blurs eyes and mouths away",
        bounds=(0, MAX_DETAIL),
        group="student",
    )
    steps: int = setting(4000, "optimizer steps", bounds=(1, 10**7), group="run")
    max_minutes: float | None = max_minutes_setting(group="run")
    # Crop side at the teacher's working size, and crops per step: 4 crops of 160 took about a
    # second a step on the shared 2-core CPU (the backward pass is most of it).
    crop_size: int = setting(160, "crop side in pixels", bounds=(32, 2048), group="run")
    batch_size: int = setting(4, "crops per step", bounds=(1, 1024), group="run")
    # Above 0, not 1e-8 as in train: a run at 1e-9 is how a test (and a user) checks what --init alone gives.
    lr: float = setting(2e-3, "Adam learning rate, decaying along a cosine", bounds=(0, 1.0), above=True, group="run")
    lr_final_fraction: float = 0.05  # not a flag
    gradient_weight: float = setting(
        1.0, "weight of the loss on neighbouring-pixel differences, for crisp strokes", bounds=WEIGHT_BOUNDS, group="run"
    )
    seed: int = seed_setting("random seed of crops and initial weights", group="run")

    def __post_init__(self) -> None:
        check_bounds(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DistillHardware:
    """Where a distillation runs: flags, not stored in the student's file."""

    device: str = device_setting(group="run")
    threads: int | None = setting(
        None,
        "CPU threads. On a machine busy with other work, 1 can be several times faster: "
        "threads that wait for each other lose most of their time when the cores are taken",
        bounds=(1, 1024),
        shown="one per core",
        group="run",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "style",
        help="the teacher: a style name (`stylecam styles`) or a .safetensors file; or a painter network (its name, e.g. painter, "
        "or its file), which gives one fast painter network, networks/NETWORK_fast, and a STYLE_fast code for each of its styles",
    )
    io = parser.add_argument_group("inputs and outputs")
    io.add_argument("--data", required=True, type=Path, help="folder of photos (searched recursively)")
    io.add_argument("--name", help="name of the fast style, or of the fast painter network (default: TEACHER_fast)")
    io.add_argument("--out", type=Path, default=None, help="folder for the style file (default: your styles folder, see `stylecam styles`)")
    io.add_argument("--overwrite", action="store_true", help="replace an existing style file")
    io.add_argument(
        "--init",
        metavar="STYLE",
        help=(
            "start from this style's weights (e.g. another style's fast variant of the same shape) instead of random ones; "
            "for a painter network, also a fast painter network (each STYLE_fast goes on from its own code)"
        ),
    )
    groups = {"student": parser.add_argument_group("the student network"), "run": parser.add_argument_group("run")}
    add_config_arguments(parser, DistillConfig, groups)
    add_config_arguments(parser, DistillHardware, groups)
    groups["run"].add_argument("--quiet", action="store_true", help="no progress bar")
    io.add_argument(
        "--json",
        action="store_true",
        help="at the end, one JSON object on stdout: path, name, teacher, steps, seconds, losses and the student's settings "
        "(notes and the progress bar are on stderr either way)",
    )
