"""``stylecam paint``: one photo in the style of any painting, by optimising its pixels (Gatys et al. 2016).

No network is trained: Adam moves the pixels of the image itself to lower
style_weight · style loss + content_weight · content loss + tv_weight · total variation,
with the recipe's own scale-free losses, layers and loss network. So a weight means the same
here as in ``stylecam train``, and a preview that looks right gives the command that trains it.

Imports neither Lightning nor the training data code: it starts as fast as the runtime.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from stylecam.devices import DeviceError, configure_cpu_threads, free_memory, pick_device
from stylecam.errors import OutputError
from stylecam.files import output_claim
from stylecam.images import fit_long_side, read_image_or_fail, write_image
from stylecam.sinks import check_output_file
from stylecam_train.errors import TrainingInputError
from stylecam_train.images import load_style_image
from stylecam_train.losses import content_loss, gram, style_loss, total_variation
from stylecam_train.paint_settings import DEFAULTS, IMAGE_OUTPUTS, MAX_SIDE, PaintConfig, add_arguments  # noqa: F401  (the command's flags)
from stylecam_train.settings import config_from_args
from stylecam_train.vgg import VGGFeatures, load_vgg

# Bytes per pixel that the loss network's activations and their gradients take: 2.4 kB,
# measured as the growth of peak memory from 512x512 to 1024x1024 (fp32, CPU, relu1_2 ...
# relu4_3). Used to refuse a size the device cannot hold before it fails half-way.
_BYTES_PER_PIXEL = 2500
_LEARNING_RATE = 0.02  # Adam on [0, 1] pixels: the picture settles within 100-150 steps at 512 px (trial runs)


@dataclass
class PaintReport:
    output: str
    steps: int
    seconds: float
    device: str
    width: int
    height: int
    style_loss: float
    content_loss: float
    tv_loss: float


def check_settings(args: argparse.Namespace) -> PaintConfig:
    """Every number a user can get wrong, before any image is read (the flags' types check them too, for callers that build args)."""
    config = config_from_args(PaintConfig, args)
    if args.output.suffix.lower() not in IMAGE_OUTPUTS:
        raise TrainingInputError(f"output {args.output} must end in {', '.join(IMAGE_OUTPUTS)}")
    return config


def check_memory(device: torch.device, height: int, width: int) -> None:
    """Refuse a size whose loss-network activations cannot fit, with the largest that would."""
    free = free_memory(device)
    if free is None:  # no reliable figure (not Linux, MPS): no check
        return
    needed = height * width * _BYTES_PER_PIXEL
    if needed > 0.8 * free:
        largest = int(math.sqrt(0.8 * free / _BYTES_PER_PIXEL * max(height, width) / min(height, width)))
        raise TrainingInputError(
            f"a {width}x{height} image needs about {needed / 2**30:.1f} GiB for the loss network and {device} has "
            f"{free / 2**30:.1f} GiB free (use --size {largest} or less)"
        )


def train_command(args: argparse.Namespace) -> str:
    """The `stylecam train` command that learns this painting with these weights."""
    parts = [
        "stylecam", "train", "--style-image", str(args.style), "--data", "PHOTOS/", "--name", args.style.stem,
        "--style-weight", f"{args.style_weight:g}", "--content-weight", f"{args.content_weight:g}", "--tv-weight", f"{args.tv_weight:g}",
        "--style-size", str(args.style_size),
    ]  # fmt: skip
    if args.vgg_weights:
        parts += ["--vgg-weights", str(args.vgg_weights)]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    check_settings(args)
    if args.suggest_train:
        print(train_command(args))
        return 0
    check_output_file(args.output, [args.content, args.style], args.overwrite)
    if not args.overwrite:  # the snapshots of --save-every never replace a file either
        existing = next((path for path in snapshot_paths(args) if path.exists()), None)
        if existing is not None:
            raise OutputError(f"{existing} exists (a --save-every snapshot would replace it; use --overwrite or another -o)")
    photo = fit_long_side(read_image_or_fail(args.content), args.size)
    read_image_or_fail(args.style)  # a clear message before the loss network loads
    try:
        device = pick_device(args.device)
    except DeviceError as error:
        raise TrainingInputError(str(error)) from error
    if device.type == "cpu":
        configure_cpu_threads()
    check_memory(device, *photo.shape[:2])
    torch.manual_seed(args.seed)
    with output_claim(args.output, args.overwrite):  # a second run painting to this name is refused now, not replaced later
        report = paint(args, photo, device)
    if args.json:
        print(json.dumps(asdict(report)))
    print(f"wrote {args.output}: {report.steps} steps in {report.seconds:.0f} s on {report.device}", file=sys.stderr)
    print(f"to train this painting as a live style: {train_command(args)}", file=sys.stderr)
    return 0


@dataclass
class Weights:
    style: float
    content: float
    tv: float


def optimise(
    photo: torch.Tensor,
    painting: torch.Tensor,
    vgg: VGGFeatures,
    weights: Weights,
    steps: int,
    init: str = "photo",
    on_step: Callable[[int, torch.Tensor, dict[str, float] | None], None] | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """photo (1, 3, H, W) and painting (1, 3, h, w) in [0, 1] -> the painted image and its last losses.

    on_step(step, image, losses) is called after every step; losses are read (a host sync)
    every 10 steps and at the last, None otherwise.
    """
    config = DEFAULTS
    layers = list(dict.fromkeys([*config.style_layers, *config.content_layers]))
    with torch.no_grad():
        style_grams = {name: gram(value) for name, value in vgg(painting, config.style_layers).items()}
        photo_features = vgg(photo, config.content_layers)
    start = photo if init == "photo" else torch.rand_like(photo)
    image = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=_LEARNING_RATE)
    values: dict[str, float] = {}
    for step in range(1, steps + 1):
        optimizer.zero_grad(set_to_none=True)
        features = vgg(image, layers)
        losses = {
            "style": weights.style * style_loss(features, style_grams, config.style_layers),
            "content": weights.content * content_loss(features, photo_features, config.content_layers),
            "tv": weights.tv * total_variation(image),
        }
        sum(losses.values()).backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0, 1)  # a picture: pixels stay displayable, as the network's output is clamped
        read = step % 10 == 0 or step == steps
        if read:
            values = {key: value.item() for key, value in losses.items()}
            if not all(map(math.isfinite, values.values())):
                raise TrainingInputError(f"the loss became non-finite at step {step}; lower --style-weight")
        if on_step is not None:
            on_step(step, image, values if read else None)
    return image.detach(), values


