"""The loops that join a source, the network and a sink, and report what they did."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stylecam.capture import VideoFileSource
from stylecam.errors import StylecamError
from stylecam.frames import Stylizer
from stylecam.images import IMAGE_SUFFIXES, file_name_part, fit_long_side, write_image
from stylecam.sinks import EncoderSettings, VideoWriter


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
    steady: float | None = None  # the SteadyFilter strength, when --steady was on
    warping_error: float | None = None  # with --flicker: of the frames written (before encoding), see stylecam.flicker
    warping_error_input: float | None = None  # with --flicker: of the input frames, the floor
    flicker_pairs: int | None = None  # with --flicker: frame pairs measured

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
    steady: float | None = None,
    measure_flicker: bool = False,
    encoder: EncoderSettings | None = None,
) -> ConversionReport:
    """Stylize every frame of ``src`` into ``dst`` (same size, frame count and rate; audio kept).

    ``steady``: a SteadyFilter strength (0 to 0.95) that blends each frame with the previous one
    along the input's motion, against flicker. ``measure_flicker``: compute the warping error of
    the frames written and of the input (stylecam.flicker) on the way; costs some time per frame.
    ``encoder``: libx264's crf, preset and threads (default: EncoderSettings()).
    """
    started = time.perf_counter()
    after = _FrameSteps(steady, measure_flicker)
    # Two PyAV containers on src, one per purpose and thread: the source's for the information and
    # the frames (decoded ahead in its thread), the writer's for the sound (see VideoWriter._add_audio_stream).
    with (
        VideoFileSource(src) as source,
        VideoWriter(dst, fps=source.info.fps, audio_from=src, overwrite=overwrite, time_base=source.time_base, encoder=encoder) as writer,
    ):
        info = source.info
        with _progress_bar(info.frame_count, show_progress, style_name) as bar:
            pending: list[tuple[np.ndarray, float | None]] = []  # (frame, its time in the file)
            for item in source:
                pending.append(item)
                if len(pending) == batch_size:
                    _flush(pending, stylizer, writer, bar, after)
            _flush(pending, stylizer, writer, bar, after)
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
        steady=steady,
        **after.flicker_figures(),
    )


class _FrameSteps:
    """What happens to each stylized frame before it is written: --steady, then --flicker on what is written."""

    def __init__(self, steady: float | None, measure_flicker: bool):
        # Imported here: a plain conversion does not load the flow code.
        from stylecam.flicker import WarpingError
        from stylecam.steady import SteadyFilter

        self.steady = SteadyFilter(steady) if steady else None
        self.meter = WarpingError() if measure_flicker else None

    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if self.steady is not None:
            stylized = self.steady.apply(original, stylized)
        if self.meter is not None:
            self.meter.add(original, stylized)
        return stylized

    def flicker_figures(self) -> dict:
        if self.meter is None:
            return {}
        return {"warping_error": self.meter.output_error, "warping_error_input": self.meter.input_error, "flicker_pairs": self.meter.pairs}


def _flush(
    pending: list[tuple[np.ndarray, float | None]], stylizer: Stylizer, writer: VideoWriter, bar: tqdm, after: _FrameSteps | None = None
) -> None:
    if not pending:
        return
    frames = [frame for frame, _ in pending]
    if len({frame.shape for frame in frames}) > 1:  # a stream whose size changes mid-way
        outputs = [stylizer.stylize(frame) for frame in frames]
    else:
        outputs = list(stylizer.stylize_batch(np.stack(frames)))
    for output, (frame, seconds) in zip(outputs, pending, strict=True):
        writer.write(after(frame, output) if after is not None else output, timestamp=seconds)
    bar.update(len(pending))
    # The header's frame count is only a hint: once it is passed, drop the total rather
    # than show a bar beyond 100 % with a negative ETA.
    if bar.total is not None and bar.n > bar.total:
        bar.total = None
        bar.refresh()
    pending.clear()


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
        target = out_dir / f"{path.stem}-{file_name_part(style_name)}{suffix}"
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


# -- the Python API's file loops (``stylecam.stylize_video``, ``stylecam.stylize_folder``) -------
def stylize_video(
    stylizer: Stylizer, src: str | os.PathLike[str], dst: str | os.PathLike[str], overwrite: bool = False, progress: bool = True
) -> ConversionReport:
    """Stylize a video file into ``dst`` (.mp4, .mkv, .mov, .avi): every frame, its timing and its sound kept."""
    from stylecam.sinks import check_output_file

    src, dst = Path(src), Path(dst)
    check_output_file(dst, [src], overwrite)
    return convert_video(src, dst, stylizer, stylizer.style_name, stylizer.default_batch(), show_progress=progress, overwrite=overwrite)


def stylize_folder(
    stylizer: Stylizer,
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    max_size: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> ImageReport:
    """Stylize every image in a folder (recursively) into ``out_dir`` as NAME-STYLE.EXT; existing files are kept unless ``overwrite``."""
    from stylecam.images import collect_images
    from stylecam.sinks import check_writable_folder

    if not Path(src).exists():
        raise StylecamError(f"input {src} does not exist")
    out = Path(out_dir)
    check_writable_folder(out, create=True)
    return stylize_images(collect_images([Path(src)]), out, stylizer, stylizer.style_name, max_size, overwrite, progress)
