"""The loops that join a source, the network and a sink, and report what they did."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from stylecam.capture import VideoFileSource
from stylecam.choices import (
    DEFAULT_CRF,
    DEFAULT_ENCODER_THREADS,
    DEFAULT_FILE_STEADY_FLOW,
    DEFAULT_PRESET,
    MAX_STEADY_STRENGTH,
    STEADY_FLOWS,
)
from stylecam.errors import OutputError, SettingError, StylecamError
from stylecam.files import OutputExistsError, check_not_taken, output_claim, release_claim
from stylecam.frames import Stylizer
from stylecam.images import IMAGE_SUFFIXES, file_name_part, fit_long_side
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
    detail: float = 0.0  # the input's detail added back (--detail, or the style's default)
    steady: float | None = None  # the SteadyFilter strength, when --steady was on
    steady_flow: str | None = None  # and its optical flow (stylecam.steady.FLOWS)
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
    steady_flow: str = DEFAULT_FILE_STEADY_FLOW,
) -> ConversionReport:
    """Stylize every frame of ``src`` into ``dst`` (same size, frame count and rate; audio kept).

    ``steady``: a SteadyFilter strength (0 to 0.95) that blends each frame with the previous one
    along the input's motion, against flicker, with ``steady_flow``'s optical flow (a key of
    stylecam.steady.FLOWS). ``measure_flicker``: compute the warping error of the frames written
    and of the input (stylecam.flicker) on the way. Both run in threads beside the network.
    ``encoder``: libx264's crf, preset and threads (default: EncoderSettings()).
    """
    started = time.perf_counter()
    # Two PyAV containers on src, one per purpose and thread: the source's for the information and
    # the frames (decoded ahead in its thread), the writer's for the sound (see VideoWriter._add_audio_stream).
    with (
        _FrameSteps(steady, measure_flicker, steady_flow) as after,
        VideoFileSource(src) as source,
        VideoWriter(dst, fps=source.info.fps, audio_from=src, overwrite=overwrite, time_base=source.time_base, encoder=encoder) as writer,
    ):
        info = source.info
        with _progress_bar(info.frame_count, show_progress, style_name) as bar:
            pending: list[tuple[np.ndarray, float | None]] = []  # (frame, its time in the file)
            for item in source:
                pending.append(item)
                after.read(item[0])
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
        detail=stylizer.detail,
        steady=steady,
        steady_flow=steady_flow if steady else None,
        **after.flicker_figures(),
    )


class _FrameSteps:
    """What happens to each frame around the network: --steady, then --flicker on what is written.

    Both run beside the network, in threads of their own (OpenCV releases the GIL): --steady's
    optical flow needs only the input frames, so it is found as each frame is read (``read``),
    while the network paints; the warping error of the frames written is measured behind them.
    Only --steady's blend, a few ms, runs in the loop. Use as a context manager: leaving it
    waits for the measure and stops the threads.
    """

    MEASURE_BEHIND = 8  # frames the measure may lag behind the writer: bounds the frames held for it

    def __init__(self, steady: float | None, measure_flicker: bool, steady_flow: str = DEFAULT_FILE_STEADY_FLOW):
        # Imported here: a plain conversion does not load the flow code.
        from stylecam.flicker import WarpingError
        from stylecam.steady import SteadyFilter

        self.steady = SteadyFilter(steady, flow=steady_flow) if steady else None
        self.meter = WarpingError() if measure_flicker else None
        self._tracking = ThreadPoolExecutor(1, thread_name_prefix="stylecam-steady") if self.steady is not None else None
        self._measuring = ThreadPoolExecutor(1, thread_name_prefix="stylecam-flicker") if self.meter is not None else None
        self._steps: deque[Future] = deque()  # --steady's InputStep of each frame read and not yet written, in order
        self._measures: deque[Future] = deque()

    def __enter__(self) -> _FrameSteps:
        return self

    def __exit__(self, *exc_info) -> None:
        for pool in (self._tracking, self._measuring):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=exc_info[0] is not None)
        if exc_info[0] is None:
            for measure in self._measures:
                measure.result()  # a failure of the measure is the conversion's

    def read(self, original: np.ndarray) -> None:
        """A frame was read and will be stylized: start on its flow."""
        if self._tracking is not None:
            self._steps.append(self._tracking.submit(self.steady.track, original))

    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if self.steady is not None:
            stylized = self.steady.blend(self._steps.popleft().result(), stylized)  # read() came first, in the same order
        if self._measuring is not None:
            self._measures.append(self._measuring.submit(self.meter.add, original, stylized))
            while len(self._measures) > self.MEASURE_BEHIND:
                self._measures.popleft().result()
        return stylized

    def flicker_figures(self) -> dict:
        """The warping error's figures; call after leaving the context (the measure is then complete)."""
        if self.meter is None:
            return {}
        return {"warping_error": self.meter.output_error, "warping_error_input": self.meter.input_error, "flicker_pairs": self.meter.pairs}


