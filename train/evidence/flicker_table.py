"""Flicker of many styles on a few clips: the warping error of each stylized clip over the input's.

What `stylecam flicker` measures (stylecam.flicker.WarpingError: the change between consecutive
frames that the input's optical flow does not explain), on the frames as stylized, before any
encoding, for each style at its own defaults (processing scale, strength 1), on --frames
consecutive frames of each clip after the first --start. With --steady S the same stylized
frames are also measured after `stylecam video --steady-strength S`'s filter, with each of its
optical flows (`--steady-flow fine`, the default for files, and `fast`, the webcam's): one
stylization, three measures. Prints a table and writes --json. The ratio is the stylized clip's error over the
input's own: 1.0 means no more flicker than the footage has.

    python train/evidence/flicker_table.py --clip vtest=vtest.avi --clip megamind=Megamind.avi \
        --styles starry_night,wave --frames 40 --steady 0.6 --json flicker.json

Runs on the CPU (eager): about 0.3 s a frame for a whole network at 768x576 on two cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from stylecam import Stylizer
from stylecam.capture import VideoFile
from stylecam.choices import DEFAULT_FILE_STEADY_FLOW, STEADY_FLOWS
from stylecam.commands.options import steady_strength
from stylecam.devices import hardware_description
from stylecam.flicker import WarpingError
from stylecam.steady import SteadyFilter
from stylecam.weights import installed_styles


def read_frames(path: str, count: int, start: int = 0) -> list[np.ndarray]:
    """Frames ``start`` to ``start + count`` of the clip, read as `stylecam video` reads them."""
    with VideoFile(Path(path)) as video:
        return [frame for frame, _ in itertools.islice(video.frames(), start, start + count)]


def figures(meter: WarpingError) -> dict:
    return {
        "output_error": meter.output_error,
        "input_error": meter.input_error,
        "ratio": meter.ratio,
        "pairs": meter.pairs,
    }


def measure(style: str, frames: list[np.ndarray], steady: float | None = None) -> dict:
    """The style's flicker on these frames; with ``steady``, also after the --steady filter at that strength, with each flow.

    ``steady``: the file default's flow (what `stylecam video --steady` does); ``steady_FLOW``: the others.
    """
    stylizer = Stylizer.from_style(style, device="cpu", backend="eager")
    meter = WarpingError()
    steadied = {flow: (SteadyFilter(steady, flow=flow), WarpingError()) for flow in STEADY_FLOWS} if steady else {}
    for frame in frames:
        stylized = stylizer(frame)
        meter.add(frame, stylized)
        for steady_filter, steady_meter in steadied.values():
            steady_meter.add(frame, steady_filter.apply(frame, stylized))
    result = {**figures(meter), "scale": stylizer.scale}
    for flow, (_, steady_meter) in steadied.items():
        key = "steady" if flow == DEFAULT_FILE_STEADY_FLOW else f"steady_{flow}"
        result[key] = {"strength": steady, "flow": flow, **figures(steady_meter)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", action="append", required=True, metavar="NAME=PATH", help="a clip (repeatable)")
    parser.add_argument("--styles", help="comma-separated styles (default: every installed style but NAME_fast)")
    parser.add_argument("--frames", type=int, default=40, help="consecutive frames of each clip")
    parser.add_argument("--start", type=int, default=0, help="frames skipped at the start of each clip (a fade from black)")
    parser.add_argument("--steady", type=steady_strength, metavar="S", help="also measure after the --steady filter at strength S")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    styles = args.styles.split(",") if args.styles else [p.stem for p in installed_styles() if not p.stem.endswith("_fast")]
    clips = {name: read_frames(path, args.frames, args.start) for name, path in (item.split("=", 1) for item in args.clip)}
    started = time.monotonic()
    results: dict[str, dict[str, dict]] = {}
    for style in styles:
        # Styles given as files may share a name (a painter's code and a whole network of one painting): the folder tells them apart.
        label = f"{Path(style).parent.name}/{Path(style).stem}" if style.endswith(".safetensors") else style
        results[label] = {}
        for clip, frames in clips.items():
            results[label][clip] = figure = measure(style, frames, args.steady)
            steadied = "".join(
                f", {cell['ratio']:.2f}x --steady-flow {cell['flow']}" for key, cell in figure.items() if key.startswith("steady")
            )
            print(f"  {label} / {clip}: {figure['ratio']:.2f}x{steadied} ({figure['pairs']} pairs)", file=sys.stderr)
    keys = [None] + (["steady"] + [f"steady_{flow}" for flow in STEADY_FLOWS if flow != DEFAULT_FILE_STEADY_FLOW] if args.steady else [])
    columns = [(clip, key) for key in keys for clip in clips]
    width = max(len("style"), *(len(label) for label in results)) + 2
    print(f"{'style':{width}}" + "".join(f"{clip + (' ' + key if key else ''):>22}" for clip, key in columns))
    for style, by_clip in results.items():
        cells = (by_clip[clip][key] if key else by_clip[clip] for clip, key in columns)
        print(f"{style:{width}}" + "".join(f"{cell['ratio']:>21.2f}x" for cell in cells))
    if args.json:
        settings = {
            "frames": args.frames,
            "start": args.start,
            "steady": args.steady,
            "clips": dict(item.split("=", 1) for item in args.clip),
            "hardware": hardware_description(),
        }
        settings["seconds"] = round(time.monotonic() - started, 1)
        args.json.write_text(json.dumps({"settings": settings, "styles": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
