"""`stylecam styles`: the installed styles, where they come from and which can run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "list installed styles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the list as JSON")


def run(args: argparse.Namespace) -> int:
    from stylecam.text import printable
    from stylecam.weights import DEFAULT_STYLE, StyleError, find_network, installed_styles, read_metadata, weights_dirs

    rows = []
    for path in installed_styles():
        try:
            metadata = read_metadata(path)
            image = metadata.style_image
            rows.append({"name": path.stem, "title": image.title, "artist": image.artist, "licence": image.licence, "path": str(path)})
            if metadata.network is not None:  # a style code: it runs on (and blends within) its painter network
                find_network(metadata.network, path)  # installed and the very file it was made with, or unusable
                rows[-1]["painter_network"] = metadata.network["file"]
            teacher = metadata.training.get("distilled_from")
            if isinstance(teacher, dict) and teacher.get("style"):  # a fast variant (`stylecam distill`)
                rows[-1]["fast_variant_of"] = str(teacher["style"])
        except StyleError as error:
            rows.append({"name": path.stem, "error": str(error), "path": str(path)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no styles installed (train one with `stylecam train`)")
        return 0
    name_width = max(21, *(len(row["name"]) for row in rows))  # one column of names, however long the longest
    for number, row in enumerate(rows, start=1):
        marker = "*" if row["name"] == DEFAULT_STYLE else " "
        about = f"{row['title']}, {row['artist']} ({row['licence']})" if "error" not in row else f"UNUSABLE: {row['error']}"
        if "fast_variant_of" in row:
            about += f"; fast variant of {row['fast_variant_of']}, for the CPU"
        if "painter_network" in row:
            about += f"; painter network {Path(row['painter_network']).stem}"
        # A file's name and metadata are a stranger's text: no escape sequence reaches the terminal.
        print(printable(f"{number:>2} {marker} {row['name']:<{name_width}} {about}", limit=10_000))
    print(f"(* default; looked up in {', '.join(str(folder) for folder in weights_dirs())}: the first file of a name wins)")
    return 0
