"""Flicker, measured: the warping error of a video, with the motion taken from its input video.

For each pair of consecutive frames t-1, t:

1. Optical flow (OpenCV's DIS, MEDIUM preset) between the INPUT video's grayscale frames t-1 and t, both ways:
   the backward flow ``b`` (t -> t-1: where each pixel of frame t was in frame t-1) and the
   forward flow ``f`` (t-1 -> t). The input's flow, never the stylized video's: brush strokes
   that change from frame to frame would be read as motion, and flicker would be "explained".
2. A validity mask on frame t's grid: a pixel is left out where the two flows disagree, the
   forward-backward check of Sundaram et al. (2010) as used by Ruder et al. (2016),
   ``|b(x) + f(x + b(x))|^2 > 0.01 (|b(x)|^2 + |f(x + b(x))|^2) + 0.5`` (pixels, at the analysis
   size), and where ``x + b(x)`` falls outside frame t-1. The check is written with ``b`` first
   because the mask lives on frame t, the frame being predicted. Ruder's second test (motion
   boundaries, large flow gradients) is not used: the consistency check already drops most
   of those pixels, and the measure stays simpler to explain.
3. Frame t-1 of the measured video warped onto frame t (``cv2.remap`` at ``x + b(x)``), and the
   mean squared difference with frame t over the valid pixels and the three colour channels,
   with pixel values in [0, 1].

The warping error of a video is the mean of that over its frame pairs. The same figure for the
input video itself is the floor: what flow errors, noise and real changes of light leave even
without any flicker. Everything is computed at the frame's own size up to a long side of
``ANALYSIS_LONG_SIDE`` = 960 px (never enlarged; a 1080p video is measured at half size): the
flicker of brush strokes is a few pixels wide, and shrinking the frames averages it away (on
starry_night over 100 frames of vtest.avi, 1.08 times the floor at 480 px but 1.5 times at the
clip's own 768 px). The output is resized to the input's analysis size, so an
output of another size is compared as if it had the input's size.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from stylecam.errors import StylecamError

ANALYSIS_LONG_SIDE = 960  # px: the flow and the differences are computed at this size (never above the frame's)

# Forward-backward consistency (Sundaram et al. 2010; Ruder et al. 2016): a pixel is occluded where
# |b + f(x+b)|^2 > RELATIVE * (|b|^2 + |f(x+b)|^2) + ABSOLUTE, in pixels at the analysis size.
CONSISTENCY_RELATIVE = 0.01
CONSISTENCY_ABSOLUTE = 0.5

# DIS preset of the measure. On the first 100 frames of vtest.avi at 480x360 (2-core CPU):
# ULTRAFAST and FAST about 4 and 7 ms a flow, MEDIUM about 37 ms, but MEDIUM's flow explains the
# input twice as well (input warping error 0.00029 against 0.00062 with FAST), and a lower floor
# is what lets the measure tell flicker from flow errors.
MEASURE_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM

# A pair whose valid pixels are fewer than this share of the frame (a scene cut, a flash) says
# nothing about flicker: it is skipped and counted.
MIN_VALID_SHARE = 0.05


class FlickerError(StylecamError):
    """The two videos cannot be compared (different frame counts, too few frames)."""


def analysis_size(width: int, height: int, long_side: int = ANALYSIS_LONG_SIDE) -> tuple[int, int]:
    """(width, height) with the long side at most ``long_side``, aspect kept; never enlarged."""
    factor = min(1.0, long_side / max(width, height))
    return max(8, round(width * factor)), max(8, round(height * factor))


def resized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` at ``size`` (width, height); area averaging when shrinking, as a camera would see it."""
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    shrinking = size[0] < frame.shape[1]
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def gray(frame_bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)


