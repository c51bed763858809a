"""Still images, the one home of their helpers: suffixes, folder search, reading any path
(non-ASCII ones too), resizing, side-by-side, thumbnails and atomic writes. No video, no threads.

The training recipe and ``stylecam paint`` read images through here, so they need neither
PyAV nor the capture threads that the video loops bring in.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stylecam.errors import OutputError, StylecamError

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
    """Write atomically: a temporary file beside ``path``, then a rename."""
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    ok, encoded = cv2.imencode(path.suffix, frame)
    if not ok:
        raise OutputError(f"cannot encode an image as {path.suffix}")
    try:
        tmp.write_bytes(encoded.tobytes())
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path} ({error.strerror})") from error


def square_thumbnail(image: torch.Tensor, size: int) -> torch.Tensor:
    """(3, H, W) uint8 -> (3, size, size) float in [0, 1]: centre square, resized."""
    _, height, width = image.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = image[:, top : top + side, left : left + side].unsqueeze(0).float().div(255)
    return F.interpolate(square, size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)[0].clamp(0, 1)


def save_rgb_png(image: torch.Tensor, path: Path) -> None:
    """(3, H, W) float RGB in [0, 1] -> PNG file."""
    array = image.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(array, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {path}")