def _flush(pending: list[tuple[np.ndarray, float | None]], stylizer: Stylizer, writer: VideoWriter, bar: tqdm, after: _FrameSteps) -> None:
    if not pending:
        return
    frames = [frame for frame, _ in pending]
    if len({frame.shape for frame in frames}) > 1:  # a stream whose size changes mid-way
        outputs = [stylizer.stylize(frame) for frame in frames]
    else:
        outputs = list(stylizer.stylize_batch(np.stack(frames)))
    for output, (frame, seconds) in zip(outputs, pending, strict=True):
        writer.write(after(frame, output), timestamp=seconds)
    bar.update(len(pending))
    # The header's frame count is only a hint: once it is passed, drop the total rather
    # than show a bar beyond 100 % with a negative ETA.
    if bar.total is not None and bar.n > bar.total:
        bar.total = None
        bar.refresh()
    pending.clear()


@dataclass
class ImageReport:
    written: list[str]  # the files written ("-": stdout)
    unreadable: list[str]  # the inputs that could not be decoded ("-": stdin)
    skipped_existing: list[str]  # outputs that exist and were kept (no --overwrite)


STDIO = "-"  # how reports and messages name stdin (an input) and stdout (the output)


def stylize_images(
    images: list[Path | None],
    out: Path | None,
    stylizer: Stylizer,
    style_name: str,
    max_size: int | None = None,
    overwrite: bool = False,
    show_progress: bool = True,
    *,
    out_is_file: bool = False,
) -> ImageReport:
    """Stylize photos upright, their EXIF and colour profile kept (stylecam.images.read_photo).

    ``images``: files (None: one image read from stdin). ``out``: the folder to write
    NAME-STYLE.EXT into (created if missing; an existing output is skipped unless ``overwrite``),
    or with ``out_is_file`` the one file to write (None: stdout, as PNG; an existing file is
    refused unless ``overwrite``). Refused before anything is written: an output that would
    replace an input.
    """
    from stylecam.images import encode_photo, photo_keeps_alpha, read_photo, write_photo
    from stylecam.sinks import check_writable_folder

    plan = plan_images(images, out, style_name, out_is_file=out_is_file, overwrite=overwrite)
    if out is not None and not out_is_file:
        check_writable_folder(out, create=True)
    report = ImageReport(written=[], unreadable=[], skipped_existing=[])
    # No bar for one image: it would stand alone at 0% above an error line.
    for source, target in tqdm(plan, unit="image", desc=style_name, disable=not show_progress or len(plan) < 2, file=sys.stderr):
        if target is not None and not out_is_file and target.exists() and not overwrite:
            report.skipped_existing.append(str(target))
            continue
        try:
            # Each output is claimed before its photo is painted: a second run writing the same
            # file is refused (a single output) or skips it (a folder) instead of replacing it later.
            claim = contextlib.nullcontext() if target is None else output_claim(target, overwrite)
            with claim:
                photo = read_photo(sys.stdin.buffer.read() if source is None else source)
                if photo is None:
                    report.unreadable.append(STDIO if source is None else str(source))
                    if target is not None and not overwrite:
                        release_claim(target)
                    continue
                suffix = ".png" if target is None else target.suffix
                photo = _stylize_photo(photo, stylizer, max_size, keep_alpha=photo_keeps_alpha(suffix))
                if target is None:
                    sys.stdout.buffer.write(encode_photo(photo, suffix))
                    sys.stdout.buffer.flush()
                else:
                    write_photo(target, photo)
        except OutputExistsError:
            if out_is_file:
                raise
            report.skipped_existing.append(str(target))
            continue
        report.written.append(STDIO if target is None else str(target))
    return report


