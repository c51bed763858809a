"""How near each fast style comes to its teacher at several --detail amounts, and a figure of them.

For each fast code (NAME_fast) and each amount, the code runs at its defaults but for --detail and
is compared with its teacher NAME, also at its defaults, on held-out pictures (the portraits of
../shared/data/faces, the astronaut and Messi photos, three frames of Megamind.avi and two of
vtest.avi, each resized to a long side of --size): the mean absolute difference of the pixels
(0-255) and of their horizontal and vertical neighbour differences, the two terms that
`stylecam distill` trains the student on. The faces each amount keeps are measured by
look_evidence.py (--detail).

    python train/evidence/fast_detail.py --megamind Megamind.avi --json fast_detail.json --figure fast_detail.jpg
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.capture import VideoFile
from stylecam.devices import hardware_description
from stylecam.frames import Stylizer
from stylecam.weights import installed_styles

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
AMOUNTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
FIGURE_AMOUNTS = (0.0, 0.5, 1.0)
FIGURE_STYLES = ("starry_night", "night_cafe", "wave")


def fit(image: np.ndarray, size: int) -> np.ndarray:
    # Not look_evidence.to_long_side, which enlarges with INTER_CUBIC: fast_detail.json was measured with this.
    scale = size / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def pictures(megamind: Path, size: int) -> list[tuple[str, np.ndarray]]:
    named = [(path.stem, cv2.imread(str(path))) for path in sorted((DATA / "faces").glob("*.jpg"))]
    named += [(name, cv2.imread(str(DATA / "content" / f"{name}.jpg"))) for name in ("skimage-astronaut", "opencv-messi5")]
    for clip, seconds in ((megamind, (1, 4, 8)), (DATA / "video" / "vtest.avi", (10, 40))):
        with VideoFile(clip) as video:
            named += [(f"{clip.stem}@{t}s", video.frame_at(t)[0]) for t in seconds]
    return [(name, fit(image, size)) for name, image in named]


def gap(output: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Mean absolute difference of the pixels, and of their neighbour differences (both directions summed)."""
    output, target = output.astype(np.float32), target.astype(np.float32)
    pixels = float(np.abs(output - target).mean())
    edges = sum(float(np.abs(np.diff(output, axis=axis) - np.diff(target, axis=axis)).mean()) for axis in (0, 1))
    return pixels, edges


def label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(tile, text, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def make_figure(shown: list[tuple[str, np.ndarray]], path: Path) -> None:
    """Rows of FIGURE_STYLES on two crops at 100%: the input, the full style, its fast code at FIGURE_AMOUNTS."""
    crops = {"two_portraits": (slice(0, 240), slice(350, 610)), "Megamind@4s": (slice(50, 290), slice(80, 340))}
    pictures_by_name = dict(shown)
    rows = []
    for style in FIGURE_STYLES:
        full = Stylizer.from_style(style, device="cpu")
        student = Stylizer.from_style(f"{style}_fast", device="cpu")
        for picture, (rows_cut, cols_cut) in crops.items():
            image = pictures_by_name[picture]
            tiles = [label(image[rows_cut, cols_cut], "input"), label(full(image)[rows_cut, cols_cut], style)]
            for amount in FIGURE_AMOUNTS:
                student.detail = amount
                tiles.append(label(student(image)[rows_cut, cols_cut], f"_fast, detail {amount:g}"))
            rows.append(np.concatenate(tiles, axis=1))
    cv2.imwrite(str(path), np.concatenate(rows, axis=0), [cv2.IMWRITE_JPEG_QUALITY, 88])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megamind", type=Path, required=True, help="Megamind.avi (Debian's opencv-doc)")
    parser.add_argument("--size", type=int, default=640, help="long side of every picture")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--figure", type=Path, help="faces of FIGURE_STYLES: the full style, then its fast code at FIGURE_AMOUNTS")
    args = parser.parse_args()
    torch.set_num_threads(1)  # beside another measurement on two cores, one thread each runs fastest
    shown = pictures(args.megamind, args.size)
    fast = [path.stem for path in installed_styles() if path.stem.endswith("_fast")]
    results = {}
    for name in fast:
        teacher = Stylizer.from_style(name.removesuffix("_fast"), device="cpu", backend="eager")
        student = Stylizer.from_style(name, device="cpu", backend="eager")
        targets = [teacher(image) for _, image in shown]
        row = {}
        for amount in AMOUNTS:
            student.detail = amount
            gaps = [gap(student(image), target) for (_, image), target in zip(shown, targets, strict=True)]
            row[f"{amount:g}"] = {
                "pixels": round(float(np.mean([g[0] for g in gaps])), 2),
                "edges": round(float(np.mean([g[1] for g in gaps])), 2),
            }
        results[name] = row
        print(name, "  ".join(f"{amount}: {value['pixels']:.1f} / {value['edges']:.1f}" for amount, value in row.items()), flush=True)
    report = {
        "settings": {
            "pictures": [name for name, _ in shown],
            "size": args.size,
            "measure": "mean |student - teacher| over pixels (0-255), and over neighbour differences (x plus y)",
            "hardware": hardware_description(),
        },
        "styles": results,
    }
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.figure:
        make_figure(shown, args.figure)


if __name__ == "__main__":
    main()
