"""Why an encoded stylized video measures more flicker than its frames did before encoding.

Stylizes --frames consecutive frames of a clip (from --start) with one style at its defaults
(eager, fp32) and the --steady filter (strength 0.6, the file flow), then measures the warping
error over the input's (`stylecam flicker`'s measure) of the same frames:

- as stylized (what `stylecam video --flicker` reports);
- after a 4:2:0 round trip with no encoding (OpenCV's I420, chroma averaged over 2x2 pixels),
  with nearest and with bilinear chroma upsampling; the input goes through the same round trip;
- after libx264 at --crf in yuv420p (what `stylecam video` writes), and the input itself through
  the same encoder, which shows what compression alone does.

    python train/evidence/chroma_flicker.py Megamind.avi --style thatched_cottages --start 60 --frames 40
"""

from __future__ import annotations

import argparse
import io
import json

import av
import cv2
import numpy as np

from stylecam import Stylizer
from stylecam.capture import VideoFileSource
from stylecam.devices import hardware_description
from stylecam.flicker import WarpingError
from stylecam.steady import SteadyFilter


def ratio(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> float:
    meter = WarpingError()
    for original, painted in zip(inputs, outputs, strict=True):
        meter.add(original, painted)
    return round(meter.ratio, 3)


def i420_round_trip(frame: np.ndarray, upsampling: int) -> np.ndarray:
    height, width = frame.shape[:2]
    planes = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
    luma = planes[:height]
    chroma = planes[height:].reshape(2, height // 2, width // 2)
    u, v = (cv2.resize(plane, (width, height), interpolation=upsampling) for plane in chroma)
    return cv2.cvtColor(np.dstack([luma, u, v]), cv2.COLOR_YUV2BGR)


def x264_round_trip(frames: list[np.ndarray], crf: int) -> list[np.ndarray]:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24, options={"crf": str(crf), "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clip")
    parser.add_argument("--style", default="thatched_cottages")
    parser.add_argument("--start", type=int, default=60)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--crf", type=int, default=18)
    args = parser.parse_args()
    with VideoFileSource(args.clip) as source:
        frames = [frame for index, (frame, _) in enumerate(source) if args.start <= index < args.start + args.frames]
    stylizer = Stylizer.from_style(args.style, device="cpu", backend="eager")
    steady = SteadyFilter(0.6, flow="fine")
    painted = [steady.apply(frame, stylizer(frame)) for frame in frames]
    figures = {"as stylized": ratio(frames, painted)}
    for name, upsampling in (("nearest", cv2.INTER_NEAREST), ("bilinear", cv2.INTER_LINEAR)):
        trip = [i420_round_trip(frame, upsampling) for frame in frames]
        figures[f"4:2:0 round trip, {name} upsampling"] = ratio(trip, [i420_round_trip(p, upsampling) for p in painted])
    figures[f"x264 crf {args.crf}"] = ratio(frames, x264_round_trip(painted, args.crf))
    figures[f"the input through x264 crf {args.crf}"] = ratio(frames, x264_round_trip(frames, args.crf))
    print(
        json.dumps(
            {
                "clip": args.clip,
                "style": args.style,
                "start": args.start,
                "frames": len(frames),
                "hardware": hardware_description(),
                **figures,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
