"""Training photos: a folder decoded once into memory, served as random multi-scale crops.

The shared set has 63 photos, so variety comes from crops at several scales and flips; each
photo is decoded once (no JPEG decoding per step, which would starve a GPU) and kept as uint8
with its long side capped (memory), and batches travel to the device as uint8 (4x less
transfer than float32); the module converts them to [0, 1].
"""

from __future__ import annotations

import math
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from stylecam.images import resize_batch
from stylecam_train.errors import TrainingInputError
from stylecam_train.images import decode_folder


def random_crop(image: torch.Tensor, crop_size: int, scale: tuple[float, float], generator: torch.Generator | None = None) -> torch.Tensor:
    """(3, H, W) uint8 -> (3, crop, crop) uint8: a random square covering scale of the short side, resized, maybe flipped.

    Several scales matter on a small photo set: whole-scene crops teach layout, close crops
    teach texture, and the network sees each photo at many sizes.
    """
    _, height, width = image.shape
    short_side = min(height, width)
    fraction = scale[0] + (scale[1] - scale[0]) * torch.rand((), generator=generator).item()
    side = max(1, min(short_side, round(short_side * math.sqrt(fraction))))  # scale is an area fraction
    top = int(torch.randint(0, height - side + 1, (), generator=generator))
    left = int(torch.randint(0, width - side + 1, (), generator=generator))
    patch = image[:, top : top + side, left : left + side].unsqueeze(0).float()  # (1, 3, s, s)
    patch = resize_batch(patch, (crop_size, crop_size))
    if torch.rand((), generator=generator).item() < 0.5:
        patch = patch.flip(-1)
    return patch.squeeze(0).round().clamp(0, 255).to(torch.uint8)


class CropDataset(Dataset):
    """A fixed number of random crops per epoch (the photo set is small; steps, not files, count)."""

    def __init__(self, images: list[torch.Tensor], crop_size: int, scale: tuple[float, float], length: int):
        self.images = images
        self.crop_size = crop_size
        self.scale = scale
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        # The random generator of the process (seeded by Lightning per worker) picks photo and crop;
        # index only counts samples.
        choice = int(torch.randint(0, len(self.images), ()))
        return random_crop(self.images[choice], self.crop_size, self.scale)


class PhotoDataModule(pl.LightningDataModule):
    def __init__(
        self,
        folder: str | Path,
        crop_size: int = 256,
        batch_size: int = 4,
        scale: tuple[float, float] = (0.25, 1.0),
        steps_per_epoch: int = 1000,
        decode_side: int | None = None,
        num_workers: int = 0,
    ):
        super().__init__()
        if crop_size < 16:
            raise TrainingInputError(f"crop size must be at least 16 pixels, got {crop_size}")
        if not 0 < scale[0] <= scale[1] <= 1:
            raise TrainingInputError(f"crop scale range must satisfy 0 < min <= max <= 1, got {scale[0]}..{scale[1]}")
        self.folder = Path(folder)
        self.crop_size = crop_size
        self.batch_size = batch_size
        self.scale = tuple(scale)
        self.steps_per_epoch = steps_per_epoch
        # Twice the crop (at least 512): close crops stay downscaled (sharp) rather than upscaled,
        # at a fraction of the memory of full-size photos.
        self.decode_side = decode_side or max(2 * crop_size, 512)
        self.num_workers = num_workers
        self.images: list[torch.Tensor] | None = None
        self.skipped_files: list[Path] = []

    @property
    def skipped_count(self) -> int:
        return len(self.skipped_files)

    def setup(self, stage: str | None = None) -> None:
        if self.images is None:  # decode once, even when both the CLI and the Trainer call setup
            self.images, self.skipped_files = decode_folder(self.folder, self.decode_side)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        dataset = CropDataset(self.images, self.crop_size, self.scale, self.steps_per_epoch * self.batch_size)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=False,  # every sample is already random
            drop_last=True,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
        )
