"""The one typed config of a training run, with the reason beside each default.

Each setting is declared once, here: its default, its reason (a comment) and its help text
(``setting(...)``, from stylecam_train.settings: the one way the recipe's commands declare their
flags). ``add_arguments`` builds the ``stylecam train`` flags from these fields and
``from_args`` reads them back, so a new setting needs no other edit; the checkpoint and the
style file's metadata store ``to_dict()``.

Kept free of Lightning so that ``stylecam --help`` and the webcam path can build the
``train`` subcommand's flags without importing the training stack.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields
from typing import Any

from stylecam.choices import DEFAULT_WIDTH
from stylecam_train.errors import TrainingInputError
from stylecam_train.layers import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, check_layers, parse_layer_weights
from stylecam_train.settings import (
    SIDE_BOUNDS,
    WEIGHT_BOUNDS,
    add_config_arguments,
    check_bounds,
    check_value,
    config_from_args,
    seed_setting,
    setting,
    vgg_weights_setting,
)

__all__ = ["TrainConfig", "check_bounds", "format_layers", "setting"]


def _scale_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        return float(low), float(high or low)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX such as 0.25,1.0, got '{text}'") from error


def format_layers(weights: dict[str, float]) -> str:
    return ",".join(f"{name}:{weight:g}" for name, weight in weights.items())


@dataclass
class TrainConfig:
    """Every setting of a training run; saved in each checkpoint and in the style file."""

    # One painting trains a one-style network; several (or a folder) train one painter network
    # with a style code per painting (conditional instance norm, model.py): the shared
    # convolutions learn from every step instead of one style's share of them.
    style_image: list[str] = setting(
        help="the painting (jpg/png/webp); several, or a folder of them, train one painter network with a style per painting",
        factory=list,
        group="inputs",
        nargs="+",
        metavar="IMAGE",
    )
    # None: torchvision ImageNet weights; or a features state_dict file.
    vgg_weights: str | None = vgg_weights_setting(group="inputs")
    # Long side of the painting as the loss network sees it: sets brush-stroke size. 512 for
    # 256 px crops worked in trial runs; scale it with the crop size.
    style_size: int = setting(512, "long side of the painting for the loss: sets stroke size", bounds=SIDE_BOUNDS)
    crop_size: int = setting(256, "training crop side in pixels", bounds=(16, 2048))  # the classic recipe (pytorch/examples, jcjohnson)
    crop_scale: tuple[float, float] = setting(
        (0.25, 1.0), "area fraction of a photo's short-side square per crop", type=_scale_range, metavar="MIN,MAX"
    )
    # Photos are decoded once and kept in memory at this long side.
    decode_size: int | None = setting(
        None, "long side of the photos kept in memory (default: max(2 x crop, 512)); lower it for a large photo set", bounds=(16, 8192)
    )
    batch_size: int = setting(4, "photos per step; the classic recipe's 4, 8-16 with bf16 on a big GPU", bounds=(1, 1024))
    lr: float = setting(1e-3, "Adam learning rate", bounds=(1e-8, 1.0))  # Adam, as in both classic recipes
    # Cosine decay from lr to lr * lr_final_fraction over the run (after a short warm-up): the
    # late steps refine instead of jumping around, which a constant 1e-3 did in long CPU runs.
    lr_final_fraction: float = setting(
        0.1, "the learning rate decays along a cosine to this fraction of --lr at --max-steps (1: constant)", bounds=(1e-6, 1.0)
    )
    lr_warmup_steps: int = setting(100, "linear warm-up of the learning rate, in steps", bounds=(0, 10**7))
    # Adaptive gradient clipping: the gradient norm is capped at this many times its running
    # average (0: off). The long CPU runs at a constant lr blew up after 1,400-2,000 steps (style
    # loss from about 0.5 to thousands). A fixed cap cannot serve this loss: the norm falls from
    # about 1e5 at the first step to about 1e3 a few dozen steps later (measured), so a cap set
    # for one end is useless or constant clipping at the other. A cap relative to the recent
    # norm stops single bad steps (a flat crop that the instance norms blow up) and nothing else.
    grad_clip: float = setting(4.0, "cap the gradient norm at this many times its running average (0: off)", bounds=(0, 1e6))
    # Relative losses (see losses.py). With the ImageNet VGG16, 8 (the default chosen with the
    # edge-detector stand-in) dissolved photos into the painting by 1,500 CPU steps, also with
    # content weight 2; optimising one photo's pixels directly gave swirls and a readable
    # building at 2 to 4 (train/evidence/README.md, "What decides the look"). 3 keeps subjects readable.
    style_weight: float = setting(3.0, "weight of the style (Gram) loss", bounds=WEIGHT_BOUNDS)
    content_weight: float = setting(1.0, "weight of the content loss; the reference the others are relative to", bounds=WEIGHT_BOUNDS)
    # L1 total variation of the output. It is what removes the fine periodic stripes in flat
    # areas: same seed and steps, 10 left a sky clean where 2 showed diagonal stripes, and
    # dropping relu1_2 did not help (train/evidence/README.md, "What decides the look"). A photo's TV is about 0.04
    # and the painting's 0.13 (at 128-320 px), so strokes and edges survive it.
    tv_weight: float = setting(10.0, "weight of the total-variation loss (smooth flat areas, no stripes)", bounds=WEIGHT_BOUNDS)
    style_layers: dict[str, float] = setting(
        help="VGG layers of the style loss, NAME:WEIGHT,...", factory=lambda: dict(DEFAULT_STYLE_LAYERS), type=parse_layer_weights
    )
    content_layers: dict[str, float] = setting(
        help="VGG layers of the content loss, NAME:WEIGHT,...", factory=lambda: dict(DEFAULT_CONTENT_LAYERS), type=parse_layer_weights
    )
    # Flow-free temporal stability (temporal.py), as mean squared errors in RGB in [0, 1]: one or
    # both terms cost one more transformer pass over the batch per step (+39% of the FLOPs at
    # 128 px crops; with both on, each takes half the batch). 0 (off) keeps the classic recipe.
    # The wave style starts near 0.005 (motion) and 0.001 (noise); 200 and 1000 cut its flicker
    # on vtest.avi by more than half in 66 CPU steps but tinted it green (README, "Steady video").
    temporal_weight: float = setting(
        0.0,
        "weight of the motion term: stylize(move(photo)) should equal move(stylize(photo)) for small random moves (0: off)",
        bounds=WEIGHT_BOUNDS,
    )
    noise_weight: float = setting(
        0.0, "weight of the noise term: stylize(photo + noise) should equal stylize(photo) (0: off)", bounds=WEIGHT_BOUNDS
    )
    # Fine-tuning: a trained style starts near its optimum, so a few hundred steps of a new term
    # (or new weights) cost minutes on a CPU instead of the hours of a run from scratch.
    init_from: str | None = setting(
        None,
        "start from this style's weights (a style name or .safetensors file; the width is taken from it); "
        "a painter network's style with one painting: its code is fitted further on that network (with --full: a whole network from it)",
        group="inputs",
        metavar="STYLE",
    )
    # A new style on the painter network: only its code (the norms' scales and shifts, 1,600
    # pairs at width 32) learns, the shared convolutions stay frozen, so a few hundred steps
    # (minutes on a CPU) give a style where a whole network needs hours. Set by the CLI for one
    # painting unless --full (and to the code's own network when --init-from is a style code:
    # the fit then goes on from that code); None trains a whole network.
    network: str | None = setting(
        None,
        "fit only a style code on this painter network, its convolutions frozen (a name or a file; "
        "default for one painting: the installed painter network, unless --full)",
        group="inputs",
        metavar="NETWORK",
    )
    # 32 is the classic network; narrower runs faster on a CPU at runtime.
    width: int = setting(DEFAULT_WIDTH, "transformer width; 32 is the classic network (with --init-from: the style's)", bounds=(4, 256))
    # On CUDA, VGG (plain convs and ReLUs) runs channels_last, the tensor cores' layout; the
    # transformer stays NCHW, as its instance norms and reflection pads undo the layout
    # (anchors: fp16 channels_last made it slower). No effect on the CPU. Not a flag.
    channels_last: bool = True
    seed: int = seed_setting("random seed of crops and initial weights")

    def __post_init__(self) -> None:
        if isinstance(self.style_image, str):  # one path, as older checkpoints and callers give it
            self.style_image = [self.style_image] if self.style_image else []
        self.style_image = [str(path) for path in self.style_image]
        check_layers(self.style_layers)
        check_layers(self.content_layers)
        self.crop_scale = tuple(self.crop_scale)  # a checkpoint's YAML/pickle may give back a list
        check_bounds(self)
        for name in ("style_layers", "content_layers"):
            for layer, weight in getattr(self, name).items():
                check_value(name, weight, WEIGHT_BOUNDS, what=f"{layer}'s weight")
        if self.network and self.painter:
            raise TrainingInputError("--network fits one painting's code; several paintings train a painter network of their own")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["crop_scale"] = list(self.crop_scale)  # JSON and YAML friendly
        return values

    @property
    def painter(self) -> bool:
        """Several paintings: one painter network with a style code each, instead of a one-style network."""
        return len(self.style_image) > 1

    @classmethod
    def add_arguments(cls, groups: dict[str, argparse._ArgumentGroup]) -> None:
        """One flag per setting (``--style-size`` for style_size), in the group its field names ("recipe" by default); None when not given."""
        add_config_arguments(next(iter(groups.values())), cls, groups, default_group="recipe", given_only=True)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TrainConfig:
        """The config of the flags ``add_arguments`` made; a flag not given keeps the field's default."""
        return config_from_args(cls, args)
