"""The figure steady_strength.jpg: one style on a frame of two clips, without --steady and with it at 0.6 and 0.8.

For each clip, --frames consecutive frames from its start are stylized and steadied with the
file flow (`stylecam video --steady`'s); the last frame is shown cropped around a box (the
walking people of vtest.avi, the face of Megamind.avi), so that ghosts and lost texture show.

    python train/evidence/steady_strength_look.py --style thatched_cottages \
        --clip vtest.avi:0:330,150,300,220 --clip Megamind.avi:100:150,40,420,300 --out steady_strength.jpg
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import cv2
import numpy as np

from stylecam import Stylizer
from stylecam.capture import VideoFile
from stylecam.steady import SteadyFilter

TILE_WIDTH = 360
STRENGTHS = (0.6, 0.8)


def labelled(image: np.ndarray, text: str) -> np.ndarray:
    tile = cv2.resize(image, (TILE_WIDTH, round(image.shape[0] * TILE_WIDTH / image.shape[1])), interpolation=cv2.INTER_CUBIC)
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 20), (0, 0, 0), -1)
    cv2.putText(tile, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def row(stylizer: Stylizer, clip: str, start: int, box: tuple[int, int, int, int], count: int) -> np.ndarray:
    with VideoFile(Path(clip)) as video:
        frames = [frame for frame, _ in itertools.islice(video.frames(), start, start + count)]
    painted = [stylizer(frame) for frame in frames]
    shown = {"input": frames[-1], "no --steady": painted[-1]}
    for strength in STRENGTHS:
        steady = SteadyFilter(strength, flow="fine")
        shown[f"--steady {strength}"] = [steady.apply(frame, stylized) for frame, stylized in zip(frames, painted, strict=True)][-1]
    x, y, width, height = box
    return np.hstack([labelled(image[y : y + height, x : x + width], text) for text, image in shown.items()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--style", default="thatched_cottages")
    parser.add_argument("--clip", action="append", required=True, metavar="PATH:START:X,Y,W,H")
    parser.add_argument("--frames", type=int, default=41)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    stylizer = Stylizer.from_style(args.style, device="cpu", backend="eager")
    rows = []
    for item in args.clip:
        path, start, box = item.rsplit(":", 2)
        rows.append(row(stylizer, path, int(start), tuple(int(v) for v in box.split(",")), args.frames))
    width = max(image.shape[1] for image in rows)
    figure = np.vstack([np.pad(image, ((0, 4), (0, width - image.shape[1]), (0, 0))) for image in rows])
    cv2.imwrite(args.out, figure, [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == "__main__":
    main()
