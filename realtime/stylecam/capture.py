"""Frame sources, each reading in its own thread.

Two buffering policies, chosen by what the source is for:
- ``VideoFileSource``: every frame, through a bounded queue (no frame lost, memory bounded).
- ``LiveSource``: only the newest frame is kept (a slow consumer never builds up lag).
Both end their stream with ``None`` and are context managers that stop their thread.

Video files read as files are read by PyAV alone (``VideoFile``: checks, header, frames by order
or by time); OpenCV reads cameras and stream URLs, and a file played as a camera, in ``LiveSource``.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from stylecam.errors import StylecamError
from stylecam.files import check_input_file, is_still_image, utf8_name
from stylecam.yuv import bgr_pixels


class SourceError(StylecamError):
    """A source that cannot be opened or read; the message names it and says why."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float  # the nominal rate; a variable-rate file's frames carry their own times
    frame_count: int | None  # from the container header: a hint for progress, can be wrong
    duration: float | None = None  # seconds, from the header: a hint, like frame_count


def _sane_fps(fps: float | None) -> float:
    return fps if fps and 0 < fps < 1000 else 30.0


def _stream_info(stream: av.video.stream.VideoStream) -> VideoInfo:
    """What a file's header says of its video stream, read by the PyAV container that decodes its frames."""
    rate = stream.average_rate or stream.guessed_rate
    codec = stream.codec_context
    if stream.duration is not None and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif stream.container.duration is not None:
        duration = stream.container.duration / av.time_base
    else:
        duration = None
    return VideoInfo(
        width=codec.width,
        height=codec.height,
        fps=_sane_fps(float(rate) if rate else None),
        frame_count=stream.frames or None,
        duration=duration if duration and duration > 0 else None,
    )


def _upright(frame: av.VideoFrame) -> np.ndarray:
    """BGR pixels as the file says they are to be shown: its display matrix's rotation applied.

    A phone's portrait clip is stored sideways with a rotation of -90 degrees (counter-clockwise,
    as FFmpeg and PyAV count); players turn it upright, and so does stylecam, so the network
    paints the picture the right way up and the output (written with no rotation) shows it so.
    Rotations that are not quarter turns are taken to the nearest one.
    """
    pixels = bgr_pixels(frame)
    quarter_turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(pixels, quarter_turns)) if quarter_turns else pixels


def _frame_time(frame: av.VideoFrame, decode_order_times: bool = False) -> float | None:
    """A decoded frame's presentation time in seconds; None where the file gives none.

    ``decode_order_times``: the file times its packets in decode order only (AVI), so the time
    is the frame's dts. An AVI holds no presentation times; with B-frames (DivX and Xvid's packed
    ones), frames leave the decoder in display order but carry the times of the packets they came
    from, which then go back one step at every B-frame (Megamind.avi: at 88 of its 270 frames).
    Their dts counts the frames in the order they leave the decoder, which is display order.
    """
    stamp = frame.dts if decode_order_times and frame.dts is not None else frame.pts
    return float(stamp * frame.time_base) if stamp is not None and frame.time_base else None


