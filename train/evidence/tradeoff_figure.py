"""The faces-against-painting trade-off of two recipes: each style's point in the first and in the second look_evidence run.

x: style ratio (lower is more of the painting), y: share of faces kept; an arrow per style
from its figure in BEFORE to its figure in AFTER (matched by look_evidence's label, with the
folder PREFIX/ dropped), the targets as lines (faces 80%, ratio 0.70). The styles of BEFORE that
AFTER lacks (the whole networks beside the codes) are drawn as red points.

    python train/evidence/tradeoff_figure.py painter_look_stage2.json painter_look_stage3.json --labels 'stage 2,stage 3,whole networks' -o painter_tradeoff.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, MARGIN = 1100, 720, 80
RATIO_RANGE = (0.3, 0.9)
FACES_RANGE = (0.0, 1.0)
FACES_TARGET, RATIO_TARGET = 0.8, 0.7
FONT = cv2.FONT_HERSHEY_SIMPLEX


def figures(path: Path, prefix: str) -> dict[str, tuple[float, float]]:
    """label -> (style ratio, faces kept fraction), for the styles of one run that have both."""
    run = json.loads(path.read_text())
    return {
        row["label"].removeprefix(prefix): (row["style_ratio"], row["faces_kept_fraction"])
        for row in run["styles"]
        if row.get("style_ratio") is not None and row.get("faces_kept_fraction") is not None
    }


def to_pixel(ratio: float, faces: float) -> tuple[int, int]:
    x = MARGIN + (ratio - RATIO_RANGE[0]) / (RATIO_RANGE[1] - RATIO_RANGE[0]) * (WIDTH - 2 * MARGIN)
    y = HEIGHT - MARGIN - (faces - FACES_RANGE[0]) / (FACES_RANGE[1] - FACES_RANGE[0]) * (HEIGHT - 2 * MARGIN)
    return round(x), round(y)


def draw(before: dict, after: dict, labels: list[str]) -> np.ndarray:
    canvas = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    left, bottom = to_pixel(RATIO_RANGE[0], FACES_RANGE[0])
    right, top = to_pixel(RATIO_RANGE[1], FACES_RANGE[1])
    cv2.rectangle(canvas, (left, top), (right, bottom), (0, 0, 0), 1)
    for tick in np.arange(RATIO_RANGE[0], RATIO_RANGE[1] + 1e-9, 0.1):
        x, _ = to_pixel(tick, 0)
        cv2.putText(canvas, f"{tick:.1f}", (x - 12, bottom + 22), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for tick in np.arange(0, 1.01, 0.2):
        _, y = to_pixel(RATIO_RANGE[0], tick)
        cv2.putText(canvas, f"{tick:.0%}", (left - 50, y + 5), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    target_x, _ = to_pixel(RATIO_TARGET, 0)
    _, target_y = to_pixel(0, FACES_TARGET)
    cv2.line(canvas, (target_x, top), (target_x, bottom), (160, 160, 160), 1, cv2.LINE_AA)
    cv2.line(canvas, (left, target_y), (right, target_y), (160, 160, 160), 1, cv2.LINE_AA)
    cv2.putText(canvas, "style ratio (lower: more of the painting)", (left + 250, HEIGHT - 20), FONT, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "faces kept", (10, top - 15), FONT, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(
        canvas,
        f"grey: {labels[0]}   black: {labels[1]}" + (f"   red: {labels[2]}" if labels[2] else ""),
        (left + 120, top - 15),
        FONT,
        0.5,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    for name, point in after.items():
        end = to_pixel(*point)
        if name in before:
            start = to_pixel(*before[name])
            cv2.arrowedLine(canvas, start, end, (150, 150, 150), 1, cv2.LINE_AA, tipLength=0.04)
            cv2.circle(canvas, start, 4, (150, 150, 150), -1, cv2.LINE_AA)
        cv2.circle(canvas, end, 5, (0, 0, 0), -1, cv2.LINE_AA)
        cv2.putText(canvas, name, (end[0] + 7, end[1] - 6), FONT, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    for name, point in before.items():
        if name in after:
            continue
        where = to_pixel(*point)
        cv2.circle(canvas, where, 5, (0, 0, 200), -1, cv2.LINE_AA)
        cv2.putText(canvas, name, (where[0] + 7, where[1] + 14), FONT, 0.42, (0, 0, 200), 1, cv2.LINE_AA)
    return canvas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="look_evidence.py --json of the first recipe")
    parser.add_argument("after", type=Path, help="look_evidence.py --json of the second recipe")
    parser.add_argument("--prefix", default="out/", help="the folder part of the labels that matches styles across the runs")
    parser.add_argument(
        "--labels", default="before,after,only before", help="names of the two recipes and of BEFORE's other styles, comma-separated"
    )
    parser.add_argument("--only", help="comma-separated styles of BEFORE and AFTER to draw (default: all)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    before, after = figures(args.before, args.prefix), figures(args.after, args.prefix)
    if args.only:
        keep = set(args.only.split(","))
        before = {k: v for k, v in before.items() if k in keep}
        after = {k: v for k, v in after.items() if k in keep}
    if not cv2.imwrite(str(args.output), draw(before, after, (args.labels.split(",") + ["", "", ""])[:3])):
        print(f"tradeoff_figure: cannot write {args.output}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
