"""Frame sources, each reading in its own thread.

Two buffering policies, chosen by what the source is for:
- ``VideoFileSource``: every frame, through a bounded queue (no frame lost, memory bounded).
- ``LiveSource``: only the newest frame is kept (a slow consumer never builds up lag).
Both end their stream with ``None`` and are context managers that stop their thread.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from stylecam.errors import StylecamError


class SourceError(StylecamError):
    """A source that cannot be opened or read; the message names it and says why."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int | None  # from the container header: a hint for progress, can be wrong


def _read_info(capture: cv2.VideoCapture) -> VideoInfo:
    fps = capture.get(cv2.CAP_PROP_FPS)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return VideoInfo(
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        fps=fps if fps and fps > 0 and fps < 1000 else 30.0,
        frame_count=count if count > 0 else None,
    )


def open_video_file(path: Path) -> tuple[cv2.VideoCapture, VideoInfo, np.ndarray]:
    """Open a video file and read its first frame, or raise SourceError saying what is wrong."""
    if not path.exists():
        raise SourceError(f"input {path} does not exist")
    if path.is_dir():
        raise SourceError(f"input {path} is a folder, not a video file")
    if not os.access(path, os.R_OK):
        raise SourceError(f"input {path} cannot be read (permission denied)")
    if cv2.haveImageReader(str(path)):  # FFmpeg would open a still image as a one-frame "video"
        raise SourceError(f"input {path} is a still image, not a video (stylize it with `stylecam image`)")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"input {path} is not a readable video (unknown format, or truncated)")
    ok, first = capture.read()
    if not ok or first is None:
        capture.release()
        raise SourceError(f"input {path} has no video frames (empty, or truncated)")
    return capture, _read_info(capture), first


class VideoFileSource:
    """Every frame of a video file with its presentation time, decoded ahead in a thread into a bounded queue.

    Iterating yields ``(frame, seconds)``: the BGR frame and its timestamp in the file (None
    where the file gives none). Timestamps are what keep a variable-frame-rate clip (a phone's)
    or one with gaps (a camera that skipped frames) in step with its sound; a frame count and a
    nominal rate cannot.
    """

    def __init__(self, path: Path, queue_size: int = 16):
        self.path = path
        capture, self.info, _ = open_video_file(path)  # the checks and messages for a bad file
        capture.release()
        try:
            self._container = av.open(str(path))
            stream = self._container.streams.video[0]
        except (av.FFmpegError, IndexError) as error:
            raise SourceError(f"input {path} is not a readable video ({error})") from error
        stream.thread_type = "AUTO"  # frame and slice threads: decoding keeps ahead of the network
        self._stream = stream
        self.time_base: Fraction = stream.time_base or Fraction(1, 1000)
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
            for frame in self._container.decode(self._stream):
                if self._stop.is_set():
                    return
                seconds = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None
                if not self._put((frame.to_ndarray(format="bgr24"), seconds)):
                    return
        except av.FFmpegError:
            pass  # a damaged or truncated file ends here; the caller compares frames found with the header
        finally:
            self._container.close()
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
        self.info = _read_info(self._capture)
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
