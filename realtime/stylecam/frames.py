"""Frames <-> the network, on whatever device it runs; ``Stylizer`` is also the Python API.

A Stylizer takes what a caller has: uint8 BGR frames (OpenCV's layout) on the fast path,
an RGB array, a PIL image or a torch tensor through ``__call__``, which returns the same kind.

The conversion (BGR->RGB, HWC->CHW, scaling to [0, 1], optional resize for the processing
scale) happens on the device, after a uint8 upload: a quarter of the bytes of a float32
upload, and on CUDA through a reused pinned buffer so the copy is asynchronous.
"""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from stylecam.backends import EagerBackend, choose_precision, make_backend
from stylecam.devices import Precision, configure_cpu_threads, free_memory, pick_device
from stylecam.errors import StylecamError
from stylecam.model import MIN_SIDE, TransformerNet

if TYPE_CHECKING:
    from stylecam.weights import Style

CHANNEL_ORDERS = ("bgr", "rgb")


def processing_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """The size the network sees at ``scale``: never below its minimum, aspect kept."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    short = min(height, width)
    floor = MIN_SIDE / short  # lowest scale the network accepts for this frame
    scale = max(scale, floor)
    return max(MIN_SIDE, round(height * scale)), max(MIN_SIDE, round(width * scale))


# BT.601 luma weights. In Y'UV, R, G and B each equal Y plus a term of U and V only, so
# replacing Y while keeping U and V adds the same amount to all three channels.
_LUMA = (0.299, 0.587, 0.114)


def apply_controls(stylized: torch.Tensor, original: torch.Tensor, strength: float = 1.0, keep_colors: bool = False) -> torch.Tensor:
    """The creative controls, on (B, 3, H, W) RGB in [0, 1], on the device (a few element-wise ops).

    keep_colors: the stylized frame's brightness with the original's colour, in Y'UV: the
    painting's strokes and light, the scene's own colours (skin stays skin-coloured).
    strength: a blend with the original, 1 the full style, 0 the original.
    """
    if not keep_colors and strength >= 1.0:
        return stylized
    if keep_colors:
        weights = stylized.new_tensor(_LUMA).view(1, 3, 1, 1)
        luma_change = ((stylized - original) * weights).sum(dim=1, keepdim=True)
        stylized = (original + luma_change).clamp(0.0, 1.0)
    if strength < 1.0:
        stylized = torch.lerp(original, stylized, max(0.0, strength))
    return stylized


class FrameTooLargeError(StylecamError):
    """A frame whose processing size cannot fit the device's memory; the message gives the limit."""


# Memory the network's activations take per processed pixel at inference: 900 bytes in fp32,
# measured as the growth of peak memory from 512x512 to 1024x1024 on the CPU; with the frame
# conversions around it, 1 kB. Half precision halves the activations.
BYTES_PER_PIXEL_FP32 = 1000


def max_processing_pixels(device: torch.device, dtype: torch.dtype) -> int | None:
    """The largest processing size (pixels per network call) that fits, with a fifth kept free."""
    free = free_memory(device)
    if free is None:
        return None
    per_pixel = BYTES_PER_PIXEL_FP32 * (torch.finfo(dtype).bits / 32 if dtype.is_floating_point else 1)
    return int(0.8 * free / per_pixel)