class VideoFile:
    """A video file opened with PyAV, the one library that reads video files (cameras and URLs
    are ``LiveSource``'s, with OpenCV): the checks, the header's information and the first frame
    come from the container that then decodes the rest, so the rate and count are the decoder's own.

    Opening raises SourceError saying what is wrong with the file. Then either ``frames()`` (every
    frame in order) or ``frame_at()`` (a frame by time, seeking), not both. Close it, or use ``with``.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            check_input_file(path)  # a FIFO or a device would block the decoder forever
        except StylecamError as error:
            raise SourceError(str(error)) from None
        # FFmpeg would open a still image as a one-frame "video". (Its signature is read as bytes:
        # OpenCV's own check crashes the process on a file name that is not UTF-8.)
        if is_still_image(path):
            raise SourceError(f"input {path} is a still image, not a video (stylize it with `stylecam image`)")
        try:
            self.container = av.open(str(path))
        except av.FFmpegError as error:
            raise SourceError(f"input {path} is not a readable video (unknown format, or truncated)") from error
        try:
            if not self.container.streams.video:
                raise SourceError(f"input {path} has no video frames (empty, or truncated)")
            self.stream = self.container.streams.video[0]
            self.stream.thread_type = "AUTO"  # frame and slice threads: decoding keeps ahead of the network
            self.time_base: Fraction = self.stream.time_base or Fraction(1, 1000)
            self._decode_order_times = "avi" in self.container.format.name.split(",")
            self._frames: Iterator[av.VideoFrame] | None = self.container.decode(self.stream)
            try:
                first = next(self._frames, None)
            except av.FFmpegError:
                first = None
            if first is None:
                raise SourceError(f"input {path} has no video frames (empty, or truncated)")
            self.first: np.ndarray = _upright(first)
            self.first_time: float | None = self._time(first)
            # The size as shown: a quarter-turned clip's width and height trade places.
            self.info = dataclasses.replace(_stream_info(self.stream), width=self.first.shape[1], height=self.first.shape[0])
        except BaseException:
            self.container.close()
            raise

    def _time(self, frame: av.VideoFrame) -> float | None:
        return _frame_time(frame, self._decode_order_times)

    def frames(self) -> Iterator[tuple[np.ndarray, float | None]]:
        """Every frame from the first, as ``(BGR frame, seconds)``; a damaged or truncated file ends at its last good frame."""
        if self._frames is None:
            raise RuntimeError("frames() after frame_at(): the container was moved by seeking")
        rest, self._frames = self._frames, None
        yield self.first, self.first_time
        try:
            for frame in rest:
                yield _upright(frame), self._time(frame)
        except av.FFmpegError:
            return  # the caller compares the frames found with the header

    def frame_at(self, seconds: float) -> tuple[np.ndarray, float]:
        """The frame shown at ``seconds`` (the first whose time is at or after it; the last frame for
        a time past the end) and its own time: seeks to the key frame before, then decodes forward."""
        self._frames = None
        start = self.first_time or 0.0
        if seconds <= start:
            return self.first, start
        found = self._decode_to(seconds, seek_to=seconds)
        if found is None:  # the seek landed past the time, or nowhere: decode from the start instead
            found = self._decode_to(seconds, seek_to=None)
        return found or (self.first, start)

    def _decode_to(self, seconds: float, seek_to: float | None) -> tuple[np.ndarray, float] | None:
        stream = self.stream
        try:
            if seek_to is None:
                self.container.seek(stream.start_time or 0, stream=stream, backward=True)
            else:
                self.container.seek(round(seek_to / self.time_base), stream=stream, backward=True)
        except av.FFmpegError:
            return None
        last: av.VideoFrame | None = None
        last_time = 0.0
        try:
            for frame in self.container.decode(stream):
                time = self._time(frame)
                if time is None:  # no timestamp: one nominal frame after the previous one
                    time = last_time + 1 / self.info.fps if last is not None else (self.first_time or 0.0)
                if time >= seconds - 1e-6:
                    if last is None and seek_to is not None and time > seconds + 1e-6:
                        return None  # the first frame after the seek is already past: not where a key frame before was
                    return _upright(frame), time
                last, last_time = frame, time
        except av.FFmpegError:
            pass  # a damaged end: the last good frame before it
        return (_upright(last), last_time) if last is not None else None

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def probe_video_file(path: Path) -> tuple[VideoInfo, np.ndarray]:
    """The header's information and the first frame (BGR) of a video file, or SourceError saying what is wrong."""
    with VideoFile(path) as video:
        return video.info, video.first


class VideoFileSource:
    """Every frame of a video file with its presentation time, decoded ahead in a thread into a bounded queue.

    Iterating yields ``(frame, seconds)``: the BGR frame and its timestamp in the file (None
    where the file gives none). Timestamps are what keep a variable-frame-rate clip (a phone's)
    or one with gaps (a camera that skipped frames) in step with its sound; a frame count and a
    nominal rate cannot. The file is opened once: the checks, ``info`` and the frames come from
    one PyAV container, which only the decoding thread uses once it has started.
    """

    def __init__(self, path: Path, queue_size: int = 16):
        self.path = path
        self._video = VideoFile(path)  # the checks and messages for a bad file
        self.info = self._video.info
        self.time_base: Fraction = self._video.time_base
        self._queue: queue.Queue[tuple[np.ndarray, float | None] | None] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._decode, name="stylecam-decode", daemon=True)
        self._thread.start()

    def _put(self, item: tuple[np.ndarray, float | None] | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self) -> None:
        try:
            for item in self._video.frames():
                if self._stop.is_set() or not self._put(item):
                    return
        finally:
            self._video.close()
            self._put(None)

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> VideoFileSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_source(text: str) -> int | str:
    """'0' -> camera index 0; anything else is a file path or a stream URL for OpenCV."""
    return int(text) if text.isdigit() else text


def _capture_info(capture: cv2.VideoCapture) -> VideoInfo:
    """What OpenCV reports of a camera or stream (or a file played as one)."""
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return VideoInfo(
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        fps=_sane_fps(capture.get(cv2.CAP_PROP_FPS)),
        frame_count=count if count > 0 else None,
    )


