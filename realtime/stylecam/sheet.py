"""Contact sheets: rows of inputs (photos, video frames), a column per style, one PNG.

Each input is resized to a common height first (``720`` means what "720p" means), stylized at
that size with each style's own processing scale, as ``stylecam video`` would do on a frame of
that size, and only then shrunk to the sheet's tile height. A tile height equal to the working
height gives a sheet at 100% zoom, where fine stripes or a checkerboard would show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stylecam.capture import SourceError, VideoFile
from stylecam.errors import StylecamError
from stylecam.files import check_input_file
from stylecam.images import IMAGE_SUFFIXES, read_image_or_fail
from stylecam.text import drawable

LABEL_HEIGHT = 28  # pixels of the column titles above the first row
_GAP = 4  # pixels between tiles
_BACKGROUND = (255, 255, 255)


@dataclass
class SheetInput:
    label: str  # shown on the first tile of its row
    frame: np.ndarray  # (H, W, 3) uint8 BGR at the working height


def read_inputs(path: Path, height: int, times: list[float | None]) -> list[SheetInput]:
    """One input for an image; for a video, one per time (None: its middle). Each resized to ``height`` rows.

    A video frame's label says the time of that frame in the file, which is the asked time only
    where a frame starts exactly then.
    """
    check_input_file(path)  # a FIFO would block the reader
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return [SheetInput(label=path.name, frame=resize_to_height(read_image_or_fail(path), height))]
    return [
        SheetInput(label=f"{path.name} at {seconds_text(seconds)} s", frame=resize_to_height(frame, height))
        for frame, seconds in _video_frames(path, times)
    ]


def seconds_text(seconds: float) -> str:
    """To the millisecond, without trailing zeros: 20, 4.5, 0.633."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _video_frames(path: Path, times: list[float | None]) -> list[tuple[np.ndarray, float]]:
    """The frames shown at the given times (or the last one, for a time past the end), each with its own time.

    By timestamp, with PyAV: a seek to the key frame before each time, then decoding forward to
    the first frame whose time is at or after it. Counting frames at a nominal rate would pick
    the wrong frame in a file whose frames are not evenly spaced (a phone's, a camera's with gaps).
    """
    try:
        video = VideoFile(path)
    except SourceError as error:
        raise StylecamError(f"input {path} is neither an image nor a readable video ({error})") from error
    with video:
        info, start = video.info, video.first_time or 0.0
        length = info.duration if info.duration is not None else (info.frame_count or 1) / info.fps
        asked = [start + length / 2 if seconds is None else seconds for seconds in times]
        found = {seconds: video.frame_at(seconds) for seconds in sorted(set(asked))}
    return [found[seconds] for seconds in asked]


def resize_to_height(image: np.ndarray, height: int) -> np.ndarray:
    rows, columns = image.shape[:2]
    if rows == height:
        return image
    width = max(1, round(columns * height / rows))
    interpolation = cv2.INTER_AREA if height < rows else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _label(image: np.ndarray, text: str, left: int = 0) -> None:
    """White text on a black box at the top left, ``left`` pixels in: readable on any picture."""
    text = drawable(text)
    (width, height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    cv2.rectangle(image, (left, 0), (left + width + 12, height + 12), (0, 0, 0), -1)
    cv2.putText(image, text, (left + 6, height + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)


def build_sheet(
    inputs: list[SheetInput],
    style_names: list[str],
    stylize: Callable[[str, np.ndarray], np.ndarray],
    tile_height: int,
    progress: Callable[[Iterable], Iterable] = iter,
) -> np.ndarray:
    """(H, W, 3) uint8 BGR: a title row, then per input the original and one tile per style.

    ``stylize(style_name, frame)`` returns the stylized frame at the frame's size; rows may
    differ in width (photos of several aspect ratios), so each row is padded to the widest.
    """
    columns = ["input", *style_names]
    rows: list[list[np.ndarray]] = []
    for item in progress(inputs):
        original = resize_to_height(item.frame, tile_height).copy()
        _label(original, item.label)
        tiles = [original] + [resize_to_height(stylize(name, item.frame), tile_height) for name in style_names]
        rows.append(tiles)
    column_widths = [max(row[index].shape[1] for row in rows) for index in range(len(columns))]
    sheet_width = sum(column_widths) + _GAP * (len(columns) - 1)
    header = np.full((LABEL_HEIGHT, sheet_width, 3), 0, np.uint8)
    left = 0
    for title, width in zip(columns, column_widths, strict=True):
        _label(header, title, left)
        left += width + _GAP
    parts = [header]
    for tiles in rows:
        line = np.full((tile_height, sheet_width, 3), _BACKGROUND, np.uint8)
        left = 0
        for tile, width in zip(tiles, column_widths, strict=True):
            line[:, left : left + tile.shape[1]] = tile
            left += width + _GAP
        parts += [np.full((_GAP, sheet_width, 3), _BACKGROUND, np.uint8), line]
    return np.concatenate(parts, axis=0)
