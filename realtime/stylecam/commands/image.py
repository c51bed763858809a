"""`stylecam image`: photos (files or folders) stylized into a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylecam.argtypes import positive_int
from stylecam.commands.options import add_runtime_options, load_stylizer
from stylecam.errors import StylecamError

HELP = "stylize photos (files or folders)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument("inputs", type=Path, nargs="+", metavar="IN", help="image files or folders of images")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, help="folder for the stylized images (created if missing)")
    parser.add_argument("--max-size", type=positive_int, default=None, help="cap the long side of each image, in pixels")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")


def run(args: argparse.Namespace) -> int:
    from stylecam.images import collect_images
    from stylecam.loops import stylize_images
    from stylecam.sinks import check_writable_folder

    missing = [str(path) for path in args.inputs if not path.exists()]
    if missing:
        raise StylecamError(f"input {missing[0]} does not exist" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    images = collect_images(args.inputs)
    if not images:
        raise StylecamError(f"no images found in {', '.join(map(str, args.inputs))}")
    check_writable_folder(args.output_dir, create=True)
    style, stylizer = load_stylizer(args)
    report = stylize_images(images, args.output_dir, stylizer, style.name, args.max_size, args.overwrite)
    if args.json:
        print(json.dumps(vars(report)))
    for path in report.skipped_existing:
        print(f"stylecam: skipped {path}: exists (use --overwrite to replace it)", file=sys.stderr)
    print(f"wrote {len(report.written)} image(s) to {args.output_dir}", file=sys.stderr)
    if report.unreadable:
        raise StylecamError(f"{len(report.unreadable)} file(s) could not be read as images: {', '.join(report.unreadable)}")
    return 0
