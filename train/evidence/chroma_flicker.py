"""Why an encoded stylized video measured more flicker than its frames did before encoding.

Stylizes --frames consecutive frames of a clip (from --start) with one style at its defaults
(eager, fp32) and the --steady filter (--steady-strength, the file flow), then measures the
warping error over the input's (`stylecam flicker`'s measure) of the same frames:

- as stylized (what `stylecam video --flicker` reports);
- after a 4:2:0 round trip in floating point (chroma averaged over 2x2 pixels, bilinear back),
  which is what 4:2:0 itself does to the strokes' colour, with nothing rounded;
- written with libx264 at --crf in yuv420p (what `stylecam video` writes) and read back two ways:
  with FFmpeg's own conversion (each chroma sample repeated over its 2x2 block: what stylecam
  read files with up to this release) and with stylecam.yuv.bgr_pixels (chroma interpolated, as
  players show it). The input is read the same way as the file it is compared with.

Everything is computed for the network fed each of the two readings of the input, since that
reading is what the network paints.

    python train/evidence/chroma_flicker.py Megamind.avi --style thatched_cottages --start 60 --frames 30
"""

from __future__ import annotations

import argparse
import io
import itertools
import json

import av
import cv2
import numpy as np

from stylecam import Stylizer
from stylecam.devices import hardware_description
from stylecam.flicker import WarpingError
from stylecam.steady import SteadyFilter
from stylecam.yuv import bgr_pixels

READINGS = {
    "FFmpeg's conversion (chroma repeated)": lambda frame: frame.to_ndarray(format="bgr24"),
    "stylecam.yuv (chroma interpolated)": bgr_pixels,
}


def ratio(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> float:
    meter = WarpingError()
    for original, painted in zip(inputs, outputs, strict=True):
        meter.add(original, painted)
    return round(meter.ratio, 3)


def float_420_round_trip(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    ycrcb = cv2.cvtColor(frame.astype(np.float32) / 255, cv2.COLOR_BGR2YCrCb)
    for channel in (1, 2):
        half = cv2.resize(np.ascontiguousarray(ycrcb[..., channel]), (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        ycrcb[..., channel] = cv2.resize(half, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR) * 255 + 0.5, 0, 255).astype(np.uint8)


def x264(frames: list[np.ndarray], crf: int) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24, options={"crf": str(crf), "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    return buffer.getvalue()


def read(data: bytes | str, reading, start: int = 0, count: int | None = None) -> list[np.ndarray]:
    """Frames ``start`` to ``start + count`` (all from ``start`` when None) of a file or encoded bytes, read with ``reading``."""
    with av.open(io.BytesIO(data) if isinstance(data, bytes) else data) as container:
        frames = itertools.islice(container.decode(video=0), start, start + count if count else None)
        return [reading(frame) for frame in frames]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clip")
    parser.add_argument("--style", default="thatched_cottages")
    parser.add_argument("--start", type=int, default=60)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--steady-strength", type=float, default=0.6)
    args = parser.parse_args()
    stylizer = Stylizer.from_style(args.style, device="cpu", backend="eager")
    inputs = {name: read(args.clip, reading, args.start, args.frames) for name, reading in READINGS.items()}
    figures = {}
    for fed, frames in inputs.items():
        steady = SteadyFilter(args.steady_strength, flow="fine")
        painted = [steady.apply(frame, stylizer(frame)) for frame in frames]
        encoded = x264(painted, args.crf)
        figures[f"network fed {fed}"] = {
            "as stylized": ratio(frames, painted),
            "4:2:0 round trip in floating point": ratio(frames, [float_420_round_trip(frame) for frame in painted]),
            **{f"x264 crf {args.crf}, read with {name}": ratio(inputs[name], read(encoded, reading)) for name, reading in READINGS.items()},
        }
    print(
        json.dumps(
            {
                "clip": args.clip,
                "style": args.style,
                "start": args.start,
                "frames": args.frames,
                "steady_strength": args.steady_strength,
                "hardware": hardware_description(),
                **figures,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
