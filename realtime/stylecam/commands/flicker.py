"""`stylecam flicker`: the warping error of a stylized video, with its original's motion."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylecam.argtypes import PROG

HELP = "measure flicker: the warping error of a stylized video, with the motion of its original"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("original", type=Path, metavar="IN", help="the original video (its optical flow is used)")
    parser.add_argument(
        "stylized", type=Path, metavar="OUT", help="the stylized video: same frame count; resized to IN's size if it differs"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylecam.capture import probe_video_file
    from stylecam.flicker import measure_files, print_summary

    # A clear error for a bad file before any work; the original's header count sizes the progress bar.
    info, _ = probe_video_file(args.original)
    probe_video_file(args.stylized)
    with tqdm(total=info.frame_count, unit="frame", desc="flicker", disable=args.quiet, file=sys.stderr, dynamic_ncols=True) as bar:
        report = measure_files(args.original, args.stylized, on_frame=bar.update)
        ended_early = info.frame_count is not None and report.frames < info.frame_count
        if ended_early:  # the bar ends at 100% of what was there, as video's does
            bar.total = bar.n
            bar.refresh()
    if ended_early:
        print(
            f"{PROG}: warning: {args.original} ended after {report.frames} of the {info.frame_count} frames its header "
            "announces (a truncated or damaged file?); the figures are of the frames found",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print_summary(report)
    return 0
