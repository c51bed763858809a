"""Still images, the one home of their helpers: suffixes, folder search, reading any path
(non-ASCII ones too), resizing (arrays and tensors), side-by-side, thumbnails and writing them
(atomically, through stylecam.files). No video, no threads.

The training recipe and ``stylecam paint`` read images through here, so they need neither
PyAV nor the capture threads that the video loops bring in.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stylecam.errors import OutputError, StylecamError
from stylecam.files import atomic_write

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


def file_name_part(style_name: str) -> str:
    """A style's name as part of a file name: a blend ``a:0.6,b:0.4`` becomes ``a-0.6+b-0.4``; anything odd becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", style_name.replace(":", "-").replace(",", "+")).strip("._") or "style"


def read_image(path: Path) -> np.ndarray | None:
    """(H, W, 3) uint8 BGR, or None when the file is missing or cannot be decoded."""
    try:
        # imdecode instead of imread: imread cannot open non-ASCII paths on Windows.
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None


def read_image_or_fail(path: Path) -> np.ndarray:
    """read_image, or a StylecamError naming the file."""
    image = read_image(path)
    if image is None:
        reason = "does not exist" if not Path(path).exists() else "cannot be read as an image"
        raise StylecamError(f"image {path} {reason}")
    return image


def fit_long_side(image: np.ndarray, max_size: int | None) -> np.ndarray:
    """image shrunk (never enlarged) so that its long side is at most max_size."""
    height, width = image.shape[:2]
    if not max_size or max(height, width) <= max_size:
        return image
    factor = max_size / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def collect_images(inputs: list[Path]) -> list[Path]:
    """Files as given, folders searched recursively for images; sorted, no duplicates."""
    found: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found.extend(find_images(item))
        else:
            found.append(item)
    unique: dict[Path, None] = dict.fromkeys(found)
    return list(unique)


def find_images(folder: Path) -> list[Path]:
    """Image files under folder (recursive), by suffix, case-insensitive, sorted for reproducibility."""
    if not folder.is_dir():
        raise StylecamError(f"photo folder {folder} does not exist or is not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if left.shape[0] != right.shape[0]:
        right = cv2.resize(right, (round(right.shape[1] * left.shape[0] / right.shape[0]), left.shape[0]))
    return np.concatenate([left, right], axis=1)


def write_image(path: Path, frame: np.ndarray) -> None:
    """(H, W, 3) uint8 BGR -> an image file, its format from path's suffix; written atomically (stylecam.files)."""
    path = Path(path)
    # imencode instead of imwrite: the format comes from the final suffix, not from the temporary
    # file's, and imwrite cannot open non-ASCII paths on Windows.
    ok, encoded = cv2.imencode(path.suffix, frame)
    if not ok:
        raise OutputError(f"cannot encode an image as {path.suffix}")
    try:
        with atomic_write(path) as tmp:
            tmp.write_bytes(encoded.tobytes())
    except OSError as error:
        raise OutputError(f"cannot write {path} ({error.strerror})") from error


def resize_batch(batch: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(N, C, H, W) float -> (N, C, *size): bilinear, antialiased when it shrinks.

    The one tensor resize of the recipe (and of the runtime's thumbnails); ``batch`` itself when it
    already has that size. Antialiased only when shrinking: a plain
    bilinear shrink skips pixels and turns fine detail into noise, and when enlarging the
    antialias filter is plain bilinear anyway.
    """
    height, width = batch.shape[-2:]
    if (height, width) == tuple(size):
        return batch
    shrinking = size[0] < height or size[1] < width
    return F.interpolate(batch, size=size, mode="bilinear", antialias=shrinking, align_corners=False)


def resize_to_side(image: torch.Tensor, side: int, *, short_side: bool = False, minimum: int = 1) -> torch.Tensor:
    """(3, H, W) uint8 -> float (1, 3, h, w) in [0, 1], aspect kept, its long side (or short side) ``side``, up or down.

    No side comes out below ``minimum`` (a network needs a few pixels to work on).
    """
    _, height, width = image.shape
    factor = side / (min(height, width) if short_side else max(height, width))
    size = (max(minimum, round(height * factor)), max(minimum, round(width * factor)))
    return resize_batch(image.unsqueeze(0).float().div(255), size).clamp(0, 1)


def square_thumbnail(image: torch.Tensor, size: int) -> torch.Tensor:
    """(3, H, W) uint8 -> (3, size, size) float in [0, 1]: centre square, resized."""
    _, height, width = image.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = image[:, top : top + side, left : left + side].unsqueeze(0).float().div(255)
    return resize_batch(square, (size, size))[0].clamp(0, 1)


def save_rgb_png(image: torch.Tensor, path: Path) -> None:
    """(3, H, W) float RGB in [0, 1] -> PNG file (its folder made if needed), through write_image."""
    array = image.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_image(Path(path), cv2.cvtColor(array, cv2.COLOR_RGB2BGR))
