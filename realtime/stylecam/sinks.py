"""Where stylized frames go: video files (audio kept, atomic finish) and images.

``VideoWriter`` encodes with FFmpeg through PyAV in its own thread, into a hidden temporary
file beside the destination, and only moves it into place once it is complete: a run that is
interrupted (Ctrl-C, a crash, a vanished camera handled as an error) never leaves a corrupt
file under the requested name.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from stylecam.choices import DEFAULT_CRF, DEFAULT_ENCODER_THREADS, DEFAULT_PRESET, X264_PRESETS
from stylecam.errors import OutputError
from stylecam.files import (
    DISK_ERRORS,
    check_not_taken,
    claim_output,
    disk_error,
    partial_path,
    release_claim,
    remove_stale_claim,
    sweep_stale_partials,
)

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")  # what VideoWriter writes
# Audio codecs an MP4/MOV file can carry as they are; anything else (PCM in an AVI, say)
# is re-encoded to AAC. Matroska carries everything.
_MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"}


# The claims, temporary files and sweeping of killed runs' debris are stylecam.files'.
def check_output_file(out: Path, inputs: list[Path] = (), overwrite: bool = False) -> None:
    """Refuse before any work: writing over an input, an existing file, an unwritable folder."""
    sweep_stale_partials(out.parent if str(out.parent) else Path("."))
    check_not_taken(out, overwrite=True)  # a killed run's claim is swept, another run's refuses
    for source in inputs:
        if out.exists() and source.exists() and out.resolve() == source.resolve():
            raise OutputError(f"output {out} is the input file; choose another name")
    if out.is_dir():
        raise OutputError(f"output {out} is a folder; give a file name such as {out / 'stylized.mp4'}")
    if out.exists() and not overwrite:
        raise OutputError(f"output {out} exists (use --overwrite to replace it)")
    check_writable_folder(out.parent if str(out.parent) else Path("."))


def check_video_output_file(out: Path, inputs: list[Path] = (), overwrite: bool = False) -> None:
    """check_output_file for a video: also one of the containers VideoWriter writes (VIDEO_SUFFIXES)."""
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(f"output {out} must end in {', '.join(VIDEO_SUFFIXES)}")
    check_output_file(out, inputs, overwrite)


def check_writable_folder(folder: Path, create: bool = False) -> None:
    if create and not folder.exists():
        try:
            folder.mkdir(parents=True)
        except OSError as error:
            raise OutputError(f"output folder {folder} cannot be created ({error.strerror})") from error
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable")


def _even(n: int) -> bool:
    return n % 2 == 0


@dataclass(frozen=True)
class EncoderSettings:
    """libx264's settings for the files stylecam writes.

    crf 18: visually lossless for most footage; lower is bigger and closer, 23 is x264's default.
    preset veryfast: on a busy 2-core AMD EPYC it encoded 1080p stylized frames at 24 fps
    (superfast 28 fps but files 2.6 times bigger, faster 10 fps, medium 8 fps): it keeps up with a
    camera's rate on a small machine and costs little of the CPU the network needs.
    threads 0: x264 picks (about 1.5 per core); a number caps the CPU the encoder takes.
    """

    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    threads: int = DEFAULT_ENCODER_THREADS

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 51:
            raise OutputError(f"--crf must be from 0 to 51, got {self.crf}")
        if self.preset not in X264_PRESETS:
            raise OutputError(f"unknown x264 preset '{self.preset}' (choose from {', '.join(X264_PRESETS)})")
        if self.threads < 0:
            raise OutputError(f"--encoder-threads must be 0 (automatic) or more, got {self.threads}")

    def options(self) -> dict[str, str]:
        return {"crf": str(self.crf), "preset": self.preset, "threads": str(self.threads)}


class VideoWriter:
    """Encodes BGR frames into ``path``; opens on the first frame; audio copied from ``audio_from``.

    Three ways to time frames:
    - ``fps`` alone: a constant frame rate, frame i at i/fps;
    - ``fps`` and ``time_base``: each frame at its own timestamp in seconds, kept as it is in
      that time base (a file's own timing: variable rates and gaps survive, and the sound,
      copied with its own timestamps, stays in sync); ``fps`` is only the nominal rate;
    - ``fps=None``: each frame at its timestamp, counted from the first (a live camera).
    """

    def __init__(
        self,
        path: Path,
        fps: float | None,
        audio_from: Path | None = None,
        queue_size: int = 16,
        overwrite: bool = False,
        time_base: Fraction | None = None,
        encoder: EncoderSettings | None = None,
        claimed: bool = False,
    ):
        self.path = path
        self.fps = fps
        self.time_base = time_base
        self.audio_from = audio_from
        self.encoder = encoder or EncoderSettings()
        self.frames_written = 0
        sweep_stale_partials(path.parent)
        # Without overwrite the name is claimed now, atomically: of two runs writing the same
        # new file, the second is refused instead of silently replacing the first's work.
        # ``claimed``: the caller claimed it already (stylecam.files.claim_new_name); released alike.
        self._claimed = claimed or not overwrite
        if not claimed:
            remove_stale_claim(path)
            if not overwrite:
                claim_output(path)
        self._tmp = partial_path(path)
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[np.ndarray, float | None] | None] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._encode_loop, name="stylecam-encode", daemon=True)
        try:
            # Created now, not when the encoder first writes (x264 holds dozens of frames first):
            # a run killed before that still leaves a file that names its process.
            self._tmp.touch()
            self._thread.start()
        except BaseException as error:  # Ctrl-C or SIGTERM before `with` took over the clean-up: do it here
            self._tmp.unlink(missing_ok=True)
            self._release()
            if isinstance(error, OSError) and error.errno in DISK_ERRORS:
                raise disk_error(path, error) from error
            raise

    # -- producer side ---------------------------------------------------------------------
    def write(self, frame: np.ndarray, timestamp: float | None = None) -> None:
        self._raise_if_failed()
        while True:
            try:
                self._queue.put((frame, timestamp), timeout=0.5)
                return
            except queue.Full:
                self._raise_if_failed()

    def close(self) -> Path:
        """Finish the file (flush, add audio) and move it into place; returns its path."""
        try:
            self._queue.put(None)
            self._thread.join()
            self._raise_if_failed()
            if self.frames_written == 0:
                raise OutputError(f"no frames were written, so {self.path} was not created")
        except BaseException:  # a failed encoder, no frames, or Ctrl-C / SIGTERM while the encoder finishes
            self.abort()
            raise
        try:
            os.replace(self._tmp, self.path)
        except OSError as error:
            self.abort()
            raise disk_error(self.path, error) from error
        return self.path

    def abort(self) -> None:
        """Drop everything: the destination is left as it was."""
        self._error = self._error or OutputError("aborted")
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        self._thread.join(timeout=10)
        self._tmp.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        if self._claimed:
            release_claim(self.path)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _raise_if_failed(self) -> None:
        if self._error is None:
            return
        error = self._error
        while not isinstance(error, OSError) and error.__cause__ is not None:  # PyAV wraps FFmpeg's errno
            error = error.__cause__
        if isinstance(error, OSError) and error.errno in DISK_ERRORS:
            raise disk_error(self.path, error) from self._error
        raise OutputError(f"writing {self.path} failed ({self._error})")

    # -- encoder thread ----------------------------------------------------------------------
    def _encode_loop(self) -> None:
        container = None
        try:
            container = av.open(str(self._tmp), mode="w", format=self._format())
            stream = None
            audio = None
            first_timestamp = None
            last_pts = None
            while self._error is None:
                item = self._queue.get()
                if item is None:
                    break
                frame, timestamp = item
                if stream is None:
                    stream, time_base = self._add_video_stream(container, frame.shape[1], frame.shape[0])
                    audio = self._add_audio_stream(container)
                video_frame = av.VideoFrame.from_ndarray(frame, format="bgr24")
                if self.fps is None:
                    # Time from the first frame: a file that starts late confuses some players.
                    first_timestamp = timestamp if first_timestamp is None else first_timestamp
                    pts = round(((timestamp or 0.0) - (first_timestamp or 0.0)) / time_base)
                elif self.time_base is not None:
                    step = max(1, round(1 / (self.fps * time_base)))  # one nominal frame, for frames without a time
                    pts = round(timestamp / time_base) if timestamp is not None else (last_pts + step if last_pts is not None else 0)
                else:
                    pts = self.frames_written
                if last_pts is not None and pts <= last_pts:
                    pts = last_pts + 1  # the encoder refuses time going backwards or standing still
                video_frame.pts, video_frame.time_base, last_pts = pts, time_base, pts
                container.mux(stream.encode(video_frame))
                self.frames_written += 1
            if self._error is None and stream is not None:
                container.mux(stream.encode(None))
                if audio is not None:
                    self._copy_audio(container, *audio)
        except BaseException as error:  # surfaced to the producer by _raise_if_failed
            self._error = error
        finally:
            if container is not None:
                try:
                    container.close()
                except Exception as error:  # noqa: BLE001 - a failed close means a broken file
                    self._error = self._error or error

    def _format(self) -> str | None:
        return {".mkv": "matroska", ".mov": "mov", ".mp4": "mp4"}.get(self.path.suffix.lower())

    def _add_video_stream(self, container, width: int, height: int):
        if self.fps is None:
            time_base = Fraction(1, 1000)
            stream = container.add_stream("libx264", rate=30)
            stream.codec_context.time_base = time_base
        elif self.time_base is not None:
            stream = container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1001))
            time_base = Fraction(self.time_base)
            stream.codec_context.time_base = time_base
        else:
            rate = Fraction(self.fps).limit_denominator(1001)
            stream = container.add_stream("libx264", rate=rate)
            time_base = 1 / rate
        stream.width, stream.height = width, height
        # 4:2:0 needs even sides; odd frame sizes keep their size with 4:4:4 instead of padding.
        stream.pix_fmt = "yuv420p" if _even(width) and _even(height) else "yuv444p"
        stream.options = self.encoder.options()
        return stream, time_base

    def _add_audio_stream(self, container):
        """Opens the audio source and adds its stream; None when there is no audio to keep.

        The source file is opened a second time here, with PyAV like its frames. Its frames are
        decoded by the source's own container in the source's thread (capture.VideoFileSource),
        and its sound is demuxed here in the encoder thread once the last frame is encoded: a PyAV
        container is one demuxer with one read position, not safe to use from two threads, and
        sharing it would mean holding every audio packet of the file in memory until the video ends.
        """
        if self.audio_from is None:
            return None
        try:
            source = av.open(str(self.audio_from))
        except av.FFmpegError:
            return None  # unreadable by FFmpeg: the video still converts, without sound
        if not source.streams.audio:
            source.close()
            return None
        in_stream = source.streams.audio[0]
        copy = self.path.suffix.lower() == ".mkv" or in_stream.codec_context.name in _MP4_AUDIO
        if copy:
            out_stream = container.add_stream_from_template(in_stream)
        else:
            out_stream = container.add_stream("aac", rate=in_stream.codec_context.sample_rate)
            # Named layouts only: AAC refuses an unordered "N channels" layout (PCM in AVI has one),
            # and more than two channels are downmixed to stereo by the encoder's resampler.
            out_stream.layout = "mono" if in_stream.codec_context.channels == 1 else "stereo"
        return source, in_stream, out_stream, copy

    @staticmethod
    def _copy_audio(container, source, in_stream, out_stream, copy: bool) -> None:
        try:
            for packet in source.demux(in_stream):
                if copy:
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = out_stream
                    container.mux(packet)
                else:
                    for frame in packet.decode():
                        frame.pts = None  # let the encoder re-time the resampled frames
                        container.mux(out_stream.encode(frame))
            if not copy:
                container.mux(out_stream.encode(None))
        finally:
            source.close()
