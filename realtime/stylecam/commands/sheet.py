"""`stylecam sheet`: a contact sheet, inputs in rows and one column per style."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylecam.argtypes import MAX_FRAME_SIDE, bounded, seconds_list
from stylecam.commands.options import add_runtime_options, stylizer_for
from stylecam.errors import StylecamError

input_height = bounded(int, 16, MAX_FRAME_SIDE)
tile_height = bounded(int, 16, 2160)  # a 4K screen's rows: one tile per screen at most
MAX_SHEET_PIXELS = 200_000_000  # 600 MB of RGB: far beyond any screen, still within a small machine's memory

HELP = "contact sheet: your photos or video frames in rows, one column per style"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser, with_style=False)
    parser.add_argument("inputs", type=Path, nargs="+", metavar="IN", help="images, folders of images, or videos (a frame each)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the sheet (.png or .jpg)")
    parser.add_argument("--styles", help="comma-separated style names or files (default: every installed style, or none with --blend)")
    parser.add_argument(
        "--blend",
        action="append",
        default=[],
        metavar="A:W,B:W",
        help="a column for a blend of styles of one painter network, e.g. starry_night:0.5,wave:0.5 (repeatable)",
    )
    parser.add_argument(
        "--height",
        type=input_height,
        default=720,
        help="each input is resized to this many rows before it is stylized, as a video of that size would be (default: 720)",
    )
    parser.add_argument(
        "--tile-height",
        type=tile_height,
        default=240,
        help="rows of each tile in the sheet; equal to --height for 100%% zoom (default: 240)",
    )
    parser.add_argument(
        "--at",
        type=seconds_list,
        default=[None],
        metavar="SECONDS[,SECONDS...]",
        help="times of the frames taken from a video, a row each (default: its middle)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylecam.errors import OutputError
    from stylecam.files import output_claim
    from stylecam.images import collect_images, write_image
    from stylecam.sheet import build_sheet, read_inputs
    from stylecam.sinks import check_output_file
    from stylecam.weights import installed_styles

    if args.output.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise OutputError(f"output {args.output} must end in .png or .jpg")
    check_output_file(args.output, args.inputs, args.overwrite)
    with output_claim(args.output, args.overwrite):  # a second run writing this sheet is refused now, not replaced later
        if args.styles:
            refs = [ref.strip() for ref in args.styles.split(",") if ref.strip()]
        else:
            refs = [] if args.blend else [p.stem for p in installed_styles()]
        refs += args.blend
        if not refs:
            raise StylecamError("no styles to show (none installed, and --styles is empty)")
        paths = collect_images(args.inputs)
        if not paths:
            raise StylecamError(f"no images found in {', '.join(map(str, args.inputs))}")
        inputs = [item for path in paths for item in read_inputs(path, args.height, args.at)]
        widest = max(round(item.frame.shape[1] * args.tile_height / item.frame.shape[0]) for item in inputs)
        pixels = widest * (len(refs) + 1) * args.tile_height * (len(inputs) + 1)  # the rows, and the title row at most
        if pixels > MAX_SHEET_PIXELS:
            raise StylecamError(
                f"the sheet would be about {pixels / 1e6:.0f} megapixels ({len(inputs)} row(s) x {len(refs) + 1} column(s) of "
                f"{widest}x{args.tile_height}), more than {MAX_SHEET_PIXELS // 1_000_000}; lower --tile-height or use fewer inputs or styles"
            )
        by_name = {}
        for ref in refs:  # every style is loaded and checked before any work
            style, stylizer = stylizer_for(ref, args)
            if style.name in by_name:
                raise StylecamError(f"two of --styles are named '{style.name}'; a sheet needs one column per name")
            by_name[style.name] = stylizer

        def progress(items):
            return tqdm(items, unit="row", desc="sheet", file=sys.stderr, disable=len(items) < 2)

        sheet = build_sheet(inputs, list(by_name), lambda name, frame: by_name[name].stylize(frame), args.tile_height, progress)
        write_image(args.output, sheet)
    print(f"wrote {args.output}: {len(inputs)} row(s) x {len(by_name)} style(s), {sheet.shape[1]}x{sheet.shape[0]}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "output": str(args.output),
                    "rows": len(inputs),
                    "styles": list(by_name),
                    "width": sheet.shape[1],
                    "height": sheet.shape[0],
                }
            )
        )
    return 0
