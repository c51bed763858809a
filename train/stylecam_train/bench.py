"""``stylecam bench-train``: images per second of the recipe's training step, as one JSON object.

The step is the one `stylecam train` takes (transformer, VGG losses, backward, Adam) at the
precision it picks, on random photos and a random painting, so nothing needs downloading. It
lives in the recipe, not beside the runtime's `stylecam bench`: it needs the LightningModule,
and the runtime never imports the recipe or Lightning.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.backends import synchronize
from stylecam.devices import configure_cpu_threads, hardware_line, pick_device
from stylecam_train.cli import default_precision
from stylecam_train.config import TrainConfig
from stylecam_train.module import StyleTransferModule
from stylecam_train.vgg import RANDOM


def _rounded(value: float, digits: int = 2) -> float:
    return round(value, digits)


def time_training(device: torch.device, size: int, batch: int, steps: int, vgg_weights: str | None) -> dict:
    """Images per second of the recipe's step on ``device`` at crop side ``size``: one untimed
    step first (cuDNN picks its algorithms there), then ``steps`` timed ones."""
    with tempfile.TemporaryDirectory(prefix="stylecam-bench-train-") as workdir:
        painting = Path(workdir) / "painting.png"
        cv2.imwrite(str(painting), np.random.default_rng(0).integers(0, 256, (2 * size, 2 * size, 3), dtype=np.uint8))
        # Random VGG weights do the same arithmetic as ImageNet's, so the timing does not depend on them.
        config = TrainConfig(style_image=str(painting), vgg_weights=vgg_weights or RANDOM, crop_size=size, batch_size=batch)
        module = StyleTransferModule(config).to(device)
        module.prepare_loss_network(device)  # reads the painting, so inside the folder's lifetime
    precision = default_precision() if device.type == "cuda" else "32"
    autocast = precision.startswith("bf16")
    optimizer = torch.optim.Adam(module.transformer.parameters(), lr=config.lr)
    photos = torch.rand(batch, 3, size, size, device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = module.compute_losses(photos)["loss"]
        loss.backward()
        optimizer.step()

    started = time.perf_counter()
    step()
    synchronize(device)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    per_step = (time.perf_counter() - started) / steps
    return {
        "size": size,
        "batch": batch,
        "steps": steps,
        "precision": precision,
        "ms_per_step": _rounded(per_step * 1000, 1),
        "images_per_s": _rounded(batch / per_step),
        "first_step_ms": _rounded(first * 1000, 1),
        "vgg": vgg_weights or "random weights (the same work as ImageNet's)",
    }


def run_train_bench(device_name: str, size: int, batch: int, steps: int, vgg_weights: str | None = None) -> dict:
    """The JSON report of `stylecam bench-train`: the step's timing and the hardware it ran on."""
    device = pick_device(device_name)
    if device.type == "cpu":
        # One thread per core this process may use, as `stylecam bench` sets them, so that the
        # two benches' CPU numbers are comparable.
        configure_cpu_threads()
    timing = time_training(device, size, batch, steps, vgg_weights)
    return {"hardware": hardware_line(device), "device": str(device), **timing}
