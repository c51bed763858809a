"""The settings of `stylecam paint` and its flags, apart from the painting itself so that
`stylecam paint --help` loads no torch."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from stylecam_train.config import TrainConfig
from stylecam_train.errors import TrainingInputError
from stylecam_train.settings import (
    SIDE_BOUNDS,
    WEIGHT_BOUNDS,
    add_config_arguments,
    check_bounds,
    device_setting,
    seed_setting,
    setting,
    vgg_weights_setting,
)

DEFAULTS = TrainConfig()
MAX_SIDE = SIDE_BOUNDS[1]  # long side of the painted image; VGG activations of a larger one fill most memories
IMAGE_OUTPUTS = (".png", ".jpg", ".jpeg", ".webp")


@dataclass
class PaintConfig:
    """Every setting of `stylecam paint` a number or a name can get wrong; its flags are built from these fields."""

    style_weight: float = setting(DEFAULTS.style_weight, "β", bounds=WEIGHT_BOUNDS, group="weights")
    content_weight: float = setting(DEFAULTS.content_weight, "α", bounds=WEIGHT_BOUNDS, group="weights")
    tv_weight: float = setting(DEFAULTS.tv_weight, "total variation", bounds=WEIGHT_BOUNDS, group="weights")
    size: int = setting(512, "long side of the result in pixels", bounds=(16, MAX_SIDE), group="sizes")
    style_size: int = setting(
        DEFAULTS.style_size, "long side of the painting for the loss: sets stroke size, as in training", bounds=SIDE_BOUNDS, group="sizes"
    )
    # 150: at 512 px the image at step 100 already looked like the one at step 300 (starry_night
    # on a building), and 150 steps take about 4 minutes on 2 CPU cores (1.5 s a step, measured).
    steps: int = setting(150, "Adam steps on the pixels", bounds=(1, 10000), group="sizes")
    init: str = setting("photo", "start from the photo or from noise", choices=("photo", "noise"), group="sizes")
    seed: int = seed_setting("random seed of the noise start", group="sizes")
    device: str = device_setting("where the loss network runs: auto = CUDA, then MPS, then CPU", group="running")
    vgg_weights: str | None = vgg_weights_setting(group="running")
    save_every: int = setting(0, "also write OUTPUT-stepN every N steps (0: off)", bounds=(0, 10000), metavar="N", group="running")

    def __post_init__(self) -> None:
        check_bounds(self)
        if self.style_weight == 0 and self.content_weight == 0:
            raise TrainingInputError("--style-weight and --content-weight are both 0: nothing to optimise")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("content", type=Path, help="the photo")
    parser.add_argument("style", type=Path, help="the painting")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the painted photo (.png, .jpg or .webp)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    groups = {
        "weights": parser.add_argument_group("loss weights (the same meaning as in `stylecam train`)"),
        "sizes": parser.add_argument_group("sizes and steps"),
        "running": parser.add_argument_group("running"),
    }
    add_config_arguments(parser, PaintConfig, groups)
    run = groups["running"]
    run.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--suggest-train", action="store_true", help="print only the `stylecam train` command for these settings")
