"""`stylecam flicker`: the warping error of a stylized video, with its original's motion."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print_summary(report)
    return 0
