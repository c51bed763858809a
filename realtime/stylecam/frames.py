"""Frames <-> the network, on whatever device it runs; ``Stylizer`` is also the Python API.

A Stylizer takes what a caller has: uint8 BGR frames (OpenCV's layout) on the fast path,
an RGB array, a PIL image or a torch tensor through ``__call__``, which returns the same kind.

The conversion (BGR->RGB, HWC->CHW, scaling to [0, 1], optional resize for the processing
scale) happens on the device, after a uint8 upload: a quarter of the bytes of a float32
upload, and on CUDA through a reused pinned buffer so the copy is asynchronous.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import torch
import torch.nn.functional as F

from stylecam.backends import EagerBackend, choose_precision, make_backend
from stylecam.choices import BACKENDS, MAX_DETAIL, MAX_SCALE
from stylecam.devices import Precision, configure_cpu_threads, free_memory, pick_device
from stylecam.errors import InputError, InputTypeError, SettingError, StylecamError
from stylecam.model import MIN_SIDE, TransformerNet

if TYPE_CHECKING:
    from PIL import Image

    from stylecam.weights import Style

CHANNEL_ORDERS = ("bgr", "rgb")


def check_scale(scale: object) -> float:
    """The processing scale as a float, or a SettingError: a finite number above 0, at most MAX_SCALE."""
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not (math.isfinite(scale) and 0 < scale <= MAX_SCALE):
        raise SettingError(f"scale must be a number above 0 and at most {MAX_SCALE:g}, got {scale!r}")
    return float(scale)


def check_strength(strength: object) -> float:
    """The style strength as a float, or a SettingError: a number from 0 to 1."""
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not 0 <= strength <= 1:  # NaN fails too
        raise SettingError(f"strength must be a number from 0 to 1, got {strength!r}")
    return float(strength)


def check_detail(detail: object) -> float:
    """The detail amount as a float, or a SettingError: a number from 0 to MAX_DETAIL."""
    if isinstance(detail, bool) or not isinstance(detail, numbers.Real) or not 0 <= detail <= MAX_DETAIL:  # NaN fails too
        raise SettingError(f"detail must be a number from 0 to {MAX_DETAIL:g}, got {detail!r}")
    return float(detail)


def check_keep_colors(keep_colors: object) -> bool:
    if not isinstance(keep_colors, bool | np.bool_):
        raise SettingError(f"keep_colors must be True or False, got {keep_colors!r}")
    return bool(keep_colors)


def check_image_size(width: int, height: int, batch: int = 1) -> None:
    """An InputError for what has no pixels to stylize: 0 rows, 0 columns or a batch of none."""
    if batch == 0:
        raise InputError(f"a batch of 0 images of {width}x{height} pixels: nothing to stylize")
    if width == 0 or height == 0:
        raise InputError(f"an image of {width}x{height} pixels (width x height): nothing to stylize")


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=-1))


def pil_to_rgb(image: Image.Image) -> tuple[np.ndarray, Image.Image | None]:
    """A PIL image of any mode -> (H, W, 3) uint8 RGB for the network, and its alpha band (or None).

    - 16-bit and 32-bit integer grey ("I;16", "I;16B", "I;16L", "I"): 0..65535 scaled to 0..255
      (what a 16-bit PNG or TIFF holds; "I" below 0 or above 65535 is clipped).
    - floating-point grey ("F"): 0..1 when its largest value is at most 1, else 0..255; clipped,
      NaN as black.
    - with alpha ("RGBA", "RGBa", "LA", "La", "PA", "P" with a transparent colour): the colour
      without the alpha (not composited onto a background), and the alpha returned alongside.
    - everything else ("1", "L", "P", "CMYK", "YCbCr", "HSV", ...): Pillow's conversion to RGB.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.float64)
        return _gray_to_rgb(np.rint(np.clip(values, 0, 65535) * (255 / 65535)).astype(np.uint8)), None
    if mode == "F":
        values = np.nan_to_num(np.asarray(image).astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = 1.0 if values.size == 0 or values.max() <= 1.0 else 255.0
        return _gray_to_rgb(np.rint(np.clip(values, 0, top) * (255 / top)).astype(np.uint8)), None
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in image.info)
    try:
        if has_alpha:
            rgba = image.convert("RGBA")
            return np.asarray(rgba)[..., :3].copy(), rgba.getchannel("A")
        return np.asarray(image.convert("RGB")), None
    except (ValueError, OSError) as error:
        raise InputError(f"a PIL image of mode {mode!r} cannot be converted to RGB ({error})") from error