class LiveSource:
    """A camera (or any OpenCV source) read in a thread; ``read()`` returns the newest frame only.

    A file given as a live source is paced to its frame rate so it plays like a camera.
    """

    # A camera that returns no frame for this long is taken as gone (unplugged, taken away).
    STALL_SECONDS = 3.0

    def __init__(
        self,
        source: int | str,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        fourcc: str | None = None,
    ):
        self.source = source
        if fourcc is not None and len(fourcc) != 4:
            raise SourceError(f"--fourcc must be four characters such as MJPG or YUYV, got '{fourcc}'")
        if isinstance(source, str):
            if not utf8_name(source):  # OpenCV would crash the process (a segmentation fault) on such a name
                raise SourceError(f"source {source} has a file name that is not UTF-8, which OpenCV cannot open; rename it")
            # A file played as a camera must be a regular one (a FIFO would block the capture thread);
            # a camera's device node (/dev/video0) or a stream URL goes to OpenCV as given.
            if os.path.exists(source) and not stat.S_ISCHR(os.stat(source).st_mode):
                try:
                    check_input_file(Path(source), "source")
                except StylecamError as error:
                    raise SourceError(str(error)) from None
        self._capture = cv2.VideoCapture(source)
        if not self._capture.isOpened():
            self._capture.release()
            what = f"camera {source}" if isinstance(source, int) else f"source {source}"
            raise SourceError(f"{what} cannot be opened (is it connected, and not in use by another program?)")
        # The order matters to V4L2 and most drivers: the pixel format decides which sizes and
        # rates exist (a USB camera gives 720p at 30 fps only in MJPG, 5-10 fps in raw YUYV).
        if fourcc:
            self._capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*fourcc.upper()))
        if width:
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self._capture.set(cv2.CAP_PROP_FPS, fps)
        self.info = _capture_info(self._capture)
        self.granted = self._granted(width, height, fps, fourcc)
        self._pace = 1.0 / self.info.fps if isinstance(source, str) and Path(source).is_file() else 0.0
        self._lock = threading.Condition()
        self._frame: np.ndarray | None = None
        self._sequence = 0  # how many frames were captured; read() waits for a newer one
        self._delivered = 0
        self.ended_reason: str | None = None  # why the stream ended, when it was a failure
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._grab, name="stylecam-capture", daemon=True)
        self._thread.start()

    def _granted(self, width: int | None, height: int | None, fps: float | None, fourcc: str | None) -> list[str]:
        """What the camera did not grant of what was asked, read back from the driver (cameras silently pick the nearest mode)."""
        notes = []
        if (width and width != self.info.width) or (height and height != self.info.height):
            notes.append(f"asked for {width or '*'}x{height or '*'}, the camera gives {self.info.width}x{self.info.height}")
        if fps and abs(fps - self.info.fps) > 0.5:
            notes.append(f"asked for {fps:g} fps, the camera reports {self.info.fps:g}")
        if fourcc:
            code = int(self._capture.get(cv2.CAP_PROP_FOURCC))
            given = "".join(chr((code >> shift) & 0xFF) for shift in (0, 8, 16, 24)).strip("\x00")
            if given and given.upper() != fourcc.upper():
                notes.append(f"asked for {fourcc.upper()}, the camera gives {given}")
        return notes

    def _grab(self) -> None:
        last_frame_at = time.monotonic()
        next_due = time.monotonic()
        while not self._stop.is_set():
            ok, frame = self._capture.read()
            now = time.monotonic()
            if ok and frame is not None:
                last_frame_at = now
                with self._lock:
                    self._frame = frame
                    self._sequence += 1
                    self._lock.notify_all()
                if self._pace:
                    next_due += self._pace
                    time.sleep(max(0.0, next_due - time.monotonic()))
            elif self._pace:  # a file played as a live source: its end is a normal end
                self._finish(None)
                return
            elif now - last_frame_at > self.STALL_SECONDS:
                self._finish("the camera stopped delivering frames")
                return
            else:
                time.sleep(0.01)
        self._finish(None)

    def _finish(self, reason: str | None) -> None:
        self._capture.release()
        with self._lock:
            self.ended_reason = reason
            self._stop.set()
            self._lock.notify_all()

    def read(self, timeout: float = 5.0) -> np.ndarray | None:
        """The newest frame not yet returned; None once the source has ended."""
        with self._lock:
            self._lock.wait_for(lambda: self._sequence > self._delivered or self._stop.is_set(), timeout)
            if self._sequence > self._delivered:
                self._delivered = self._sequence
                return self._frame
            if not self._stop.is_set():
                self.ended_reason = f"no frame for {timeout:.0f} s"
            return None

    @property
    def frame_number(self) -> int:
        """The number (from 1, in capture order) of the frame read() last returned: the gap to the
        next one read is how many frames were skipped; for a paced file it dates the frame."""
        return self._delivered

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
