"""Still images, the one home of their helpers: suffixes, folder search, reading any path
(non-ASCII ones too), resizing (arrays and tensors), side-by-side, thumbnails and writing them
(atomically, through stylecam.files). No video, no threads.

Photos (``stylecam image``) are read and written by Pillow (``read_photo``, ``write_photo``):
upright as their EXIF orientation says, their EXIF and ICC colour profile kept. The other
readers and writers (``read_image``, ``write_image``: training data, snapshots, sheets) stay on
OpenCV, which needs no metadata.

The training recipe and ``stylecam paint`` read images through here, so they need neither
PyAV nor the capture threads that the video loops bring in.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stylecam.errors import OutputError, StylecamError
from stylecam.files import atomic_write, check_input_file

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
# Pillow's format for each suffix that write_photo writes; the formats that hold an alpha channel;
# those that hold EXIF and an ICC profile (all but BMP).
_PHOTO_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}
_ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF"})
_METADATA_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "TIFF"})
# How each format is saved: the settings OpenCV wrote these files with before (JPEG quality 95,
# lossless WebP, LZW TIFF), not Pillow's lower defaults.
_SAVE_OPTIONS: dict[str, dict] = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}, "TIFF": {"compression": "tiff_lzw"}}
# TIFF tags that describe a file's own layout (size, strips, compression, its ICC profile):
# a TIFF input's EXIF holds them, and copied into another file they would describe the wrong one.
# 0x0201/0x0202 locate an EXIF thumbnail, which would show the unstylized photo.
_LAYOUT_TAGS = frozenset(
    {0x00FE, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0111, 0x0115, 0x0116, 0x0117, 0x011C, 0x013D, 0x0140, 0x0142, 0x0143, 0x0144,
     0x0145, 0x0152, 0x0153, 0x0201, 0x0202, 0x8773}
)  # fmt: skip
ORIENTATION_TAG = 0x0112


def file_name_part(style_name: str) -> str:
    """A style's name as part of a file name: a blend ``a:0.6,b:0.4`` becomes ``a-0.6+b-0.4``; anything odd becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", style_name.replace(":", "-").replace(",", "+")).strip("._") or "style"