def unit(frame_bgr: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1]."""
    return frame_bgr.astype(np.float32) * (1.0 / 255.0)


@dataclass
class Motion:
    """How frame t-1 maps onto frame t, on frame t's grid (all arrays H x W, float32 or bool)."""

    map_x: np.ndarray  # x + b_x(x): where each pixel of frame t was in frame t-1
    map_y: np.ndarray
    valid: np.ndarray  # True where the flow is consistent both ways and stays in the frame

    def warp(self, previous: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
        """``previous`` (frame t-1, any channels, same size) moved onto frame t."""
        return cv2.remap(previous, self.map_x, self.map_y, interpolation, borderMode=cv2.BORDER_REPLICATE)

    def maps_at(self, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(map_x, map_y) for a frame of another size (width, height): the flow resized and rescaled.

        For warping a full-size frame with a motion found at the analysis size.
        """
        height, width = self.valid.shape
        if (width, height) == size:
            return self.map_x, self.map_y
        xs, ys = _grid(height, width)
        big_xs, big_ys = _grid(size[1], size[0])
        flow_x = cv2.resize(self.map_x - xs, size, interpolation=cv2.INTER_LINEAR)
        flow_y = cv2.resize(self.map_y - ys, size, interpolation=cv2.INTER_LINEAR)
        flow_x *= size[0] / width
        flow_y *= size[1] / height
        return big_xs + flow_x, big_ys + flow_y


@functools.lru_cache(maxsize=4)  # a video has one size, or two (its analysis size and its own): the same grids every frame
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (xs, ys), float32. Read-only: they are shared between calls."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


# OpenCV's DIS refuses frames under 12 pixels a side; smaller ones are enlarged to this for the flow.
MIN_FLOW_SIDE = 16


class FlowEstimator:
    """DIS optical flow both ways between two grayscale frames, and the consistency mask.

    One per thread: an OpenCV DIS object keeps working buffers and is not shared safely.
    ``preset``: FAST for the steadying filter (a frame's budget), MEDIUM for the measure.
    """

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST):
        self._dis = cv2.DISOpticalFlow_create(preset)

    def _flows(self, previous_gray: np.ndarray, current_gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(backward t -> t-1, forward t-1 -> t); on frames too small for DIS, found on an enlarged copy."""
        height, width = current_gray.shape
        factor = MIN_FLOW_SIDE / min(height, width)
        if factor <= 1:
            return self._dis.calc(current_gray, previous_gray, None), self._dis.calc(previous_gray, current_gray, None)
        size = (math.ceil(width * factor), math.ceil(height * factor))
        previous_big, current_big = (cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR) for frame in (previous_gray, current_gray))
        flows = []
        for flow in (self._dis.calc(current_big, previous_big, None), self._dis.calc(previous_big, current_big, None)):
            small = cv2.resize(flow, (width, height), interpolation=cv2.INTER_AREA)
            small[..., 0] *= width / size[0]
            small[..., 1] *= height / size[1]
            flows.append(small)
        return flows[0], flows[1]

    def motion(self, previous_gray: np.ndarray, current_gray: np.ndarray) -> Motion:
        backward, forward = self._flows(previous_gray, current_gray)
        height, width = current_gray.shape
        xs, ys = _grid(height, width)
        map_x, map_y = xs + backward[..., 0], ys + backward[..., 1]
        forward_there = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # Plane by plane: NumPy arithmetic across an interleaved last axis costs five times as much.
        bx, by = cv2.split(backward)
        fx, fy = cv2.split(forward_there)
        round_x, round_y = bx + fx, by + fy  # zero where going back and forth lands where it started
        mismatch = round_x * round_x + round_y * round_y
        allowed = bx * bx + by * by + fx * fx + fy * fy
        allowed *= CONSISTENCY_RELATIVE
        allowed += CONSISTENCY_ABSOLUTE
        in_view = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
        return Motion(map_x, map_y, (mismatch <= allowed) & in_view)


def masked_mse(predicted: np.ndarray, actual: np.ndarray, valid: np.ndarray) -> float:
    """Mean squared difference over the valid pixels and all channels (float32 images, same shape)."""
    difference = cv2.subtract(predicted, actual)
    squared = cv2.multiply(difference, difference)
    channel_means = cv2.mean(squared, mask=valid.astype(np.uint8))  # per channel, over the valid pixels
    channels = 1 if squared.ndim == 2 else squared.shape[2]
    return float(sum(channel_means[:channels]) / channels)


class WarpingError:
    """The warping error of a video and of its input, fed one (input, output) frame pair at a time.

    ::

        meter = WarpingError()
        for original, stylized in frames:
            meter.add(original, stylized)
        meter.output_error, meter.input_error  # means over the frame pairs so far (None before two frames)

    Frames are uint8 BGR; the output may have another size than the input (it is resized to
    the input's analysis size). Only the previous frame pair is kept.
    """

    def __init__(self, long_side: int = ANALYSIS_LONG_SIDE):
        self.long_side = long_side
        self._flow = FlowEstimator(MEASURE_PRESET)
        self._previous: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # gray input, input, output at analysis size
        self._size: tuple[int, int] | None = None
        self._output_sum = 0.0
        self._input_sum = 0.0
        self.frames = 0
        self.pairs = 0  # frame pairs measured
        self.pairs_skipped = 0  # pairs with too few valid pixels (cuts, flashes) or a change of size

    def add(self, input_bgr: np.ndarray, output_bgr: np.ndarray) -> None:
        size = analysis_size(input_bgr.shape[1], input_bgr.shape[0], self.long_side)
        small_input = resized(input_bgr, size)
        current = (gray(small_input), unit(small_input), unit(resized(output_bgr, size)))
        self.frames += 1
        if self._previous is not None and size == self._size:
            self._measure(self._previous, current)
        elif self._previous is not None:
            self.pairs_skipped += 1  # the stream changed size: no pixel correspondence
        self._previous, self._size = current, size

    def _measure(self, previous: tuple[np.ndarray, np.ndarray, np.ndarray], current: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        motion = self._flow.motion(previous[0], current[0])
        if motion.valid.mean() < MIN_VALID_SHARE:
            self.pairs_skipped += 1
            return
        self._input_sum += masked_mse(motion.warp(previous[1]), current[1], motion.valid)
        self._output_sum += masked_mse(motion.warp(previous[2]), current[2], motion.valid)
        self.pairs += 1

    @property
    def output_error(self) -> float | None:
        return self._output_sum / self.pairs if self.pairs else None

    @property
    def input_error(self) -> float | None:
        return self._input_sum / self.pairs if self.pairs else None

    @property
    def ratio(self) -> float | None:
        """Output's error over the input's: 1 is as steady as the input can be measured; None when the floor is 0."""
        if self.output_error is None or not self.input_error:
            return None
        return self.output_error / self.input_error


@dataclass
class FlickerReport:
    input: str
    output: str
    frames: int
    pairs: int
    pairs_skipped: int
    warping_error: float  # of OUTPUT, with the input's flow
    warping_error_input: float  # of INPUT itself: the floor
    ratio: float | None  # warping_error / warping_error_input (None when the floor is 0)
    analysis_size: list[int]  # [width, height] the figures were computed at

    def as_dict(self) -> dict:
        return asdict(self)


def measure_files(
    input_path: Path, output_path: Path, on_frame: Callable[[], object] | None = None, long_side: int = ANALYSIS_LONG_SIDE
) -> FlickerReport:
    """The warping error of the video ``output_path`` (and of ``input_path``, the floor), with the input's flow.

    ``on_frame`` is called after each frame pair (a progress bar's update).
    """
    from stylecam.capture import VideoFileSource

    meter = WarpingError(long_side)
    with VideoFileSource(input_path) as originals, VideoFileSource(output_path) as stylized:
        width, height = originals.info.width, originals.info.height
        inputs, outputs = iter(originals), iter(stylized)
        rest_in = rest_out = 0
        while True:
            original, painted = next(inputs, None), next(outputs, None)
            if original is None or painted is None:  # one has ended: count what is left of the other
                rest_in = sum(1 for _ in inputs) + (original is not None)
                rest_out = sum(1 for _ in outputs) + (painted is not None)
                break
            meter.add(original[0], painted[0])
            if on_frame is not None:
                on_frame()
    if rest_in or rest_out:
        raise FlickerError(
            f"{input_path} has {meter.frames + rest_in} frames and {output_path} has {meter.frames + rest_out}: "
            "the warping error compares frame t of one with frame t of the other, so they need the same count"
        )
    if meter.frames < 2:
        raise FlickerError(f"{input_path} has {meter.frames} frame(s): the warping error needs at least two")
    if meter.pairs == 0:
        raise FlickerError(f"no frame pair of {input_path} could be matched by optical flow (every pair a cut?)")
    return FlickerReport(
        input=str(input_path),
        output=str(output_path),
        frames=meter.frames,
        pairs=meter.pairs,
        pairs_skipped=meter.pairs_skipped,
        warping_error=meter.output_error,
        warping_error_input=meter.input_error,
        ratio=meter.ratio,
        analysis_size=list(analysis_size(width, height, long_side)),
    )


def format_error(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6f}"


def print_summary(report: FlickerReport, file=None) -> None:
    file = file or sys.stdout  # looked up at call time: tests and callers may have replaced it
    ratio = "n/a (the input's error is 0)" if report.ratio is None else f"{report.ratio:.2f}x the input's"
    print(f"warping error of {report.output}: {format_error(report.warping_error)} ({ratio})", file=file)
    print(f"warping error of {report.input} (the floor): {format_error(report.warping_error_input)}", file=file)
    skipped = f", {report.pairs_skipped} skipped (cuts or flashes)" if report.pairs_skipped else ""
    size = "x".join(map(str, report.analysis_size))
    print(f"{report.pairs} frame pairs at {size}{skipped}; mean squared difference, pixels in [0, 1]", file=file)
