"""`stylecam import`: a pytorch/examples fast_neural_style checkpoint becomes a style file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylecam.commands.options import scale

HELP = "convert a pytorch/examples fast_neural_style model (candy.pth, mosaic.pth...) into a style file"
DESCRIPTION = (
    "Convert a checkpoint of the pytorch/examples fast_neural_style recipe into a stylecam style file. "
    "The file is read with torch.load(weights_only=True): tensors only, so it cannot run code."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", type=Path, metavar="MODEL.pth", help="the checkpoint (a state_dict, possibly wrapped or from DataParallel)"
    )
    parser.add_argument("--name", help="style name (default: the file's name without .pth)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the style file (default: your styles folder, see `stylecam styles`)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing style file of that name")
    parser.add_argument(
        "--default-scale", type=scale, default=1.0, help="processing scale the style suggests to the runtime (default: %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (path, name, source, note) instead of the path alone")
    credit = parser.add_argument_group("style image credit (recorded as unknown where not given)")
    credit.add_argument("--title", help="title of the painting")
    credit.add_argument("--artist")
    credit.add_argument("--year")
    credit.add_argument("--licence")
    credit.add_argument("--credit", help="where the painting's image comes from (default: imported from MODEL.pth)")


def run(args: argparse.Namespace) -> int:
    from stylecam.importer import ImportCredit, import_model, lookup_note

    credit = ImportCredit(title=args.title, artist=args.artist, year=args.year, licence=args.licence, credit=args.credit)
    path = import_model(args.model, args.name, args.out, args.overwrite, credit, args.default_scale)
    print(f"stylecam: imported {args.model} as style '{path.stem}'", file=sys.stderr)
    note = lookup_note(path)
    if note:
        print(f"stylecam: note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"path": str(path), "name": path.stem, "source": str(args.model), "note": note or None}))
    else:
        print(path)  # alone on stdout, for scripts
    return 0