def read_image(path: Path) -> np.ndarray | None:
    """(H, W, 3) uint8 BGR, or None when the file is missing, not a regular file or cannot be decoded."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or a device would block the read forever
            return None
        # imdecode instead of imread: imread cannot open non-ASCII paths on Windows.
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None


@dataclass
class Photo:
    """A still image as ``stylecam image`` reads it: upright pixels, and what its output keeps of the input."""

    pixels: np.ndarray  # (H, W, 3) uint8 BGR, upright: the EXIF orientation already applied
    alpha: np.ndarray | None = None  # (H, W) uint8, when the input has transparency (not when it is all opaque)
    exif: bytes | None = None  # the input's EXIF, its orientation set to 1 (the pixels are upright now)
    icc_profile: bytes | None = None  # the input's colour profile, when it is an RGB one


def read_photo(source: Path | bytes) -> Photo | None:
    """A file (or the bytes of one, the format sniffed from them) as a Photo; None when it cannot be decoded.

    Any mode comes out as 8-bit RGB: 16-bit and 32-bit grey scaled down (not clipped), float grey
    taken as 0 to 1, palette and grey expanded, CMYK converted; transparency (RGBA, LA, a palette's
    or a grey image's transparent colour) kept as ``alpha``.
    """
    from PIL import Image, ImageOps

    try:
        # Pillow opens a Path with open(), so non-ASCII paths work on Windows too.
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else Path(source)) as opened:
            exif = opened.getexif()
            # Asked before load(): a TIFF's load turns the pixels upright itself and deletes the tag.
            oriented = ORIENTATION_TAG in exif
            opened.load()
            icc = opened.info.get("icc_profile")
            upright = ImageOps.exif_transpose(opened)
            rgb, alpha = _rgb_and_alpha(upright)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # what Pillow raises for a file it cannot decode
        return None
    for tag in _LAYOUT_TAGS & set(exif):
        del exif[tag]
    if oriented:
        exif[ORIENTATION_TAG] = 1
    # The profile describes the pixels' colours; a grey or CMYK one does not fit the RGB pixels
    # written, so only an RGB profile (its colour space at bytes 16-19) is kept.
    keep_icc = isinstance(icc, bytes) and icc[16:20] == b"RGB "
    return Photo(
        pixels=np.ascontiguousarray(rgb[..., ::-1]),
        alpha=alpha,
        exif=exif.tobytes() if len(exif) else None,
        icc_profile=icc if keep_icc else None,
    )


def _rgb_and_alpha(image) -> tuple[np.ndarray, np.ndarray | None]:
    """A PIL image of any mode -> ((H, W, 3) uint8 RGB, (H, W) uint8 alpha or None)."""
    mode = image.mode
    if mode.startswith("I"):  # I;16, I;16B...: 16-bit grey; I: 32-bit, which PNG and TIFF use for 16-bit grey too
        grey = (np.clip(np.asarray(image, dtype=np.int64), 0, 65535) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1), None
    if mode == "F":  # float grey (TIFF): 0 to 1
        grey = (np.clip(np.asarray(image, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1), None
    if "A" in mode or "a" in mode or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"))
        alpha = rgba[..., 3]
        return rgba[..., :3], (np.ascontiguousarray(alpha) if alpha.min() < 255 else None)
    return np.asarray(image.convert("RGB")), None


def photo_keeps_alpha(suffix: str) -> bool:
    """Whether write_photo keeps an alpha channel in a file with this suffix (PNG, WebP, TIFF do; JPEG, BMP do not)."""
    return _PHOTO_FORMATS.get(suffix.lower()) in _ALPHA_FORMATS


def encode_photo(photo: Photo, suffix: str) -> bytes:
    """A Photo as the bytes of an image file of this suffix's format, with its alpha (where the format holds one), EXIF and ICC profile.

    An alpha channel is dropped where the format holds none (JPEG, BMP): the caller composites it
    first if the transparent parts should look like anything in particular.
    """
    from PIL import Image

    image_format = _PHOTO_FORMATS.get(suffix.lower())
    if image_format is None:
        raise OutputError(
            f"cannot write an image as {suffix or 'a file without a suffix'} (use one of {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    image = Image.fromarray(np.ascontiguousarray(photo.pixels[..., ::-1]))
    if photo.alpha is not None and image_format in _ALPHA_FORMATS:
        image.putalpha(Image.fromarray(photo.alpha))
    options = dict(_SAVE_OPTIONS.get(image_format, {}))
    if image_format in _METADATA_FORMATS:
        if photo.icc_profile:
            options["icc_profile"] = photo.icc_profile
        if photo.exif:
            options["exif"] = photo.exif
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=image_format, **options)
    except ValueError:
        if "exif" not in options:
            raise
        # JPEG holds at most 64 KiB of EXIF (a maker note can be bigger): the picture matters more.
        del options["exif"]
        buffer = io.BytesIO()
        image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def write_photo(path: Path, photo: Photo) -> None:
    """A Photo -> an image file, its format from path's suffix (encode_photo); written atomically (stylecam.files)."""
    path = Path(path)
    encoded = encode_photo(photo, path.suffix)
    try:
        with atomic_write(path) as tmp:
            tmp.write_bytes(encoded)
    except OSError as error:
        raise OutputError(f"cannot write {path} ({error.strerror})") from error


def read_image_or_fail(path: Path) -> np.ndarray:
    """read_image, or a StylecamError naming the file (and saying why: missing, a FIFO, undecodable)."""
    check_input_file(Path(path), "image")
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


def write_image(path: Path, frame: np.ndarray, replace: bool = True) -> None:
    """(H, W, 3) uint8 BGR -> an image file, its format from path's suffix; written atomically (stylecam.files).

    ``replace=False``: refused (OutputExistsError) if the file exists when the write ends, this
    process's claim on it aside."""
    path = Path(path)
    # imencode instead of imwrite: the format comes from the final suffix, not from the temporary
    # file's, and imwrite cannot open non-ASCII paths on Windows.
    ok, encoded = cv2.imencode(path.suffix, frame)
    if not ok:
        raise OutputError(f"cannot encode an image as {path.suffix}")
    try:
        with atomic_write(path, replace=replace) as tmp:
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
