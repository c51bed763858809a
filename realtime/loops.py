"""The loops that join a source, the network and a sink, and report what they did."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from realtime.capture import VideoFileSource
from realtime.frames import Stylizer
from realtime.images import fit_long_side
from realtime.sinks import IMAGE_SUFFIXES, VideoWriter, write_image


@dataclass
class ConversionReport:
    input: str
    output: str
    frames: int
    seconds: float
    fps: float
    width: int
    height: int
    video_fps: float
    device: str
    precision: str
    style: str
    scale: float
    frames_announced: int | None = None  # the container header's count: a hint, sometimes wrong

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def ended_early(self) -> bool:
        """Fewer frames than the header announced, beyond the rounding of an estimated count."""
        announced = self.frames_announced
        return announced is not None and self.frames < announced - max(2, announced // 100)


def _progress_bar(total: int | None, enabled: bool, description: str) -> tqdm:
    return tqdm(total=total, unit="frame", desc=description, disable=not enabled, dynamic_ncols=True, file=sys.stderr)


def convert_video(
    src: Path,
    dst: Path,
    stylizer: Stylizer,
    style_name: str,
    batch_size: int = 1,
    show_progress: bool = True,
    overwrite: bool = False,
) -> ConversionReport:
    """Stylize every frame of ``src`` into ``dst`` (same size, frame count and rate; audio kept)."""
    started = time.perf_counter()
    with (
        VideoFileSource(src) as source,
        VideoWriter(dst, fps=source.info.fps, audio_from=src, overwrite=overwrite, time_base=source.time_base) as writer,
    ):
        info = source.info
        with _progress_bar(info.frame_count, show_progress, style_name) as bar:
            pending: list[tuple[np.ndarray, float | None]] = []  # (frame, its time in the file)
            for item in source:
                pending.append(item)
                if len(pending) == batch_size:
                    _flush(pending, stylizer, writer, bar)
            _flush(pending, stylizer, writer, bar)
            bar.total = bar.n  # the bar ends at 100% whatever the header announced
            bar.refresh()
    seconds = time.perf_counter() - started
    return ConversionReport(
        input=str(src),
        output=str(dst),
        frames=writer.frames_written,
        seconds=round(seconds, 3),
        fps=round(writer.frames_written / seconds, 2) if seconds > 0 else 0.0,
        width=info.width,
        height=info.height,
        video_fps=info.fps,
        device=str(stylizer.device),
        precision=stylizer.precision.name,
        style=style_name,
        scale=stylizer.scale,
        frames_announced=info.frame_count,
    )


def _flush(pending: list[tuple[np.ndarray, float | None]], stylizer: Stylizer, writer: VideoWriter, bar: tqdm) -> None:
    if not pending:
        return
    frames = [frame for frame, _ in pending]
    if len({frame.shape for frame in frames}) > 1:  # a stream whose size changes mid-way
        outputs = [stylizer.stylize(frame) for frame in frames]
    else:
        outputs = list(stylizer.stylize_batch(np.stack(frames)))
    for output, (_, seconds) in zip(outputs, pending, strict=True):
        writer.write(output, timestamp=seconds)
    bar.update(len(pending))
    # The header's frame count is only a hint: once it is passed, drop the total rather
    # than show a bar beyond 100 % with a negative ETA.
    if bar.total is not None and bar.n > bar.total:
        bar.total = None
        bar.refresh()
    pending.clear()


def collect_images(inputs: list[Path]) -> list[Path]:
    """Files as given, folders searched recursively for images; sorted, no duplicates."""
    found: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found.extend(sorted(p for p in item.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
        else:
            found.append(item)
    unique: dict[Path, None] = dict.fromkeys(found)
    return list(unique)


@dataclass
class ImageReport:
    written: list[str]
    unreadable: list[str]
    skipped_existing: list[str]


def stylize_images(
    images: list[Path],
    out_dir: Path,
    stylizer: Stylizer,
    style_name: str,
    max_size: int | None = None,
    overwrite: bool = False,
    show_progress: bool = True,
) -> ImageReport:
    report = ImageReport(written=[], unreadable=[], skipped_existing=[])
    for path in tqdm(images, unit="image", desc=style_name, disable=not show_progress, file=sys.stderr):
        suffix = path.suffix.lower() if path.suffix.lower() in IMAGE_SUFFIXES else ".png"
        target = out_dir / f"{path.stem}-{style_name}{suffix}"
        if target.exists() and not overwrite:
            report.skipped_existing.append(str(target))
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            report.unreadable.append(str(path))
            continue
        write_image(target, stylizer.stylize(fit_long_side(image, max_size)))
        report.written.append(str(target))
    return report


def make_demo_clip(path: Path, width: int = 320, height: int = 240, frames: int = 36, fps: float = 12.0) -> None:
    """A short synthetic scene (sky, sun, hills, a moving ball, a title) for the demo."""
    with VideoWriter(path, fps=fps) as writer:
        for index in range(frames):
            writer.write(_demo_frame(index, frames, width, height))


def _demo_frame(index: int, frames: int, width: int, height: int) -> np.ndarray:
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    sky = np.stack([230 - 120 * rows, 180 - 90 * rows, 90 + 40 * rows], axis=-1)  # BGR: blue fading to warm
    image = np.broadcast_to(sky, (height, width, 3)).astype(np.uint8).copy()
    cv2.circle(image, (int(width * 0.75), int(height * 0.3)), height // 8, (80, 220, 255), -1, cv2.LINE_AA)
    xs = np.arange(width)
    for depth, color in ((0.55, (60, 120, 40)), (0.7, (40, 90, 30))):
        ridge = (height * depth + 18 * np.sin(xs / width * 6.0 + depth * 10)).astype(np.int32)
        points = np.concatenate([np.stack([xs, ridge], axis=1), [[width - 1, height - 1], [0, height - 1]]])
        cv2.fillPoly(image, [points.astype(np.int32)], color, cv2.LINE_AA)
    phase = index / max(1, frames - 1)
    center = (int(width * (0.1 + 0.8 * phase)), int(height * 0.8 - 40 * np.sin(np.pi * phase)))
    cv2.circle(image, center, height // 12, (40, 40, 200), -1, cv2.LINE_AA)
    cv2.putText(image, "stylecam", (12, 36), cv2.FONT_HERSHEY_DUPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA)
    return image


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if left.shape[0] != right.shape[0]:
        right = cv2.resize(right, (round(right.shape[1] * left.shape[0] / right.shape[0]), left.shape[0]))
    return np.concatenate([left, right], axis=1)
