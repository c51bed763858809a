"""The one typed config of a training run, with the reason beside each default.

Kept free of Lightning so that ``stylecam --help`` and the webcam path can build the
``train`` subcommand's flags without importing the training stack.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from realtime.model import DEFAULT_WIDTH
from train.errors import TrainingInputError
from train.losses import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS
from train.vgg import check_layers


@dataclass
class TrainConfig:
    """Every setting of a training run; saved in each checkpoint and in the style file."""

    style_image: str = ""  # path of the painting
    # Long side of the painting as the loss network sees it: sets brush-stroke size. 512 for
    # 256 px crops worked in trial runs; scale it with the crop size.
    style_size: int = 512
    crop_size: int = 256  # the classic recipe (pytorch/examples, jcjohnson)
    crop_scale: tuple[float, float] = (0.25, 1.0)  # area fraction of a photo's short-side square per crop
    # Long side of the photos kept in memory (None: max(2 * crop_size, 512)); lower it for big photo sets.
    decode_size: int | None = None
    batch_size: int = 4  # the classic recipe; use 8-16 with bf16 on a big GPU
    lr: float = 1e-3  # Adam, as in both classic recipes
    # Cosine decay from lr to lr * lr_final_fraction over the run (after a short warm-up): the
    # late steps refine instead of jumping around, which a constant 1e-3 did in long CPU runs.
    lr_final_fraction: float = 0.1
    lr_warmup_steps: int = 100
    # Adaptive gradient clipping: the gradient norm is capped at this many times its running
    # average (0: off). The long CPU runs at a constant lr blew up after 1,400-2,000 steps (style
    # loss from about 0.5 to thousands). A fixed cap cannot serve this loss: the norm falls from
    # about 1e5 at the first step to about 1e3 a few dozen steps later (measured), so a cap set
    # for one end is useless or constant clipping at the other. A cap relative to the recent
    # norm stops single bad steps (a flat crop that the instance norms blow up) and nothing else.
    grad_clip: float = 4.0
    # Relative losses (see losses.py). With the ImageNet VGG16, 8 (the default chosen with the
    # edge-detector stand-in) dissolved photos into the painting by 1,500 CPU steps, also with
    # content weight 2; optimising one photo's pixels directly gave swirls and a readable
    # building at 2 to 4 (README, "What decides the look"). 3 keeps subjects readable.
    style_weight: float = 3.0
    content_weight: float = 1.0  # the reference the other weights are relative to
    # L1 total variation of the output. It is what removes the fine periodic stripes in flat
    # areas: same seed and steps, 10 left a sky clean where 2 showed diagonal stripes, and
    # dropping relu1_2 did not help (README, "What decides the look"). A photo's TV is about 0.04
    # and the painting's 0.13 (at 128-320 px), so strokes and edges survive it.
    tv_weight: float = 10.0
    style_layers: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STYLE_LAYERS))
    content_layers: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CONTENT_LAYERS))
    width: int = DEFAULT_WIDTH  # 32 is the classic network; narrower runs faster on a CPU at runtime
    vgg_weights: str | None = None  # None: torchvision ImageNet weights; or a features state_dict file
    # On CUDA, VGG (plain convs and ReLUs) runs channels_last, the tensor cores' layout; the
    # transformer stays NCHW, as its instance norms and reflection pads undo the layout
    # (anchors: fp16 channels_last made it slower). No effect on the CPU.
    channels_last: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        check_layers(self.style_layers)
        check_layers(self.content_layers)
        self.crop_scale = tuple(self.crop_scale)  # a checkpoint's YAML/pickle may give back a list
        if self.grad_clip < 0:
            raise TrainingInputError(f"gradient clip factor must be 0 (off) or positive, got {self.grad_clip}")
        if not 0 < self.lr_final_fraction <= 1:
            raise TrainingInputError(f"lr final fraction must be in (0, 1], got {self.lr_final_fraction}")
        if self.style_size < 16:
            raise TrainingInputError(f"style size must be at least 16 pixels, got {self.style_size}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["crop_scale"] = list(self.crop_scale)  # JSON and YAML friendly
        return values
