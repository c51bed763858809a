"""`stylecam bench`: speed as JSON, the network by back end, a file end to end, the webcam loop.

Before each part a line on stderr says what it times, and after it another its result; the JSON
report is one object on stdout at the end.

The training step's speed is the recipe's `stylecam bench-train`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylecam.argtypes import frame_size, name_list, positive_int
from stylecam.choices import BACKENDS, PRECISIONS
from stylecam.commands.options import add_runtime_options, load_stylizer
from stylecam.errors import StylecamError

HELP = "measure speed as JSON: the network by back end, a file end to end (next to the classic loop), the webcam loop"
PARTS = ("model", "file", "webcam")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument(
        "input", type=Path, nargs="?", help="video to read, its first --frames frames (default: a synthetic clip at --size)"
    )
    parser.add_argument(
        "--size",
        type=frame_size,
        default=None,
        metavar="WxH",
        help="resize the frames to this size (default: the input's; 1920x1080 for the synthetic clip)",
    )
    parser.add_argument("--frames", type=positive_int, default=100, help="frames of the clip (default: 100)")
    parser.add_argument("--batch", type=positive_int, default=None, help="frames per network call (default: 4 on CUDA, 1 elsewhere)")
    parser.add_argument(
        "--backends",
        type=name_list,
        default=None,
        metavar="NAME[,NAME...]",
        help="back ends timed for the model alone (default: every one that runs here)",
    )
    parser.add_argument(
        "--precisions",
        type=name_list,
        default=["auto"],
        metavar="NAME[,NAME...]",
        help="precisions timed for the model alone (default: auto, each back end's own)",
    )
    parser.add_argument("--repeats", type=positive_int, default=20, help="timed calls of the model alone, after its first (default: 20)")
    parser.add_argument(
        "--parts",
        type=name_list,
        default=list(PARTS),
        metavar="PART[,PART...]",
        help=f"what to time: {', '.join(PARTS)} (default: all; the training step: `stylecam bench-train`)",
    )


def run(args: argparse.Namespace) -> int:
    from stylecam.bench import BenchSettings, default_backends, run_bench
    from stylecam.capture import probe_video_file

    for names, allowed, option in (
        (args.parts, PARTS, "--parts"),
        (args.backends or [], BACKENDS, "--backends"),
        (args.precisions, PRECISIONS, "--precisions"),
    ):
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise StylecamError(f"{option}: unknown '{unknown[0]}' (choose from {', '.join(allowed)})")
    if args.input is not None:
        probe_video_file(args.input)  # a clear error for a bad input before any work
    style, stylizer = load_stylizer(args)
    settings = BenchSettings(
        input=str(args.input) if args.input is not None else None,
        size=args.size,
        frames=args.frames,
        batch=args.batch or stylizer.default_batch(),
        backends=args.backends or default_backends(stylizer.device),
        precisions=args.precisions,
        repeats=args.repeats,
        parts=list(dict.fromkeys(args.parts)),
    )
    # What each part times and its result, on stderr as it goes; the report alone on stdout at the end.
    report = run_bench(settings, stylizer, style.name, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(report, indent=2))
    return 0