def _stylize_photo(photo, stylizer: Stylizer, max_size: int | None, keep_alpha: bool):
    """The photo stylized (fitted to max_size first), its alpha and metadata kept.

    Transparency: kept as it is where the output format holds it (PNG, WebP, TIFF). Where it does
    not (JPEG, BMP), the picture is laid on white before the network sees it, so that the
    transparent parts come out as a viewer showed them, not as whatever colour they hid.
    """
    pixels, alpha = fit_long_side(photo.pixels, max_size), photo.alpha
    if alpha is not None:
        alpha = fit_long_side(alpha, max_size)
        if not keep_alpha:
            weight = alpha[..., None].astype(np.float32) / 255
            pixels = (pixels * weight + 255 * (1 - weight)).round().astype(np.uint8)
            alpha = None
    return dataclasses.replace(photo, pixels=stylizer.stylize(pixels), alpha=alpha)


def plan_images(
    images: list[Path | None], out: Path | None, style_name: str, *, out_is_file: bool = False, overwrite: bool = False
) -> list[tuple[Path | None, Path | None]]:
    """(input, output) pairs: None is stdin or stdout. Raises OutputError when an output would replace an input.

    In a folder the outputs are NAME-STYLE.EXT (EXT: the input's, or .png; stdin is "stdin").
    Inputs whose names would clash (IMG_0001.jpg from two folders) get the names of their folders
    in front, as few as tell them apart (a_IMG_0001-STYLE.jpg, b_IMG_0001-STYLE.jpg), compared
    without case (a case-insensitive file system would see one file), then a number if needed.
    """
    from stylecam.sinks import check_writable_folder

    if out_is_file:
        if len(images) != 1:
            raise OutputError(f"output {out if out is not None else STDIO} is one file, but there are {len(images)} images")
        targets: list[Path | None] = [out]
        if out is not None:
            if out.is_dir():
                raise OutputError(f"output {out} is a folder")
            if not _same_file(out, images[0]):  # the input itself: refused below, in words that say so
                check_not_taken(out, overwrite)
            check_writable_folder(out.parent if str(out.parent) else Path("."))
    else:
        if out is None:
            raise OutputError("images go to a folder or a file, not to stdout")
        targets = [out / name for name in _output_names(images, style_name)]
    # By resolved path, and by file identity for an existing output (a hard link, another case on a
    # case-insensitive file system): one look-up per output, for folders of thousands of photos.
    by_path: dict[Path, Path] = {}
    by_identity: dict[tuple[int, int], Path] = {}
    for source in images:
        if source is not None:
            by_path[source.resolve()] = source
            identity = _identity(source)
            if identity is not None:
                by_identity[identity] = source
    for target in targets:
        if target is None:
            continue
        source = by_path.get(target.resolve()) or by_identity.get(_identity(target) or (-1, -1))
        if source is not None:
            raise OutputError(f"output {target} would replace the input {source}; choose another output")
    return list(zip(images, targets, strict=True))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _same_file(a: Path, b: Path | None) -> bool:
    return b is not None and (a.resolve() == b.resolve() or (_identity(a) is not None and _identity(a) == _identity(b)))


