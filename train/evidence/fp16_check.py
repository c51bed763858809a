"""How far a style's fp16 file paints from its fp32 file: 8-bit levels of difference, per style, on photos.

Each folder holds the styles (STYLE.safetensors) and, for painter codes, their network under
networks/; the two folders differ only in the precision the tensors are stored in
(`to_fp16`-style conversion). Each style paints each photo with
``Stylizer.from_style(file, device="cpu", backend="eager")`` from both folders (fp16 tensors run
as fp32), and the two uint8 pictures are compared: the largest difference in levels and the
fraction of pixels that differ at all.

    python train/evidence/fp16_check.py FP32_FOLDER FP16_FOLDER --styles starry_night,wave --json fp16.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from stylecam.frames import Stylizer
from stylecam.images import read_image_or_fail

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DEFAULT_PHOTOS = [DATA / "faces/obama_portrait.jpg", DATA / "content/opencv-messi5.jpg"]


def paint(folder: Path, style: str, photos: list[np.ndarray]) -> list[np.ndarray]:
    os.environ["STYLECAM_WEIGHTS"] = str(folder)  # a code's network is looked up among the styles folders
    stylizer = Stylizer.from_style(str(folder / f"{style}.safetensors"), device="cpu", backend="eager")
    return [stylizer.stylize(photo) for photo in photos]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fp32", type=Path)
    parser.add_argument("fp16", type=Path)
    parser.add_argument("--styles", required=True, help="comma-separated style names, present in both folders")
    parser.add_argument("--photos", type=Path, nargs="+", default=DEFAULT_PHOTOS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    photos = [read_image_or_fail(path) for path in args.photos]
    rows = []
    for style in args.styles.split(","):
        for path, a, b in zip(args.photos, paint(args.fp32, style, photos), paint(args.fp16, style, photos), strict=True):
            levels = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
            rows.append(
                {
                    "style": style,
                    "photo": path.name,
                    "megapixels": round(a.shape[0] * a.shape[1] / 1e6, 2),
                    "max_levels": int(levels.max()),
                    "pixels_differing": round(float((levels > 0).mean()), 4),
                }
            )
            print(
                f"{style} / {path.name}: at most {rows[-1]['max_levels']} level(s), {rows[-1]['pixels_differing']:.1%} of pixels differ",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