def processing_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """The size the network sees at ``scale``: never below its minimum, aspect kept."""
    if scale <= 0:
        raise SettingError(f"scale must be positive, got {scale}")
    if height <= 0 or width <= 0:
        raise InputError(f"an image of {width}x{height} pixels (width x height): nothing to stylize")
    short = min(height, width)
    floor = MIN_SIDE / short  # lowest scale the network accepts for this frame
    scale = max(scale, floor)
    return max(MIN_SIDE, round(height * scale)), max(MIN_SIDE, round(width * scale))


# The detail that --detail adds back is what a Gaussian of this share of the frame's short side
# blurs away: sigma 12 pixels at 480 rows, so a face's eyes, mouth and outline, not only its
# finest edges. On the 17 faces of the fast styles' test (train/evidence/README.md, "Detail
# for the fast styles") sigma = short side / 160 brought back too little of the faces.
DETAIL_SIDE_DIVISOR = 40

# BT.601 luma weights. In Y'UV, R, G and B each equal Y plus a term of U and V only, so
# replacing Y while keeping U and V adds the same amount to all three channels.
_LUMA = (0.299, 0.587, 0.114)


def _gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, C, H, W) blurred by a Gaussian of ``sigma`` pixels, edges reflected: two 1-D passes.

    Written out rather than taken from torchvision, whose transforms take about a second to
    import; the live path imports nothing it can do without.
    """
    radius = max(1, math.ceil(3 * sigma))
    radius = min(radius, image.shape[-2] - 1, image.shape[-1] - 1)  # reflection needs the pad below the side
    if radius < 1:
        return image
    taps = torch.arange(-radius, radius + 1, device=image.device, dtype=image.dtype)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = image.shape[1]
    padded = F.pad(image, (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def _smooth(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian blur of ``sigma`` pixels, run on the image shrunk by about sigma / 3 and enlarged back.

    A blur that wide keeps nothing the shrinking loses: at 640x480 and sigma 12 this is 1 ms
    against 7 for the blur at full size, and the two differ by under a level of 255.
    """
    factor = max(1, int(sigma // 3))
    if factor == 1:
        return _gaussian_blur(image, sigma)
    height, width = image.shape[-2:]
    small = F.interpolate(image, size=(-(-height // factor), -(-width // factor)), mode="area")
    return F.interpolate(_gaussian_blur(small, sigma / factor), size=(height, width), mode="bilinear", align_corners=False)


def detail_sigma(height: int, width: int) -> float:
    """The blur that separates the detail from the rest: a fixed share of the frame's short side."""
    return max(1.0, min(height, width) / DETAIL_SIDE_DIVISOR)


def brightness_detail(original: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W): the original's brightness less its blur (eyes, mouths, hair, edges), about 0 on flat ground."""
    luma = (original * original.new_tensor(_LUMA).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    return luma - _smooth(luma, detail_sigma(*original.shape[-2:]))


def apply_controls(
    stylized: torch.Tensor, original: torch.Tensor, strength: float = 1.0, keep_colors: bool = False, detail: float = 0.0
) -> torch.Tensor:
    """The creative controls, on (B, 3, H, W) RGB in [0, 1], on the device (a few element-wise ops and a blur).

    detail: the original's brightness detail (``brightness_detail``), times this, added to the
    stylized frame: the eyes, mouths and edges that a small network at a low processing scale
    blurs away come back, in the painting's colours (it is added to R, G and B alike).
    keep_colors: the stylized frame's brightness with the original's colour, in Y'UV: the
    painting's strokes and light, the scene's own colours (skin stays skin-coloured).
    strength: a blend with the original, 1 the full style, 0 the original.
    """
    if detail > 0:
        stylized = (stylized + detail * brightness_detail(original)).clamp(0.0, 1.0)
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
        detail: float | None = None,
    ):
        self.device = device
        self.precision = precision
        self.scale = scale  # validated: see the property
        self.style = style  # what was loaded, when built from a style file: name, credit, metadata
        self.model = model.to(device=device, dtype=precision.dtype).eval()
        self.strength = 1.0  # 1: the style alone; 0: the original frame (see apply_controls)
        self.keep_colors = False  # brightness from the style, colour from the original
        # the original's detail added back (see apply_controls); by default the style's own
        self.detail = detail if detail is not None else (style.default_detail if style is not None else 0.0)
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
        threads: int | None = None,
        detail: float | None = None,
    ) -> Stylizer:
        """A shipped or installed style by name, or a style file by path, ready to run.

        ``device``: auto, cuda, mps or cpu. ``scale``: the processing scale (the style's own by
        default: it sets the stroke size; above 0, at most stylecam.choices.MAX_SCALE).
        ``strength`` (0 to 1) blends with the original; ``keep_colors`` keeps the original's
        colours; ``detail`` (0 to stylecam.choices.MAX_DETAIL) adds back the original's
        detail, by default as much as the style's file says (its fast variants: some; see
        apply_controls). All four can be changed later as attributes, checked the same way.
        ``backend``: auto, eager, compile or onnx (see stylecam.backends); with ``precision``
        auto, CUDA runs fp16 when compiled and fp32 when eager (measured faster each way).
        ``threads``: None (the default) leaves torch's thread count as the caller set it; a
        number sets it, process-wide (``torch.set_num_threads``), before the back end is built
        (ONNX Runtime takes the count then). The ``stylecam`` command uses one per core.
        Raises StylecamError subclasses with a clear message; an invalid setting's is also a
        ValueError (``SettingError``).
        """
        from stylecam.weights import load_style

        if backend not in BACKENDS:
            raise SettingError(f"unknown back end {backend!r} (choose from {', '.join(BACKENDS)})")
        if scale is not None:
            check_scale(scale)
        if detail is not None:
            check_detail(detail)
        strength, keep_colors = check_strength(strength), check_keep_colors(keep_colors)
        where = pick_device(device)
        chosen_precision = choose_precision(where, precision, backend)
        loaded, model = load_style(style)
        if threads is not None:
            configure_cpu_threads(threads)
        scale = loaded.default_scale if scale is None else scale
        stylizer = cls(model, where, chosen_precision, scale=scale, style=loaded, backend=backend, detail=detail)
        stylizer.strength, stylizer.keep_colors = strength, keep_colors
        return stylizer

    @property
    def scale(self) -> float:
        """The processing scale: the network sees the frame resized by it (above 0, at most MAX_SCALE)."""
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        self._scale = check_scale(value)

    @property
    def strength(self) -> float:
        """The blend with the original: 1 the style alone, 0 the original frame (see apply_controls)."""
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        self._strength = check_strength(value)

    @property
    def detail(self) -> float:
        """How much of the original's detail is added back: 0 none (see apply_controls)."""
        return self._detail

    @detail.setter
    def detail(self, value: float) -> None:
        self._detail = check_detail(value)

    @property
    def keep_colors(self) -> bool:
        """Brightness and strokes from the style, colour from the original (see apply_controls)."""
        return self._keep_colors

    @keep_colors.setter
    def keep_colors(self, value: bool) -> None:
        self._keep_colors = check_keep_colors(value)

    @property
    def style_name(self) -> str:
        return self.style.name if self.style is not None else "stylized"

    @overload
    def __call__(self, image: np.ndarray, channels: str = "bgr") -> np.ndarray: ...

    @overload
    def __call__(self, image: Image.Image, channels: str = "bgr") -> Image.Image: ...

    @overload
    def __call__(self, image: torch.Tensor, channels: str = "bgr") -> torch.Tensor: ...

    def __call__(self, image: Any, channels: str = "bgr") -> Any:
        """Stylize ``image`` and return the same kind, size and layout.

        - NumPy uint8 array, (H, W, 3) or (B, H, W, 3): channel order given by ``channels``
          ("bgr", OpenCV's, by default; "rgb" for PIL, imageio, matplotlib).
        - PIL image: any mode, converted as ``pil_to_rgb`` says (16-bit grey scaled from
          0..65535, "F" from 0..1 or 0..255). The result is RGB, the painting being in colour
          whatever the input's mode; an input with alpha (RGBA, LA, PA, P with a transparent
          colour) gives RGBA with its alpha kept.
        - torch tensor, (3, H, W) or (B, 3, H, W), RGB: float in [0, 1] or uint8 in [0, 255],
          on any device; the result has the input's dtype and device.

        An image without pixels, of the wrong shape, dtype or channel count raises InputError
        (a StylecamError and a ValueError); anything else than these three kinds, InputTypeError
        (a StylecamError and a TypeError); a wrong ``channels``, SettingError.
        """
        if channels not in CHANNEL_ORDERS:
            raise SettingError(f"channels must be one of {', '.join(CHANNEL_ORDERS)}, got {channels!r}")
        if isinstance(image, np.ndarray):
            return self._call_numpy(image, channels)
        if isinstance(image, torch.Tensor):
            return self._call_tensor(image)
        pil = sys.modules.get("PIL.Image")  # PIL is optional: an image of it can only exist if it is imported
        if pil is not None and isinstance(image, pil.Image):
            return self._call_pil(image)
        raise InputTypeError(f"expected a NumPy array, a PIL image or a torch tensor, got {type(image).__name__}")

    def _call_numpy(self, image: np.ndarray, channels: str) -> np.ndarray:
        if image.ndim not in (3, 4):
            raise InputError(f"expected an array of shape (H, W, 3) or (B, H, W, 3), got shape {image.shape}")
        if image.shape[-1] != 3:
            raise InputError(f"expected 3 channels, got {image.shape[-1]} (an array of shape (H, W, 3) or (B, H, W, 3), got {image.shape})")
        if image.dtype != np.uint8:
            raise InputError(f"expected a uint8 array (0 to 255), got {image.dtype}")
        batch = image[None] if image.ndim == 3 else image
        if channels == "rgb":
            batch = batch[..., ::-1]
        out = self.stylize_batch(np.ascontiguousarray(batch))
        if channels == "rgb":
            out = np.ascontiguousarray(out[..., ::-1])
        return out[0] if image.ndim == 3 else out

    def _call_pil(self, image: Image.Image) -> Image.Image:
        from PIL import Image

        check_image_size(*image.size)
        rgb, alpha = pil_to_rgb(image)
        result = Image.fromarray(self._call_numpy(rgb, "rgb"))
        if alpha is not None:
            result.putalpha(alpha)
        return result

    @torch.inference_mode()
    def _call_tensor(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim not in (3, 4):
            raise InputError(f"expected a tensor of shape (3, H, W) or (B, 3, H, W), got shape {tuple(image.shape)}")
        if image.shape[-3] != 3:
            raise InputError(
                f"expected 3 channels, got {image.shape[-3]} (a tensor of shape (3, H, W) or (B, 3, H, W), got {tuple(image.shape)})"
            )
        if not (image.dtype == torch.uint8 or image.is_floating_point()):
            raise InputError(f"expected a float tensor in [0, 1] or a uint8 tensor, got {image.dtype}")
        batch = image[None] if image.ndim == 3 else image
        height, width = batch.shape[-2:]
        check_image_size(width, height, len(batch))
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
        return apply_controls(y.clamp(0.0, 1.0), original, self.strength, self.keep_colors, self.detail)

    def set_model(self, model: TransformerNet, style: Style | None = None, keep_scale: bool = False, keep_detail: bool = False) -> None:
        """Run another network; with its ``style``, ``style_name`` follows it and so do the
        processing scale and the detail (the style's defaults), unless ``keep_scale`` and ``keep_detail``."""
        self.model = model.to(device=self.device, dtype=self.precision.dtype).eval()
        if style is not None:
            self.style = style
            if not keep_scale:
                self.scale = style.default_scale
            if not keep_detail:
                self.detail = style.default_detail
        self._build_backend()

    @torch.no_grad()
    def set_code(self, code: dict[str, torch.Tensor]) -> None:
        """Give the running network another style code (a painter network's style, or a mix of two), in place.

        Cheap enough for every frame (a few thousand numbers), which is what a morph between two
        styles needs. The eager and compiled back ends read the parameters at each call; an ONNX
        or OpenVINO graph holds its own copy of the weights, so those back ends give way to eager until the
        next ``set_model``.
        """
        parameters = dict(self.model.named_parameters())
        unknown = [key for key in code if key not in parameters]
        if unknown:
            raise ValueError(f"not a style code of this network: {unknown[0]}")
        for key, value in code.items():
            parameters[key].copy_(value.to(parameters[key].device, parameters[key].dtype))
        if self.backend.copies_weights:
            self.backend = EagerBackend(self.model, self.device)

    def _upload(self, frames: np.ndarray) -> torch.Tensor:
        # frames: (B, H, W, 3) uint8 BGR on the host -> (B, H, W, 3) uint8 on the device
        if not frames.flags.writeable:  # np.asarray(PIL image) is read-only, and torch warns on such arrays
            frames = frames.copy()
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
            raise InputError(f"expected (B, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
        height, width = frames.shape[1:3]
        check_image_size(width, height, len(frames))
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