def _output_names(images: list[Path | None], style_name: str) -> list[str]:
    part = file_name_part(style_name)
    folders = [() if path is None else path.resolve().parent.parts[1:] for path in images]
    depth = [0] * len(images)

    def name(index: int) -> str:
        path = images[index]
        if path is None:
            stem, suffix = "stdin", ".png"
        else:
            stem, suffix = path.stem, (path.suffix.lower() if path.suffix.lower() in IMAGE_SUFFIXES else ".png")
        prefix = "".join(f"{folder}_" for folder in folders[index][len(folders[index]) - depth[index] :]) if depth[index] else ""
        return f"{prefix}{stem}-{part}{suffix}"

    while True:
        names = [name(index) for index in range(len(images))]
        groups: dict[str, list[int]] = {}
        for index, each in enumerate(names):
            groups.setdefault(each.casefold(), []).append(index)
        deeper = False
        for group in groups.values():
            # Folders in front only tell apart photos from different folders (not a.JPG and a.jpg of one).
            if len(group) > 1 and len({folders[index] for index in group}) > 1:
                for index in group:
                    if depth[index] < len(folders[index]):
                        depth[index] += 1
                        deeper = True
        if not deeper:
            break
    taken: set[str] = set()
    for index, each in enumerate(names):  # still clashing (a.JPG and a.jpg in one folder): numbered
        stem, suffix = os.path.splitext(each)
        number = 1
        while each.casefold() in taken:
            number += 1
            each = f"{stem}-{number}{suffix}"
        taken.add(each.casefold())
        names[index] = each
    return names


# -- the Python API's file loops (``stylecam.stylize_video``, ``stylecam.stylize_folder``) -------
def stylize_video(
    stylizer: Stylizer,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    overwrite: bool = False,
    progress: bool = True,
    *,
    batch: int | None = None,
    steady: float | None = None,
    steady_flow: str = DEFAULT_FILE_STEADY_FLOW,
    measure_flicker: bool = False,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    encoder_threads: int = DEFAULT_ENCODER_THREADS,
) -> ConversionReport:
    """Stylize a video file into ``dst`` (.mp4, .mov or .mkv, as `stylecam video` writes): every
    frame, its timing and its sound kept.

    The options of `stylecam video`: ``batch`` frames per network call (default: the device's);
    ``steady`` a strength from 0 to 0.95 that blends each frame with the previous one along the
    motion, against flicker (None: off; `--steady` is 0.8 with the fine flow, 0.6 with the fast),
    with the optical flow ``steady_flow`` ("fine", the measure's own, or "fast", the webcam's);
    ``measure_flicker`` reports the warping error of the result and of the input; ``crf``,
    ``preset`` and ``encoder_threads`` are libx264's.
    """
    from stylecam.sinks import check_video_output_file

    src, dst = Path(src), Path(dst)
    encoder = EncoderSettings(crf=crf, preset=preset, threads=encoder_threads)  # checked before any work
    if steady is not None and not 0 <= steady <= MAX_STEADY_STRENGTH:
        raise SettingError(f"steady must be from 0 to {MAX_STEADY_STRENGTH}, got {steady}")
    if steady_flow not in STEADY_FLOWS:
        raise SettingError(f"steady_flow must be one of {', '.join(STEADY_FLOWS)}, got {steady_flow!r}")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise SettingError(f"batch must be a whole number of at least 1, got {batch!r}")
    check_video_output_file(dst, [src], overwrite)
    return convert_video(
        src,
        dst,
        stylizer,
        stylizer.style_name,
        batch or stylizer.default_batch(),
        show_progress=progress,
        overwrite=overwrite,
        steady=steady,
        measure_flicker=measure_flicker,
        encoder=encoder,
        steady_flow=steady_flow,
    )


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
