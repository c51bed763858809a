"""Steadier stylized video: each stylized frame blended with the previous output, moved by the input's motion.

A feed-forward style network paints every frame on its own, so strokes and textures jump from
frame to frame (flicker) even where the scene is still. ``SteadyFilter`` pulls each new
stylized frame towards the previous OUTPUT frame warped onto it by the optical flow of the
INPUT frames, pixel by pixel:

    out_t = (1 - w) * stylized_t + w * warp(out_{t-1})

with ``w = strength`` where the flow can be trusted and 0 where it cannot: pixels the
forward-backward check marks as occluded or out of view (see stylecam.flicker), and pixels
where the warped previous input differs from the current input (fast motion, motion blur,
a light switched on), ramping from full weight at ``TRUSTED_DIFFERENCE`` to none at
``UNTRUSTED_DIFFERENCE``: that is what keeps a walking person from leaving a ghost. A scene
cut (the mean difference between consecutive inputs above ``CUT_DIFFERENCE``) or a change of
frame size resets the filter: the next frame is the stylized frame unchanged.

Because out_{t-1} already holds earlier frames, the filter is recursive: a frame k steps back
weighs about ``strength ** k``. The flow is found at a reduced size and scaled up to warp the
full frame, with one of two settings (``FLOWS``):

- ``"fast"`` (the webcam's): DIS FAST at a long side of 480 px, a few ms a frame;
- ``"fine"`` (video files'): the flow that ``stylecam flicker`` measures with, DIS MEDIUM at up
  to 960 px. It costs about four times as much and explains the motion better, so fewer pixels are
  left unblended: on 10 frames of Megamind.avi, thatched_cottages' warping error went from 1.70x
  the input's with the fast flow to 1.37x with the fine one (2-core CPU).

The flow depends only on the input frames, so it can be found ahead, in another thread, while
the network paints: ``track`` takes the input frames in order and ``blend`` the stylized frames
in the same order (``apply`` is the two in one)::

    steady = SteadyFilter()  # the fast flow at its default strength, 0.6
    for frame in camera:
        shown = steady.apply(frame, stylizer.stylize(frame))
    steady.reset()  # after a jump: another style, another source, a seek

``python -m stylecam.steady`` measures its cost (and the warping error's) per frame here.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import cv2
import numpy as np

from stylecam.choices import DEFAULT_STEADY_STRENGTH, MAX_STEADY_STRENGTH
from stylecam.flicker import ANALYSIS_LONG_SIDE, MEASURE_PRESET, FlowEstimator, Motion, WarpingError, analysis_size, gray, resized

MAX_STRENGTH = MAX_STEADY_STRENGTH

# name -> (DIS preset, long side in px at which the flow is found, never above the frame's);
# the names are stylecam.choices.STEADY_FLOWS, which the command line offers without loading this
FLOWS = {
    "fine": (MEASURE_PRESET, ANALYSIS_LONG_SIDE),  # the measure's own flow: for files, found ahead in a thread
    "fast": (cv2.DISOPTICAL_FLOW_PRESET_FAST, 480),  # within a live frame's budget
}
DEFAULT_FLOW = "fast"

# Per-pixel difference between the warped previous input and the current input (gray, in [0, 1]):
# below TRUSTED the flow explains the pixel (noise, compression), above UNTRUSTED it does not
# (fast motion, blur, a change of light) and the stylized frame is taken as it is.
TRUSTED_DIFFERENCE = 0.03  # about 8 levels of 255
UNTRUSTED_DIFFERENCE = 0.10  # about 25 levels of 255

# Mean absolute difference between consecutive inputs (gray, in [0, 1]) above which the frame is
# taken as a new scene. A walking person or a slow pan stays far below (vtest.avi: under 0.03);
# two different shots differ by 0.15 to 0.3.
CUT_DIFFERENCE = 0.12


@dataclass
class InputStep:
    """What ``SteadyFilter.track`` learnt from one input frame, for ``blend`` to use with its stylized frame."""

    size: tuple[int, int]  # (width, height) of the input frame
    motion: Motion | None  # from the previous input frame; None: nothing to blend with (first frame, cut, new size)
    weight: np.ndarray | None = None  # per pixel of the analysis size: how much of the warped previous output to take


class SteadyFilter:
    """Flow-guided blending of each stylized frame with the previous output; one per video or camera.

    ``apply(input_bgr, stylized_bgr) -> stylized_bgr`` takes the input frame and its stylized
    frame (uint8 BGR, same size) in order and returns the frame to show or write. The same in two
    halves: ``track(input_bgr) -> InputStep`` for each input frame in order (it may run in another
    thread, ahead of the network), then ``blend(step, stylized_bgr)`` for each in the same order.
    ``reset()`` forgets the past (call it after a seek, a change of style or source, with nothing
    tracked and not yet blended). ``flow``: a key of ``FLOWS``; ``strength``: the weight of the
    warped previous output where the flow is trusted (None: the flow's own, in
    ``DEFAULT_STEADY_STRENGTH``). Not thread-safe: ``track`` in one thread at a time, ``blend``
    in one thread at a time.
    """

    def __init__(self, strength: float | None = None, flow: str = DEFAULT_FLOW):
        if flow not in FLOWS:
            raise ValueError(f"flow must be one of {', '.join(FLOWS)}, got {flow!r}")
        strength = DEFAULT_STEADY_STRENGTH[flow] if strength is None else strength
        if not 0 <= strength <= MAX_STRENGTH:
            raise ValueError(f"strength must be between 0 and {MAX_STRENGTH}, got {strength}")
        self.strength = strength
        self.flow = flow
        preset, self.long_side = FLOWS[flow]
        self._flow = FlowEstimator(preset)
        self._previous_gray: np.ndarray | None = None  # input t-1 at the analysis size (track's)
        self._previous_output: np.ndarray | None = None  # what blend returned for t-1 (blend's)
        self.cuts = 0  # resets caused by scene cuts, for reports and tests

    def reset(self) -> None:
        self._previous_gray = self._previous_output = None

    def apply(self, input_bgr: np.ndarray, stylized_bgr: np.ndarray) -> np.ndarray:
        return self.blend(self.track(input_bgr), stylized_bgr)

    def track(self, input_bgr: np.ndarray) -> InputStep:
        """The motion from the previous input frame and the blending weights: everything that needs only the inputs."""
        height, width = input_bgr.shape[:2]
        current_gray = gray(resized(input_bgr, analysis_size(width, height, self.long_side)))
        previous_gray, self._previous_gray = self._previous_gray, current_gray
        if self.strength == 0 or previous_gray is None or previous_gray.shape != current_gray.shape:
            return InputStep((width, height), None)
        if cv2.mean(cv2.absdiff(previous_gray, current_gray))[0] / 255 > CUT_DIFFERENCE:
            self.cuts += 1
            return InputStep((width, height), None)
        motion = self._flow.motion(previous_gray, current_gray)
        return InputStep((width, height), motion, self._weights(motion.valid, motion.warp(previous_gray), current_gray))

    def blend(self, step: InputStep, stylized_bgr: np.ndarray) -> np.ndarray:
        """The stylized frame of ``step``'s input, pulled towards the previous output along the motion."""
        size = (stylized_bgr.shape[1], stylized_bgr.shape[0])
        if size != step.size:
            raise ValueError(f"input {step.size[0]}x{step.size[1]} and stylized {size[0]}x{size[1]} frames differ in size")
        previous_output, self._previous_output = self._previous_output, stylized_bgr
        if step.motion is None or previous_output is None or previous_output.shape != stylized_bgr.shape:
            return stylized_bgr
        map_x, map_y = step.motion.maps_at(size)
        warped_output = cv2.remap(previous_output, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        weight = cv2.resize(step.weight, size, interpolation=cv2.INTER_LINEAR)
        steadied = cv2.blendLinear(warped_output, stylized_bgr, weight, 1.0 - weight)
        self._previous_output = steadied
        return steadied

    def _weights(self, valid: np.ndarray, warped_gray: np.ndarray, current_gray: np.ndarray) -> np.ndarray:
        """Per pixel of the analysis size: ``strength`` where the flow is trusted, falling to 0 where it is not."""
        difference = cv2.absdiff(warped_gray, current_gray).astype(np.float32) * (1.0 / 255.0)
        trust = (UNTRUSTED_DIFFERENCE - difference) * (1.0 / (UNTRUSTED_DIFFERENCE - TRUSTED_DIFFERENCE))
        np.clip(trust, 0.0, 1.0, out=trust)
        trust[~valid] = 0.0
        # Erode the trusted region by a pixel: the flow is least reliable at the border of an
        # occlusion, and scaling the weights up spreads them by about a pixel more.
        trust = cv2.erode(trust, np.ones((3, 3), np.uint8))
        return trust * self.strength


# -- cost per frame -----------------------------------------------------------------------------
def moving_texture(width: int, height: int, frames: int, step: int = 2, seed: int = 0) -> list[np.ndarray]:
    """A smooth random texture sliding ``step`` px per frame: real motion for the flow to find."""
    rng = np.random.default_rng(seed)
    canvas = rng.integers(0, 256, (height + 8, width + step * frames + 8, 3), dtype=np.uint8)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 3)
    canvas = cv2.normalize(canvas, None, 0, 255, cv2.NORM_MINMAX)
    return [np.ascontiguousarray(canvas[4 : 4 + height, 4 + step * index : 4 + step * index + width]) for index in range(frames)]


