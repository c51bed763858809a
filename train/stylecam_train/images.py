"""Images as the recipe's tensors: photos as uint8 RGB, the painting at its working size.

Free of Lightning, so ``stylecam paint`` shares the exact preparation of the painting with
training without loading the training stack.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.errors import StylecamError
from stylecam.files import check_input_file
from stylecam.images import IMAGE_SUFFIXES, find_images, fit_long_side, read_image, resize_to_side
from stylecam_train.errors import TrainingInputError


def decode_image(path: Path, max_side: int | None = None) -> torch.Tensor | None:
    """(3, H, W) uint8 RGB, long side at most max_side; None when the file cannot be decoded."""
    image = read_image(path)
    if image is None:
        return None
    rgb = cv2.cvtColor(fit_long_side(image, max_side), cv2.COLOR_BGR2RGB)
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).contiguous()  # (3, H, W)


class UnreadableImagesWarning(UserWarning):
    """Some files in the photo folder could not be decoded and were skipped."""


def decode_folder(folder: Path, max_side: int | None) -> tuple[list[torch.Tensor], list[Path]]:
    """All decodable images of folder, and the files that were skipped; raises when none decode."""
    if not folder.is_dir():
        raise TrainingInputError(f"photo folder {folder} does not exist or is not a folder")
    paths = find_images(folder)
    if not paths:
        raise TrainingInputError(f"photo folder {folder} has no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))}, recursively)")
    images, skipped = [], []
    for path in paths:
        image = decode_image(path, max_side)
        if image is None:
            skipped.append(path)
        else:
            images.append(image)
    if not images:
        raise TrainingInputError(f"photo folder {folder} has {len(paths)} image files but none could be decoded")
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable image(s) of {len(paths)} in {folder} (first: {skipped[0].name})",
            UnreadableImagesWarning,
            stacklevel=2,
        )
    return images, skipped


def load_style_image(path: str | Path, style_size: int) -> torch.Tensor:
    """(1, 3, H, W) float RGB in [0, 1], long side style_size (up or down)."""
    try:
        check_input_file(Path(path), "style image")  # missing, a folder, a FIFO: said before any read
    except StylecamError as error:
        raise TrainingInputError(str(error)) from None
    image = decode_image(Path(path))
    if image is None:
        raise TrainingInputError(f"style image {path} cannot be decoded as an image")
    # At least 16 = 2**4 pixels a side: VGG16 halves the picture at each of the four poolings
    # before its relu5 layers, which leaves them at least one pixel.
    return resize_to_side(image, style_size, minimum=16)
