"""Still images: reading any path (non-ASCII ones too) and resizing. No video, no threads.

The training recipe and ``stylecam paint`` read images through here, so they need neither
PyAV nor the capture threads that the video loops bring in.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from realtime.errors import StylecamError


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
