"""`stylecam video`: a video file stylized, its sound kept."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylecam.argtypes import PROG, positive_int
from stylecam.choices import DEFAULT_FILE_STEADY_FLOW, DEFAULT_STEADY_STRENGTH, STEADY_FLOWS
from stylecam.commands.options import (
    add_encoder_options,
    add_runtime_options,
    check_video_output,
    encoder_settings,
    load_stylizer,
    steady_strength,
)

HELP = "stylize a video file (sound kept)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    add_encoder_options(parser)
    parser.add_argument("input", type=Path, help="video file to read")
    parser.add_argument("-o", "--output", type=Path, required=True, help="video file to write (.mp4, .mov or .mkv)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    parser.add_argument("--batch", type=positive_int, default=None, help="frames per network call (default: 4 on CUDA, 1 elsewhere)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--steady",
        action="store_true",
        help="less flicker: blend each frame with the previous one moved by the input's optical flow (not where it moves too fast)",
    )
    parser.add_argument(
        "--steady-strength",
        type=steady_strength,
        default=None,
        metavar="S",
        help="weight of the previous frame for --steady, 0 to 0.95 (default: 0.8 with the fine flow, 0.6 with the fast one; implies --steady)",
    )
    parser.add_argument(
        "--steady-flow",
        choices=STEADY_FLOWS,
        default=DEFAULT_FILE_STEADY_FLOW,
        help="--steady's optical flow: fine (the one `stylecam flicker` measures with; found in a thread beside the network) "
        "or fast (the webcam's, a fifth of the CPU time) (default: %(default)s)",
    )
    parser.add_argument(
        "--flicker", action="store_true", help="also measure the warping error of the result and of the input (see `stylecam flicker`)"
    )


def run(args: argparse.Namespace) -> int:
    from stylecam.loops import convert_video

    check_video_output(args.output, [args.input], args.overwrite)
    style, stylizer = load_stylizer(args)
    batch = args.batch or stylizer.default_batch()
    steady = args.steady_strength
    if steady is None and args.steady:
        steady = DEFAULT_STEADY_STRENGTH[args.steady_flow]
    report = convert_video(
        args.input,
        args.output,
        stylizer,
        style.name,
        batch_size=batch,
        show_progress=not args.quiet,
        overwrite=args.overwrite,
        steady=steady,
        measure_flicker=args.flicker,
        encoder=encoder_settings(args),
        steady_flow=args.steady_flow,
    )
    if report.ended_early:
        print(
            f"{PROG}: warning: {args.input} ended after {report.frames} of the {report.frames_announced} frames its header "
            "announces (a truncated or damaged file?); every frame found was converted",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        speed = f"{report.fps:.1f} fps, {report.device}, style {style.name}"
        print(f"wrote {args.output}: {report.frames} frames in {report.seconds:.1f} s ({speed})", file=sys.stderr)
    if args.flicker and not args.json:
        from stylecam.flicker import format_error

        print(
            f"warping error: {format_error(report.warping_error)} (input, the floor: {format_error(report.warping_error_input)}; "
            "frames as written, before encoding)",
            file=sys.stderr,
        )
    return 0