def time_per_frame(width: int, height: int, frames: int = 30, strength: float | None = None) -> dict:
    """Milliseconds per frame (median) of SteadyFilter.apply with each flow and of WarpingError.add, on a moving texture of this size."""
    clip = moving_texture(width, height, frames)
    rng = np.random.default_rng(1)
    stylized = [cv2.add(frame, rng.integers(0, 20, frame.shape, dtype=np.uint8)) for frame in clip]
    steps = {f"steady_{flow}_ms": SteadyFilter(strength, flow=flow).apply for flow in FLOWS}
    timings = {}
    for name, step in {**steps, "flicker_ms": WarpingError().add}.items():
        step(clip[0], stylized[0])  # the first frame has no pair: not timed
        per_frame = []
        for frame, painted in zip(clip[1:], stylized[1:], strict=True):
            started = time.perf_counter()
            step(frame, painted)
            per_frame.append(time.perf_counter() - started)
        timings[name] = round(float(np.median(per_frame)) * 1000, 1)  # the median: others' work on a shared machine spikes the mean
    return {"size": f"{width}x{height}", **timings}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stylecam.steady", description="time --steady and --flicker per frame on this machine")
    parser.add_argument("--frames", type=int, default=30, help="frames timed at each size (default: 30)")
    args = parser.parse_args(argv)
    cv2.setRNGSeed(0)
    print(f"OpenCV threads: {cv2.getNumThreads()}")
    for width, height in ((640, 480), (1280, 720), (1920, 1080)):
        row = time_per_frame(width, height, args.frames)
        steady = ", ".join(f"{flow} {row[f'steady_{flow}_ms']:.1f}" for flow in FLOWS)
        print(f"{row['size']:>9}: steady ({steady}) ms/frame, warping error {row['flicker_ms']:.1f} ms/frame")


if __name__ == "__main__":
    main()