def snapshot_path(args: argparse.Namespace, step: int) -> Path:
    return args.output.with_name(f"{args.output.stem}-step{step}{args.output.suffix}")


def snapshot_paths(args: argparse.Namespace) -> list[Path]:
    """The files --save-every will write (none without it)."""
    every = args.save_every
    return [snapshot_path(args, step) for step in range(every, args.steps, every)] if every else []


def paint(args: argparse.Namespace, photo_bgr: np.ndarray, device: torch.device) -> PaintReport:
    started = time.perf_counter()
    vgg = load_vgg(args.vgg_weights).to(device)
    rgb = cv2.cvtColor(photo_bgr, cv2.COLOR_BGR2RGB)
    photo = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div(255).to(device)  # (1, 3, H, W)
    painting = load_style_image(args.style, args.style_size).to(device)
    bar = tqdm(total=args.steps, unit="step", desc="paint", disable=args.quiet, file=sys.stderr, dynamic_ncols=True)

    def on_step(step: int, image: torch.Tensor, losses: dict[str, float] | None) -> None:
        bar.update(1)
        if losses is not None:
            bar.set_postfix({key: f"{value:.3f}" for key, value in losses.items()})
        if args.save_every and step % args.save_every == 0 and step < args.steps:
            _write(image, snapshot_path(args, step), replace=args.overwrite)

    weights = Weights(style=args.style_weight, content=args.content_weight, tv=args.tv_weight)
    with bar:
        image, losses = optimise(photo, painting, vgg, weights, args.steps, args.init, on_step)
    _write(image, args.output)
    return PaintReport(
        output=str(args.output),
        steps=args.steps,
        seconds=round(time.perf_counter() - started, 1),
        device=str(device),
        width=photo.shape[-1],
        height=photo.shape[-2],
        style_loss=round(losses["style"], 4),
        content_loss=round(losses["content"], 4),
        tv_loss=round(losses["tv"], 4),
    )


def _write(image: torch.Tensor, path: Path, replace: bool = True) -> None:
    rgb = image.detach()[0].clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    write_image(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), replace=replace)
