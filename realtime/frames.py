"""uint8 BGR frames (OpenCV's layout) <-> the network, on whatever device it runs.

The conversion (BGR->RGB, HWC->CHW, scaling to [0, 1], optional resize for the processing
scale) happens on the device, after a uint8 upload: a quarter of the bytes of a float32
upload, and on CUDA through a reused pinned buffer so the copy is asynchronous.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from realtime.errors import StylecamError
from realtime.model import MIN_SIDE, TransformerNet

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


class DeviceError(StylecamError):
    """The requested device is not available."""


def pick_device(name: str = "auto") -> torch.device:
    if name not in DEVICES:
        raise DeviceError(f"unknown device '{name}' (choose from {', '.join(DEVICES)})")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda asked for, but no CUDA GPU is available (try --device auto)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("--device mps asked for, but Apple's MPS is not available (try --device auto)")
    return torch.device(name)


def configure_cpu_threads() -> None:
    """One intra-op thread per core this process may use (a container or taskset may allow fewer than os.cpu_count())."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores))


def processing_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """The size the network sees at ``scale``: never below its minimum, aspect kept."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    short = min(height, width)
    floor = MIN_SIDE / short  # lowest scale the network accepts for this frame
    scale = max(scale, floor)
    return max(MIN_SIDE, round(height * scale)), max(MIN_SIDE, round(width * scale))


@dataclass
class Precision:
    dtype: torch.dtype

    @property
    def name(self) -> str:
        return {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]


def pick_precision(device: torch.device, requested: str = "auto") -> Precision:
    """fp16 on CUDA (Tensor Cores; InstanceNorm keeps the statistics stable), fp32 elsewhere."""
    table = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    if requested == "auto":
        return Precision(torch.float16 if device.type == "cuda" else torch.float32)
    if requested not in table:
        raise ValueError(f"unknown precision '{requested}' (choose from {', '.join(PRECISIONS)})")
    return Precision(table[requested])


class FrameTooLargeError(StylecamError):
    """A frame whose processing size cannot fit the device's memory; the message gives the limit."""


# Memory the network's activations take per processed pixel at inference: 900 bytes in fp32,
# measured as the growth of peak memory from 512x512 to 1024x1024 on the CPU; with the frame
# conversions around it, 1 kB. Half precision halves the activations.
BYTES_PER_PIXEL_FP32 = 1000


def free_memory(device: torch.device) -> int | None:
    """Bytes the device can still allocate, or None where that cannot be known."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type == "cpu":
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not Linux
            return None
    return None


def max_processing_pixels(device: torch.device, dtype: torch.dtype) -> int | None:
    """The largest processing size (pixels per network call) that fits, with a fifth kept free."""
    free = free_memory(device)
    if free is None:
        return None
    per_pixel = BYTES_PER_PIXEL_FP32 * (torch.finfo(dtype).bits / 32 if dtype.is_floating_point else 1)
    return int(0.8 * free / per_pixel)


class Stylizer:
    """Runs one style network on uint8 BGR frames and returns uint8 BGR frames of the same size."""

    def __init__(self, model: TransformerNet, device: torch.device, precision: Precision, scale: float = 1.0):
        self.device = device
        self.precision = precision
        self.scale = scale
        self.model = model.to(device=device, dtype=precision.dtype).eval()
        self._checked_size: tuple[int, int, int, float] | None = None  # the last size and scale known to fit
        self._pinned_in: torch.Tensor | None = None
        self._pinned_out: torch.Tensor | None = None

    def set_model(self, model: TransformerNet) -> None:
        self.model = model.to(device=self.device, dtype=self.precision.dtype).eval()

    def _upload(self, frames: np.ndarray) -> torch.Tensor:
        # frames: (B, H, W, 3) uint8 BGR on the host -> (B, H, W, 3) uint8 on the device
        host = torch.from_numpy(np.ascontiguousarray(frames))
        if self.device.type != "cuda":
            return host.to(self.device)
        if self._pinned_in is None or self._pinned_in.shape != host.shape:
            self._pinned_in = torch.empty(host.shape, dtype=torch.uint8, pin_memory=True)
        self._pinned_in.copy_(host)
        return self._pinned_in.to(self.device, non_blocking=True)

    def _download(self, frames: torch.Tensor) -> np.ndarray:
        # frames: (B, H, W, 3) uint8 on the device -> numpy on the host
        if self.device.type != "cuda":
            return frames.cpu().numpy()
        if self._pinned_out is None or self._pinned_out.shape != frames.shape:
            self._pinned_out = torch.empty(frames.shape, dtype=torch.uint8, pin_memory=True)
        self._pinned_out.copy_(frames, non_blocking=True)
        torch.cuda.current_stream().synchronize()
        return self._pinned_out.numpy().copy()

    @torch.inference_mode()
    def stylize_batch(self, frames: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 BGR -> (B, H, W, 3) uint8 BGR, stylized."""
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected (B, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
        height, width = frames.shape[1:3]
        self._check_fits(len(frames), height, width)
        pixels = self._upload(frames)
        x = pixels.flip(-1).permute(0, 3, 1, 2).float().div(255.0)  # (B, 3, H, W) RGB in [0, 1]
        work_h, work_w = processing_size(height, width, self.scale)
        resized = (work_h, work_w) != (height, width)
        # Resizing runs in fp32: antialiased interpolation is not implemented for every half type.
        if resized:
            x = F.interpolate(x, size=(work_h, work_w), mode="bilinear", align_corners=False, antialias=work_h < height)
        y = self.model(x.to(self.precision.dtype)).float()
        if resized:
            y = F.interpolate(y, size=(height, width), mode="bilinear", align_corners=False)
        out = y.clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).permute(0, 2, 3, 1).flip(-1)  # (B, H, W, 3) BGR
        return self._download(out.contiguous())

    def _check_fits(self, batch: int, height: int, width: int) -> None:
        """Refuse, before allocating, a frame size the device cannot process (instead of an out-of-memory crash)."""
        if (height, width, batch, self.scale) == self._checked_size:
            return
        work_h, work_w = processing_size(height, width, self.scale)
        limit = max_processing_pixels(self.device, self.precision.dtype)
        if limit is not None and batch * work_h * work_w > limit:
            fitting_scale = self.scale * math.sqrt(limit / (batch * work_h * work_w))
            raise FrameTooLargeError(
                f"a {width}x{height} frame at processing scale {self.scale:g} is {work_w * work_h / 1e6:.0f} megapixels per frame, and "
                f"{self.device} has room for about {limit / batch / 1e6:.0f} (use --scale {math.floor(fitting_scale * 100) / 100:g} or less"
                f"{', or a smaller --batch' if batch > 1 else ''})"
            )
        self._checked_size = (height, width, batch, self.scale)

    def default_batch(self) -> int:
        """Frames per network call for files: a few on CUDA keep the GPU busy; one elsewhere."""
        return 4 if self.device.type == "cuda" else 1

    def stylize(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 BGR -> (H, W, 3) uint8 BGR."""
        return self.stylize_batch(frame[None])[0]
