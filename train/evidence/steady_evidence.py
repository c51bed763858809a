"""The README's "Styles trained to be steady" table and figures, from the style files and two clips.

For each style, a file trained without the stability terms (BEFORE) and one trained with them
(AFTER) stylize the first frames of each clip; the warping error of both (stylecam.flicker,
on the frames as stylized, before any encoding) and of AFTER with --steady is measured, and
the figures are drawn:

- flicker_CLIP.jpg: per style, a frame of BEFORE and of AFTER, then the change from that frame
  to the next (x 4) for BEFORE, AFTER and AFTER with --steady;
- flicker_strip_CLIP.jpg (first clip, first style): four consecutive frames of the input,
  BEFORE and AFTER with --steady, cropped around --strip-box;
- temporal_look.jpg: per style, BEFORE beside AFTER on a frame of the first clip and on the
  --photos, so that the look can be compared.

    python train/evidence/steady_evidence.py --clip vtest=vtest.avi --clip box=box.mp4 \
        --style wave=old/wave.safetensors:weights/wave.safetensors ... \
        --photos photos/a.jpg photos/b.jpg --out train/evidence --json results.json

Runs on the CPU (each style at its own processing scale); about a minute per style and clip
of 40 frames on two cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import cv2
import numpy as np

from stylecam import Stylizer
from stylecam.capture import VideoFile
from stylecam.flicker import WarpingError
from stylecam.images import read_image_or_fail
from stylecam.steady import SteadyFilter

TILE_WIDTH = 300
KEPT = 4  # consecutive frames kept from the middle of each clip for the figures


def read_frames(path: str, count: int) -> list[np.ndarray]:
    """The first ``count`` frames of the clip, read as `stylecam video` reads them."""
    with VideoFile(Path(path)) as video:
        return [frame for frame, _ in itertools.islice(video.frames(), count)]


def label(image: np.ndarray, text: str) -> np.ndarray:
    image = image.copy()
    cv2.rectangle(image, (0, 0), (image.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(image, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def tile(image: np.ndarray, width: int = TILE_WIDTH) -> np.ndarray:
    return cv2.resize(image, (width, round(image.shape[0] * width / image.shape[1])), interpolation=cv2.INTER_AREA)


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The largest centred crop of the aspect width:height, resized to width x height."""
    rows, cols = image.shape[:2]
    scale = min(rows / height, cols / width)
    crop_rows, crop_cols = round(height * scale), round(width * scale)
    top, left = (rows - crop_rows) // 2, (cols - crop_cols) // 2
    return cv2.resize(image[top : top + crop_rows, left : left + crop_cols], (width, height), interpolation=cv2.INTER_AREA)


