"""`stylecam demo`: a short clip that stylecam makes itself, stylized, with a side-by-side PNG."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from stylecam.commands.options import add_runtime_options, check_video_output, load_stylizer

HELP = "stylize a short clip that stylecam makes itself"
DEMO_OUTPUT = Path("stylecam-demo.mp4")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="where the demo video goes; its side-by-side PNG goes beside it (default: stylecam-demo.mp4, or -2, -3... if taken)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT and its PNG if they exist")
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")


def free_name(path: Path, *companions: str) -> Path:
    """``path``, or ``stem-2.suffix``, ``stem-3.suffix``... the first free one, with its companion suffixes free too."""
    candidate, number = path, 2
    while any(p.exists() for p in (candidate, *(candidate.with_suffix(suffix) for suffix in companions))):
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate


def _frame_number(path: Path, number: int):
    """Frame ``number`` (from 0) of a video file, or its last frame if it has fewer; BGR."""
    from stylecam.capture import VideoFile

    with VideoFile(path) as video:
        last = video.first
        for index, (frame, _) in enumerate(video.frames()):
            last = frame
            if index == number:
                break
        return last


def run(args: argparse.Namespace) -> int:
    from stylecam.demo import make_demo_clip
    from stylecam.images import side_by_side, write_image
    from stylecam.loops import convert_video
    from stylecam.sinks import check_output_file

    if args.output is None:  # the default name never replaces a file: it moves on to a free one
        output = free_name(DEMO_OUTPUT, ".png")
    else:  # a name the user gave is replaced only with --overwrite, and so is the PNG beside it
        output = args.output
        check_output_file(output.with_suffix(".png"), [], args.overwrite)
    check_video_output(output, [], args.overwrite)
    style, stylizer = load_stylizer(args)
    print(f"stylecam: demo with style '{style.name}': {style.credit_line()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="stylecam-demo-") as workdir:
        clip = Path(workdir) / "demo-input.mp4"
        make_demo_clip(clip)
        report = convert_video(clip, output, stylizer, style.name, overwrite=args.overwrite)
        original, stylized = (_frame_number(path, report.frames // 2) for path in (clip, output))
    preview = output.with_suffix(".png")
    write_image(preview, side_by_side(original, stylized))
    # Notes on stderr, the result (with --json) on stdout, as every command does.
    print(f"stylecam: wrote {output.resolve()} ({report.frames} frames, {report.fps:.1f} fps on {report.device})", file=sys.stderr)
    print(f"stylecam: original and stylized side by side: {preview.resolve()}", file=sys.stderr)
    if args.json:
        summary = {"output": str(output.resolve()), "preview": str(preview.resolve()), "style": style.name}
        print(json.dumps({**summary, "frames": report.frames, "fps": round(report.fps, 2), "device": str(report.device)}))
    return 0
