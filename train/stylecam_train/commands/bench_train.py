"""`stylecam bench-train`: the training step's speed as one JSON object (stylecam_train.bench).

Standard library only at the top: `stylecam --help` imports every command module to list them.
The options come from light modules, so `stylecam bench-train --help` does not load torch either.
"""

from __future__ import annotations

import argparse

HELP = "measure the training step's speed as JSON (transformer, VGG losses, backward, Adam)"
DESCRIPTION = (
    "Time the training step of `stylecam train` (transformer, VGG losses, backward, Adam) on random photos "
    "and a random painting, at the precision it picks, and print one JSON object."
)

# The defaults of `stylecam train`: 256 px crops, 16 per batch.
DEFAULT_SIZE = 256
DEFAULT_BATCH = 16
DEFAULT_STEPS = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from stylecam.argtypes import bounded
    from stylecam.choices import DEVICES

    parser.add_argument("--device", default="auto", choices=DEVICES, help="where the step runs (default: auto = CUDA, then MPS, then CPU)")
    # The same range as `stylecam train --crop-size`.
    parser.add_argument("--size", type=bounded(int, 16, 2048), default=DEFAULT_SIZE, help=f"crop side in pixels (default: {DEFAULT_SIZE})")
    parser.add_argument("--batch", type=bounded(int, 1, 1024), default=DEFAULT_BATCH, help=f"crops per step (default: {DEFAULT_BATCH})")
    parser.add_argument(
        "--steps",
        type=bounded(int, 1, 1000),
        default=DEFAULT_STEPS,
        help=f"timed steps, after a first untimed one (default: {DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--vgg-weights",
        default=None,
        metavar="FILE",
        help="state_dict file of torchvision vgg16().features for the loss network (default: random weights, the same work)",
    )


def run(args: argparse.Namespace) -> int:
    import json

    from stylecam_train.commands._requires import require_lightning

    require_lightning("bench-train")  # the step is the LightningModule's
    from stylecam_train.bench import run_train_bench

    report = run_train_bench(args.device, args.size, args.batch, args.steps, args.vgg_weights)
    print(json.dumps(report, indent=2))
    return 0
