"""``stylecam bench``: end-to-end and model-only speed, next to the classic per-frame loop.

Both loops run in one process on the same machine, so their ratio means something even on
a busy or shared machine; absolute numbers belong with the hardware line printed beside them.
"""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.devices import hardware_line
from stylecam.frames import Stylizer, processing_size
from stylecam.loops import convert_video
from stylecam.sinks import VideoWriter


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def classic_loop(src: Path, dst: Path, model: torch.nn.Module, device: torch.device, frames: int) -> float:
    """The loop of the classic examples: float32 on the CPU, upload, fp32, download, mp4v. Returns fps."""
    model = model.to(device=device, dtype=torch.float32)
    capture = cv2.VideoCapture(str(src))
    writer = None
    done = 0
    started = time.perf_counter()
    while done < frames:
        ok, frame = capture.read()
        if not ok:
            break
        x = torch.from_numpy(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        y = model(x.to(device)).clamp(0, 1).mul(255).byte()[0].permute(1, 2, 0).cpu().numpy()
        if writer is None:
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), 30, (frame.shape[1], frame.shape[0]))
        writer.write(cv2.cvtColor(y, cv2.COLOR_RGB2BGR))
        done += 1
    writer.release()
    capture.release()
    return done / (time.perf_counter() - started)


@torch.inference_mode()
def model_only(stylizer: Stylizer, height: int, width: int, repeats: int) -> float:
    """Milliseconds per frame for the network alone, at its processing size, on a tensor already on the device."""
    work_h, work_w = processing_size(height, width, stylizer.scale)
    x = torch.rand(1, 3, work_h, work_w, device=stylizer.device, dtype=stylizer.precision.dtype)
    stylizer.model(x)  # warm-up: cuDNN picks its algorithms on the first call
    _sync(stylizer.device)
    started = time.perf_counter()
    for _ in range(repeats):
        stylizer.model(x)
    _sync(stylizer.device)
    return (time.perf_counter() - started) / repeats * 1000


def trim(src: Path, dst: Path, frames: int) -> int:
    """The first ``frames`` frames of ``src`` in a new file, so both loops read the same input."""
    capture = cv2.VideoCapture(str(src))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30
    copied = 0
    with VideoWriter(dst, fps=fps) as writer:
        while copied < frames:
            ok, frame = capture.read()
            if not ok:
                break
            writer.write(frame)
            copied += 1
    capture.release()
    return copied


def run_bench(src: Path, stylizer: Stylizer, style_name: str, frames: int, batch_size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="stylecam-bench-") as workdir:
        clip = Path(workdir) / "clip.mp4"
        count = trim(src, clip, frames)
        classic_model = copy.deepcopy(stylizer.model)  # classic_loop turns it to fp32
        classic_fps = classic_loop(clip, Path(workdir) / "classic.mp4", classic_model, stylizer.device, count)
        report = convert_video(clip, Path(workdir) / "stylecam.mp4", stylizer, style_name, batch_size=batch_size, show_progress=False)
        model_ms = model_only(stylizer, report.height, report.width, repeats=max(3, min(20, count)))
    return {
        "hardware": hardware_line(stylizer.device),
        "frames": count,
        "size": f"{report.width}x{report.height}",
        "classic_loop_fps": round(classic_fps, 2),
        "stylecam_fps": report.fps,
        "speedup": round(report.fps / classic_fps, 2) if classic_fps else None,
        "model_only_ms": round(model_ms, 2),
        "precision": stylizer.precision.name,
        "scale": stylizer.scale,
        "batch": batch_size,
    }
