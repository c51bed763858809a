"""`stylecam image`: photos (files, folders or stdin) stylized into a file, a folder or stdout."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from stylecam.argtypes import positive_int
from stylecam.commands.options import add_runtime_options, load_stylizer
from stylecam.errors import OutputError, StylecamError

HELP = "stylize photos (files or folders)"
STDIO = "-"  # an input of "-" is stdin, an output of "-" stdout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument("inputs", nargs="+", metavar="IN", help="image files or folders of images, or - for one image on stdin")
    parser.add_argument(
        "-o",
        "--output",
        "--output-dir",
        dest="output",
        required=True,
        help="the output file when it ends in an image suffix (.png, .jpg, ...) and there is one input file; "
        "otherwise the folder for the stylized images, as NAME-STYLE.EXT (created if missing); - for stdout (PNG)",
    )
    parser.add_argument("--max-size", type=positive_int, default=None, help="cap the long side of each image, in pixels")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")


def run(args: argparse.Namespace) -> int:
    from stylecam.files import check_input_file
    from stylecam.images import IMAGE_SUFFIXES, collect_images
    from stylecam.loops import stylize_images

    from_stdin = STDIO in args.inputs
    to_stdout = args.output == STDIO
    if from_stdin and len(args.inputs) > 1:
        raise StylecamError("- (one image on stdin) must be the only input")
    if from_stdin and sys.stdin.isatty():
        raise StylecamError(
            "- reads an image from stdin, but stdin is a terminal; pipe an image in (stylecam image - -o out.png < photo.jpg)"
        )
    if to_stdout and args.json:
        raise StylecamError("--json and -o - both write to stdout; leave one out")
    if to_stdout and sys.stdout.isatty():
        raise OutputError("-o - writes an image to stdout, but stdout is a terminal; redirect it (-o - > out.png) or name a file")
    inputs = [Path(item) for item in args.inputs if item != STDIO]
    missing = [str(path) for path in inputs if not path.exists()]
    if missing:
        raise StylecamError(f"input {missing[0]} does not exist" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    for path in inputs:
        if not path.is_dir():
            check_input_file(path)  # a FIFO or a device would block the reader forever

    out = None if to_stdout else Path(args.output)
    # A file when -o ends in an image suffix (and is not an existing folder), or is -; a folder otherwise.
    out_is_file = out is None or (out.suffix.lower() in IMAGE_SUFFIXES and not out.is_dir())
    if out_is_file:
        folders = [str(path) for path in inputs if path.is_dir()]
        if folders or len(args.inputs) > 1:
            given = f"the folder {folders[0]}" if folders else f"{len(args.inputs)} inputs"
            raise OutputError(f"-o {args.output} names one image file, but {given} were given; give a folder for -o instead")
    elif out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out} is a file")

    images: list[Path | None] = [None] if from_stdin else collect_images(inputs)
    if not images:
        raise StylecamError(f"no images found in {', '.join(args.inputs)}")
    style, stylizer = load_stylizer(args)
    new_folder = out is not None and not out_is_file and not out.exists()
    report = stylize_images(images, out, stylizer, style.name, args.max_size, args.overwrite, out_is_file=out_is_file)
    if new_folder and not report.written:  # nothing came of the run: no empty folder left behind
        with contextlib.suppress(OSError):
            out.rmdir()
    if args.json:
        print(json.dumps(vars(report)))
    for path in report.skipped_existing:
        print(f"stylecam: skipped {path}: exists (use --overwrite to replace it)", file=sys.stderr)
    where = "stdout" if out is None else str(out)
    if report.written or not report.unreadable:  # nothing written and an error to come: the error is the one line
        print(f"wrote {len(report.written)} image(s) to {where}", file=sys.stderr)
    if report.unreadable:
        names = ["stdin" if name == STDIO else name for name in report.unreadable]
        raise StylecamError(f"{len(names)} file(s) could not be read as images: {', '.join(names)}")
    return 0
