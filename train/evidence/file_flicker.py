"""Flicker of the written files: for each style and clip, `stylecam video CLIP --steady --flicker`, then `stylecam flicker CLIP OUT`.

What a user gets: the whole clip converted with the command's defaults (plus --steady), and the
warping error of the encoded file over the input's, as `stylecam flicker` measures it. The
figure before encoding (`--flicker` on the conversion) is kept beside it. Results go to --json
as they come (one run can take an hour), and styles already in that file are not run again.

    python train/evidence/file_flicker.py --clip megamind=Megamind.avi --clip vtest=vtest.avi \
        --styles all --json train/evidence/file_flicker.json --work /tmp/flicker
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from stylecam.devices import hardware_description
from stylecam.weights import installed_styles


def stylecam(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "stylecam", *args, "--json"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stylecam {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--styles", default="all", help="comma-separated, or 'all': the installed styles without their fast variants")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="folder for the stylized files")
    parser.add_argument("--keep", action="store_true", help="keep the stylized files")
    args = parser.parse_args()
    clips = dict(item.split("=", 1) for item in args.clip)
    styles = (
        [path.stem for path in installed_styles() if not path.stem.endswith("_fast")] if args.styles == "all" else args.styles.split(",")
    )
    results = json.loads(args.json.read_text()) if args.json.exists() else {"settings": {}, "styles": {}}
    results["settings"] = {
        "command": "stylecam video CLIP -o OUT.mp4 --style STYLE --steady --flicker; stylecam flicker CLIP OUT.mp4",
        "clips": clips,
        "hardware": hardware_description(),
    }
    args.work.mkdir(parents=True, exist_ok=True)
    for style in styles:
        for clip, path in clips.items():
            if clip in results["styles"].get(style, {}):
                continue
            output = args.work / f"{clip}_{style}.mp4"
            started = time.perf_counter()
            conversion = stylecam("video", path, "-o", str(output), "--style", style, "--steady", "--flicker", "--overwrite", "--quiet")
            measured = stylecam("flicker", path, str(output), "--quiet")
            row = {
                "file": measured["ratio"],
                "before_encoding": conversion["warping_error"] / conversion["warping_error_input"],
                "detail": conversion["detail"],
                "steady": conversion["steady"],
                "steady_flow": conversion["steady_flow"],
                "frames": conversion["frames"],
                "pairs": measured["pairs"],
                "seconds": round(time.perf_counter() - started, 1),
            }
            results["styles"].setdefault(style, {})[clip] = row
            args.json.write_text(json.dumps(results, indent=1) + "\n")
            print(
                f"{style:28} {clip:9} file {row['file']:.2f}x  before encoding {row['before_encoding']:.2f}x  ({row['seconds']} s)",
                flush=True,
            )
            if not args.keep:
                output.unlink()


if __name__ == "__main__":
    main()