def change(frames: np.ndarray) -> np.ndarray:
    """|frame 1 - frame 0| averaged over the channels, x 4, as a grey image: brighter is more change."""
    difference = np.abs(frames[1].astype(np.int16) - frames[0].astype(np.int16)).mean(axis=2) * 4
    return cv2.cvtColor(np.clip(difference, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def measure(stylizer: Stylizer, frames: list[np.ndarray], steady: bool) -> dict:
    """Warping error of the stylized frames (and with --steady), plus the middle frames for the figures."""
    plain, steadied = WarpingError(), WarpingError()
    steady_filter = SteadyFilter()
    middle = range(len(frames) // 2, len(frames) // 2 + KEPT)
    kept, kept_steady = [], []
    for index, frame in enumerate(frames):
        output = stylizer(frame)
        plain.add(frame, output)
        if steady:
            smoothed = steady_filter.apply(frame, output)
            steadied.add(frame, smoothed)
            if index in middle:
                kept_steady.append(smoothed)
        if index in middle:
            kept.append(output)
    result = {"warping_error": plain.output_error, "floor": plain.input_error, "frames": np.stack(kept)}
    if steady:
        result["steady_warping_error"] = steadied.output_error
        result["steady_frames"] = np.stack(kept_steady)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--style", action="append", required=True, metavar="NAME=BEFORE:AFTER")
    parser.add_argument("--photos", nargs="*", default=[])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--strip-box", default="330,150,300,220", metavar="X,Y,W,H")
    parser.add_argument("--out", type=Path, required=True, help="folder for the figures")
    parser.add_argument("--json", type=Path, help="write the figures' numbers here")
    args = parser.parse_args()

    clips = {name: read_frames(path, args.frames) for name, path in (c.split("=", 1) for c in args.clip)}
    styles = {name: files.split(":", 1) for name, files in (s.split("=", 1) for s in args.style)}
    photos = [read_image_or_fail(Path(p)) for p in args.photos]
    results: dict[str, dict] = {}
    figure_rows: dict[str, list[np.ndarray]] = {clip: [] for clip in clips}
    look_rows = []
    strip = None
    for style, (before_file, after_file) in styles.items():
        before, after = Stylizer.from_style(before_file, device="cpu"), Stylizer.from_style(after_file, device="cpu")
        for clip, frames in clips.items():
            old, new = measure(before, frames, steady=False), measure(after, frames, steady=True)
            results[f"{style}/{clip}"] = {
                "floor": old["floor"],
                "before": old["warping_error"],
                "after": new["warping_error"],
                "ratio": new["warping_error"] / old["warping_error"],
                "after_steady": new["steady_warping_error"],
            }
            print(style, clip, {k: round(v, 7) for k, v in results[f"{style}/{clip}"].items()}, flush=True)
            figure_rows[clip].append(
                np.hstack(
                    [
                        label(tile(old["frames"][0]), f"{style}: without the terms"),
                        label(tile(new["frames"][0]), "with the terms"),
                        label(tile(change(old["frames"])), f"change t->t+1 x4, without ({old['warping_error'] * 1e4:.2f})"),
                        label(tile(change(new["frames"])), f"with the terms ({new['warping_error'] * 1e4:.2f})"),
                        label(tile(change(new["steady_frames"])), f"with + --steady ({new['steady_warping_error'] * 1e4:.2f})"),
                    ]
                )
            )
            if strip is None:
                x, y, w, h = (int(v) for v in args.strip_box.split(","))
                middle = len(frames) // 2
                originals = frames[middle : middle + KEPT]
                strip = np.vstack(
                    [
                        np.hstack([label(f[y : y + h, x : x + w], f"input t+{k}") for k, f in enumerate(originals)]),
                        np.hstack([label(f[y : y + h, x : x + w], f"without t+{k}") for k, f in enumerate(old["frames"])]),
                        np.hstack([label(f[y : y + h, x : x + w], f"with + steady t+{k}") for k, f in enumerate(new["steady_frames"])]),
                    ]
                )
                cv2.imwrite(str(args.out / f"flicker_strip_{clip}.jpg"), strip, [cv2.IMWRITE_JPEG_QUALITY, 88])
        first_clip = next(iter(clips.values()))
        cells = []
        for image in [first_clip[len(first_clip) // 2]] + photos:
            image = fit(image, 720, 540)  # stylized at video size, shown at half
            cells += [
                label(tile(before(image), 360), f"{style}: without" if not cells else "without"),
                label(tile(after(image), 360), "with the terms"),
            ]
        look_rows.append(np.hstack(cells))
    for clip, rows in figure_rows.items():
        cv2.imwrite(str(args.out / f"flicker_{clip}.jpg"), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
    cv2.imwrite(str(args.out / "temporal_look.jpg"), np.vstack(look_rows), [cv2.IMWRITE_JPEG_QUALITY, 88])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    clip_names = list(clips)
    print("| style | " + " | ".join(f"{c}: without | with | ratio | + `--steady`" for c in clip_names) + " |")
    for style in styles:
        cells = []
        for clip in clip_names:
            r = results[f"{style}/{clip}"]
            cells += [f"{r['before'] * 1e4:.2f}", f"{r['after'] * 1e4:.2f}", f"{r['ratio']:.2f}", f"{r['after_steady'] * 1e4:.2f}"]
        print(f"| {style} | " + " | ".join(cells) + " |")
    print("floors (x 1e-4):", {c: round(results[f"{next(iter(styles))}/{c}"]["floor"] * 1e4, 2) for c in clip_names})


if __name__ == "__main__":
    main()