class Stylizer:
    """Runs one style network on frames and returns frames of the same size.

    From Python::

        stylizer = Stylizer.from_style("starry_night", device="auto")
        painted = stylizer(image)  # a NumPy array (BGR unless channels="rgb"), a PIL image or a tensor

    The loops call ``stylize_batch`` with uint8 BGR frames directly.
    """

    def __init__(
        self,
        model: TransformerNet,
        device: torch.device,
        precision: Precision,
        scale: float = 1.0,
        style: Style | None = None,
        backend: str = "eager",
    ):
        self.device = device
        self.precision = precision
        self.scale = scale
        self.style = style  # what was loaded, when built from a style file: name, credit, metadata
        self.model = model.to(device=device, dtype=precision.dtype).eval()
        self.strength = 1.0  # 1: the style alone; 0: the original frame (see apply_controls)
        self.keep_colors = False  # brightness from the style, colour from the original
        self._checked_size: tuple[int, int, int, float] | None = None  # the last size and scale known to fit
        self._pinned_in: torch.Tensor | None = None
        self._pinned_out: torch.Tensor | None = None
        self.backend_name = backend  # as asked: "auto" is resolved again for each model
        self._build_backend()

    def _build_backend(self) -> None:
        """What runs self.model (eager, torch.compile, ONNX Runtime: see stylecam.backends)."""
        self.backend = make_backend(self.backend_name, self.model, self.device, self.precision)

    @classmethod
    def from_style(
        cls,
        style: str | os.PathLike[str] = "starry_night",
        device: str = "auto",
        precision: str = "auto",
        scale: float | None = None,
        strength: float = 1.0,
        keep_colors: bool = False,
        backend: str = "auto",
    ) -> Stylizer:
        """A shipped or installed style by name, or a style file by path, ready to run.

        ``device``: auto, cuda, mps or cpu. ``scale``: the processing scale (the style's own by
        default: it sets the stroke size). ``strength`` (0 to 1) blends with the original;
        ``keep_colors`` keeps the original's colours. Both can be changed later as attributes.
        ``backend``: auto, eager, compile or onnx (see stylecam.backends); with ``precision``
        auto, CUDA runs fp16 when compiled and fp32 when eager (measured faster each way).
        Raises StylecamError subclasses with a clear message.
        """
        from stylecam.weights import load_style

        loaded, model = load_style(style)
        where = pick_device(device)
        if where.type == "cpu":
            configure_cpu_threads()
        scale = loaded.default_scale if scale is None else scale
        if not (math.isfinite(scale) and scale > 0):
            raise StylecamError(f"scale must be a positive number, got {scale}")
        if not 0 <= strength <= 1:
            raise StylecamError(f"strength must be from 0 to 1, got {strength}")
        stylizer = cls(model, where, choose_precision(where, precision, backend), scale=scale, style=loaded, backend=backend)
        stylizer.strength, stylizer.keep_colors = strength, keep_colors
        return stylizer

    @property
    def style_name(self) -> str:
        return self.style.name if self.style is not None else "stylized"

    def __call__(self, image: Any, channels: str = "bgr") -> Any:
        """Stylize ``image`` and return the same kind, size and layout.

        - NumPy uint8 array, (H, W, 3) or (B, H, W, 3): channel order given by ``channels``
          ("bgr", OpenCV's, by default; "rgb" for PIL, imageio, matplotlib).
        - PIL image: any mode; the result is RGB (RGBA keeps its alpha).
        - torch tensor, (3, H, W) or (B, 3, H, W), RGB: float in [0, 1] or uint8 in [0, 255],
          on any device; the result has the input's dtype and device.
        """
        if channels not in CHANNEL_ORDERS:
            raise ValueError(f"channels must be one of {', '.join(CHANNEL_ORDERS)}, got {channels!r}")
        if isinstance(image, np.ndarray):
            return self._call_numpy(image, channels)
        if isinstance(image, torch.Tensor):
            return self._call_tensor(image)
        pil = sys.modules.get("PIL.Image")  # PIL is optional: an image of it can only exist if it is imported
        if pil is not None and isinstance(image, pil.Image):
            return self._call_pil(image)
        raise TypeError(f"expected a NumPy array, a PIL image or a torch tensor, got {type(image).__name__}")

    def _call_numpy(self, image: np.ndarray, channels: str) -> np.ndarray:
        if image.dtype != np.uint8 or image.ndim not in (3, 4) or image.shape[-1] != 3:
            raise ValueError(f"expected a uint8 array of shape (H, W, 3) or (B, H, W, 3), got {image.dtype} {image.shape}")
        batch = image[None] if image.ndim == 3 else image
        if channels == "rgb":
            batch = batch[..., ::-1]
        out = self.stylize_batch(np.ascontiguousarray(batch))
        if channels == "rgb":
            out = np.ascontiguousarray(out[..., ::-1])
        return out[0] if image.ndim == 3 else out

    def _call_pil(self, image: Any) -> Any:
        from PIL import Image

        rgb = np.asarray(image.convert("RGB"))
        result = Image.fromarray(self._call_numpy(rgb, "rgb"), mode="RGB")
        if image.mode in ("RGBA", "LA"):
            result.putalpha(image.getchannel("A"))
        return result

    @torch.inference_mode()
    def _call_tensor(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim not in (3, 4) or image.shape[-3] != 3:
            raise ValueError(f"expected a tensor of shape (3, H, W) or (B, 3, H, W), got {tuple(image.shape)}")
        if not (image.dtype == torch.uint8 or image.is_floating_point()):
            raise ValueError(f"expected a float tensor in [0, 1] or a uint8 tensor, got {image.dtype}")
        batch = image[None] if image.ndim == 3 else image
        height, width = batch.shape[-2:]
        self._check_fits(len(batch), height, width)
        x = batch.to(self.device)
        x = x.float().div(255.0) if image.dtype == torch.uint8 else x.float()
        y = self._run(x)
        y = y.mul(255.0).round().to(torch.uint8) if image.dtype == torch.uint8 else y.to(image.dtype)
        y = y.to(image.device)
        return y[0] if image.ndim == 3 else y

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) float RGB in [0, 1] on the device -> the same, stylized, clamped to [0, 1]."""
        height, width = x.shape[-2:]
        work_h, work_w = processing_size(height, width, self.scale)
        resized = (work_h, work_w) != (height, width)
        original = x
        # Resizing runs in fp32: antialiased interpolation is not implemented for every half type.
        if resized:
            x = F.interpolate(x, size=(work_h, work_w), mode="bilinear", align_corners=False, antialias=work_h < height)
        y = self.backend(x.to(self.precision.dtype)).float()
        if resized:
            y = F.interpolate(y, size=(height, width), mode="bilinear", align_corners=False)
        return apply_controls(y.clamp(0.0, 1.0), original, self.strength, self.keep_colors)

    def set_model(self, model: TransformerNet, style: Style | None = None, keep_scale: bool = False) -> None:
        """Run another network; with its ``style``, ``style_name`` follows it and so does the
        processing scale (the style's default), unless ``keep_scale``."""
        self.model = model.to(device=self.device, dtype=self.precision.dtype).eval()
        if style is not None:
            self.style = style
            if not keep_scale:
                self.scale = style.default_scale
        self._build_backend()

    @torch.no_grad()
    def set_code(self, code: dict[str, torch.Tensor]) -> None:
        """Give the running network another style code (a painter network's style, or a mix of two), in place.

        Cheap enough for every frame (a few thousand numbers), which is what a morph between two
        styles needs. The eager and compiled back ends read the parameters at each call; an ONNX
        graph holds its own copy of the weights, so that back end gives way to eager until the
        next ``set_model``.
        """
        parameters = dict(self.model.named_parameters())
        unknown = [key for key in code if key not in parameters]
        if unknown:
            raise ValueError(f"not a style code of this network: {unknown[0]}")
        for key, value in code.items():
            parameters[key].copy_(value.to(parameters[key].device, parameters[key].dtype))
        if self.backend.name == "onnx":
            self.backend = EagerBackend(self.model, self.device)

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
        out = self._run(x).mul(255.0).round().to(torch.uint8).permute(0, 2, 3, 1).flip(-1)  # (B, H, W, 3) BGR
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
