"""How much of a face each style keeps, and how much of its painting it puts in, on held-out pictures.

Two measures per style, on pictures no style was trained on:

1. Faces kept. facenet-pytorch's MTCNN finds the faces of each original picture with probability
   >= 0.95: the reference faces, less the detections that a person checked and found to be no
   face (NOT_FACES; --references-sheet shows every detection to check). The picture is stylized with
   ``Stylizer.from_style(style, device="cpu", backend="eager", strength=--strength)`` at the
   style's own default processing scale (what a user gets at the defaults), and MTCNN runs on
   the stylized picture. A reference face is kept when some detection in the stylized picture
   has probability >= 0.90 and IoU >= 0.5 with it. Per style: the reference faces over all
   pictures, the faces kept and kept / reference (null without reference faces); also per picture.

2. Style distance ratio. With the ImageNet VGG16 that training uses (stylecam_train.vgg.load_vgg)
   and the training's default style layers and weights (stylecam_train.losses.DEFAULT_STYLE_LAYERS),

       D(x) = sum over layers l of w_l * ||G_l(x) - G_l(painting)||^2 / ||G_l(painting)||^2

   where G_l is the Gram matrix of layer l (stylecam_train.losses.gram), the painting is the
   style's own (its metadata's training["style_image"], looked up in --paintings) at long side
   512, prepared as training prepares it, and x the picture at its working size (--size). The
   ratio is D(stylized) / D(original): 1.0 means no more of the painting than the photo had,
   lower means more painting. Per style: the mean of the ratio over the pictures. A blend
   (``a:0.6,b:0.4``) has no one painting: its ratio is null. Gram statistics depend on the
   picture's size (starry_night/wave measured 0.69/0.26 at --size 360 and 0.84/0.80 at 720 on
   the same two photos), so compare ratios at one --size only.

Each picture (files, folders, and --frames evenly spaced frames of --video) is first resized so
that its long side is --size pixels, up or down. Writes a JSON report (--json), a contact sheet
(--sheet: a row per picture, the original then one column per style, reference faces boxed green
when kept and red when lost) and prints a table.

MTCNN ships its weights inside the wheel and runs offline. facenet-pytorch pins old torch
versions, so install it without its dependencies, into the venv only (it is no dependency of
stylecam):

    pip install --no-deps facenet-pytorch requests

To reproduce (defaults: the photos of ../shared/data/faces, the astronaut and Messi photos,
3 frames of vtest.avi, every installed style but the _fast ones, 720 px; about 90 s per style
on two busy CPU cores):

    python train/evidence/look_evidence.py --json look.json --sheet look.jpg

``--self-check`` runs at strength 0 (the original itself) and fails unless every face is kept
and every ratio is 1: a check of the measuring, not of the styles.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.capture import VideoFile
from stylecam.devices import hardware_description
from stylecam.errors import StylecamError
from stylecam.frames import Stylizer
from stylecam.images import collect_images, read_image_or_fail
from stylecam.weights import installed_styles
from stylecam_train.images import load_style_image
from stylecam_train.losses import DEFAULT_STYLE_LAYERS, gram, relative_error
from stylecam_train.vgg import load_vgg

# The shared data set lies beside the repository (../shared/data from its root), in CI as on a developer's machine.
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DEFAULT_IMAGES = [*sorted((DATA / "faces").glob("*.jpg")), DATA / "content/skimage-astronaut.jpg", DATA / "content/opencv-messi5.jpg"]
REFERENCE_PROBABILITY = 0.95
# Reference detections that are no face, found by looking at every one of them (--references-sheet):
# (picture, box at the picture's working size, what is there). A detection is left out when its
# IoU with the box is at least 0.5; it is listed in the report's "not_faces".
NOT_FACES = [
    ("vtest@645", [600.2, 20.0, 629.1, 54.1], "a red door frame above a white van, no person (MTCNN p = 0.964)"),
]
KEPT_PROBABILITY = 0.90
KEPT_IOU = 0.5
PAINTING_SIZE = 512  # the training's default style_size
TILE_HEIGHT = 240
HEADER_HEIGHT = 40
GREEN, RED, WHITE, BACKGROUND = (60, 220, 60), (40, 40, 235), (255, 255, 255), (24, 24, 24)


@dataclass
class Picture:
    name: str
    source: str
    bgr: np.ndarray
    faces: list[tuple[list[float], float]] = field(default_factory=list)  # reference faces: (x0, y0, x1, y1), probability
    grams: dict[str, torch.Tensor] = field(default_factory=dict)


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def to_long_side(image: np.ndarray, size: int) -> np.ndarray:
    """Resized so that the long side is exactly size, up or down, aspect kept."""
    height, width = image.shape[:2]
    factor = size / max(height, width)
    if factor == 1:
        return image
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=interpolation)


def video_frames(path: Path, count: int) -> list[tuple[int, np.ndarray]]:
    """count frames at the middles of count equal parts of the clip, with their indices, read as `stylecam video` reads them."""
    try:
        with VideoFile(path) as video:
            total = video.info.frame_count
        if not total:  # some containers do not say; count by decoding
            with VideoFile(path) as video:
                total = sum(1 for _ in video.frames())
        wanted = sorted({int((k + 0.5) * total / count) for k in range(count)})
        # Decoding in order instead of seeking: seeking lands on key frames in some codecs.
        with VideoFile(path) as video:
            found = [(index, frame) for index, (frame, _) in enumerate(itertools.islice(video.frames(), wanted[-1] + 1)) if index in wanted]
    except StylecamError as error:
        raise SystemExit(f"cannot read video {path}: {error}") from None
    if len(found) < len(wanted):
        progress(f"warning: {path} gave {len(found)} of the {len(wanted)} frames asked for")
    return found


def load_pictures(args: argparse.Namespace) -> list[Picture]:
    pictures = [
        Picture(path.stem, str(path), to_long_side(read_image_or_fail(path), args.size))
        for path in collect_images([Path(p) for p in args.images])
    ]
    for video in args.video or []:
        if not video or args.frames <= 0:
            continue
        for index, frame in video_frames(Path(video), args.frames):
            pictures.append(Picture(f"{Path(video).stem}@{index}", f"{video} frame {index}", to_long_side(frame, args.size)))
    if not pictures:
        raise SystemExit("no pictures")
    return pictures


class FaceDetector:
    def __init__(self) -> None:
        try:
            from facenet_pytorch import MTCNN
        except ImportError as error:
            raise SystemExit("facenet-pytorch is missing: pip install --no-deps facenet-pytorch requests") from error
        self.mtcnn = MTCNN(keep_all=True, device="cpu")

    def __call__(self, bgr: np.ndarray, min_probability: float) -> list[tuple[list[float], float]]:
        """(box, probability) of every face at min_probability or more."""
        with torch.inference_mode():
            boxes, probabilities = self.mtcnn.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        if boxes is None:
            return []
        # MTCNN returns object arrays; plain floats keep the JSON and the arithmetic simple.
        return [([float(v) for v in box], float(p)) for box, p in zip(boxes, probabilities, strict=True) if float(p) >= min_probability]


def iou(a: list[float], b: list[float]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class StyleDistance:
    """D(x) against one painting: the training's relative Gram error at its default style layers and weights."""

    def __init__(self, vgg_path: Path) -> None:
        self.vgg = load_vgg(vgg_path)

    @torch.inference_mode()
    def grams(self, rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        """(1, 3, H, W) float RGB in [0, 1] -> {layer: (1, C, C)}."""
        features = self.vgg(rgb, DEFAULT_STYLE_LAYERS)
        return {name: gram(value) for name, value in features.items()}

    def grams_of_bgr(self, bgr: np.ndarray) -> dict[str, torch.Tensor]:
        rgb = torch.from_numpy(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).permute(2, 0, 1)[None].float().div(255)
        return self.grams(rgb)

    @staticmethod
    def distance(grams: dict[str, torch.Tensor], painting: dict[str, torch.Tensor]) -> float:
        return float(sum(weight * relative_error(grams[name], painting[name]) for name, weight in DEFAULT_STYLE_LAYERS.items()))


def style_list(args: argparse.Namespace) -> list[str]:
    if args.styles is None:
        names = [path.stem for path in installed_styles() if not path.stem.endswith("_fast")]
    else:
        names = [name.strip() for name in args.styles.split(",") if name.strip()]
    names += args.blend
    if not names and not args.references_sheet:  # the reference faces alone are worth a run: to check them
        raise SystemExit("no styles")
    return names


def painting_of(stylizer: Stylizer, folder: Path) -> tuple[Path | None, str | None]:
    """The painting file the style was trained on, or None and why not."""
    style = stylizer.style
    if style.blend:
        return None, "a blend has no one painting"
    training = style.metadata.training
    teacher = training.get("distilled_from")
    # A fast variant's painting is its teacher's.
    name = training.get("style_image") or (teacher.get("training", {}).get("style_image") if isinstance(teacher, dict) else None)
    if not isinstance(name, str) or not name:
        return None, "its training record names no style image"
    path = folder / Path(name).name
    return (path, None) if path.is_file() else (None, f"its painting {path} does not exist")


def measure_style(
    style: str, pictures: list[Picture], detector: FaceDetector, distance: StyleDistance, args: argparse.Namespace
) -> tuple[dict, list[np.ndarray]]:
    stylizer = Stylizer.from_style(style, device="cpu", backend="eager", strength=args.strength, scale=args.scale, detail=args.detail)
    painting_path, no_ratio = painting_of(stylizer, args.paintings)
    painting = distance.grams(load_style_image(painting_path, PAINTING_SIZE)) if painting_path else None
    if no_ratio:
        progress(f"{stylizer.style_name}: no style ratio ({no_ratio})")
    details, outputs = [], []
    for picture in pictures:
        started = time.perf_counter()
        stylized = stylizer(picture.bgr)
        found = detector(stylized, KEPT_PROBABILITY)
        kept = [any(iou(box, other) >= KEPT_IOU for other, _ in found) for box, _ in picture.faces]
        entry = {
            "picture": picture.name,
            "faces_reference": len(picture.faces),
            "faces_kept": sum(kept),
            "kept": kept,
            "detections": [{"box": [round(v, 1) for v in box], "probability": round(p, 4)} for box, p in found],
        }
        if painting is not None:
            if not picture.grams:  # the original's Grams do not depend on the style: once per picture
                picture.grams = distance.grams_of_bgr(picture.bgr)
            before = distance.distance(picture.grams, painting)
            after = distance.distance(distance.grams_of_bgr(stylized), painting)
            entry.update(distance_original=before, distance_stylized=after, style_ratio=after / before if before > 0 else None)
        details.append(entry)
        outputs.append(stylized)
        ratio = entry.get("style_ratio")
        progress(
            f"  {stylizer.style_name} / {picture.name}: faces {sum(kept)}/{len(kept)}"
            + (f", ratio {ratio:.3f}" if ratio is not None else "")
            + f" ({time.perf_counter() - started:.1f} s)"
        )
    reference = sum(d["faces_reference"] for d in details)
    kept_total = sum(d["faces_kept"] for d in details)
    ratios = [d["style_ratio"] for d in details if d.get("style_ratio") is not None]
    result = {
        "style": stylizer.style_name,
        # Styles given as files may share a name (a painter's code and a whole network of one painting): the folder tells them apart.
        "label": f"{Path(style).parent.name}/{stylizer.style_name}" if Path(style).suffix == ".safetensors" else stylizer.style_name,
        "file": str(stylizer.style.path),
        "processing_scale": stylizer.scale,
        "detail": stylizer.detail,
        "painting": str(painting_path) if painting_path else None,
        "no_ratio_because": no_ratio,
        "faces_reference": reference,
        "faces_kept": kept_total,
        "faces_kept_fraction": kept_total / reference if reference else None,
        "style_ratio": float(np.mean(ratios)) if ratios else None,
        "pictures": details,
    }
    return result, outputs


def summary(result: dict) -> str:
    kept = f"faces {result['faces_kept']}/{result['faces_reference']}"
    ratio = f"ratio {result['style_ratio']:.2f}" if result["style_ratio"] is not None else "ratio -"
    return f"{kept}  {ratio}"


def put_text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float = 0.42) -> None:
    # A dark box, not a thick dark copy of the text, keeps it readable on any painting: OpenCV 5
    # draws a thicker text as a bolder face with wider letters, so an outline would not line up.
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = origin
    cv2.rectangle(image, (x - 3, y - height - 3), (x + width + 3, y + baseline), (0, 0, 0), -1)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, WHITE, 1, cv2.LINE_AA)


def tile(image: np.ndarray, faces: list[list[float]], colours: list[tuple[int, int, int]], corner: str, title: str = "") -> np.ndarray:
    factor = TILE_HEIGHT / image.shape[0]
    small = cv2.resize(image, (max(1, round(image.shape[1] * factor)), TILE_HEIGHT), interpolation=cv2.INTER_AREA)
    for box, colour in zip(faces, colours, strict=True):
        x0, y0, x1, y1 = (round(v * factor) for v in box)
        cv2.rectangle(small, (x0, y0), (x1, y1), colour, 2)
    if title:
        put_text(small, title, (5, 16))
    put_text(small, corner, (5, TILE_HEIGHT - 7))
    return small


def contact_sheet(pictures: list[Picture], results: list[dict], outputs: list[list[np.ndarray]]) -> np.ndarray:
    rows = []
    for p, picture in enumerate(pictures):
        boxes = [box for box, _ in picture.faces]
        cells = [tile(picture.bgr, boxes, [GREEN] * len(boxes), f"faces: {len(boxes)}", picture.name)]
        for result, stylized in zip(results, outputs, strict=True):
            detail = result["pictures"][p]
            ratio = detail.get("style_ratio")
            corner = f"{detail['faces_kept']}/{detail['faces_reference']}" + (f"  ratio {ratio:.2f}" if ratio is not None else "")
            cells.append(tile(stylized[p], boxes, [GREEN if k else RED for k in detail["kept"]], corner))
        rows.append(cells)
    # Pictures differ in aspect: each column is as wide as its widest tile, tiles sit left in it.
    widths = [max(row[c].shape[1] for row in rows) for c in range(len(rows[0]))]
    header = np.full((HEADER_HEIGHT, sum(widths), 3), BACKGROUND, np.uint8)
    labels = [("original", "reference faces: MTCNN p >= 0.95")] + [(r["label"], summary(r)) for r in results]
    x = 0
    for width, (name, line) in zip(widths, labels, strict=True):
        put_text(header, name, (x + 5, 16), 0.5)
        put_text(header, line, (x + 5, 34))
        x += width
    bands = [header]
    for row in rows:
        band = np.full((TILE_HEIGHT, sum(widths), 3), BACKGROUND, np.uint8)
        x = 0
        for width, cell in zip(widths, row, strict=True):
            band[:, x : x + cell.shape[1]] = cell
            x += width
        bands.append(band)
    return np.vstack(bands)


def not_a_face(picture: str, box: list[float]) -> str | None:
    """What NOT_FACES says is at this reference detection instead of a face, or None."""
    return next((what for name, known, what in NOT_FACES if name == picture and iou(box, known) >= 0.5), None)


def references_sheet(pictures: list[Picture], not_faces: list[dict], side: int = 160, per_row: int = 6) -> np.ndarray:
    """Each reference face (and each detection left out as no face, framed red), cropped with a margin, in rows."""
    crops = [(picture, box, probability, None) for picture in pictures for box, probability in picture.faces]
    by_name = {picture.name: picture for picture in pictures}
    crops += [(by_name[item["picture"]], item["box"], item["probability"], item["what"]) for item in not_faces]
    tiles = []
    for picture, box, probability, what in crops:
        x0, y0, x1, y1 = (round(v) for v in box)
        margin = round(0.3 * (x1 - x0))
        crop = picture.bgr[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin]
        crop = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA if crop.shape[1] > side else cv2.INTER_CUBIC)
        if what is not None:
            cv2.rectangle(crop, (0, 0), (side - 1, side - 1), RED, 3)
        label = np.full((34, side, 3), BACKGROUND, np.uint8)
        put_text(label, picture.name, (3, 14), 0.38)
        put_text(label, f"p {probability:.3f}" + ("  NO FACE" if what else ""), (3, 29), 0.38)
        tiles.append(cv2.copyMakeBorder(np.vstack([crop, label]), 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=BACKGROUND))
    if not tiles:
        return np.full((40, side, 3), BACKGROUND, np.uint8)
    tiles += [np.full_like(tiles[0], BACKGROUND)] * (-len(tiles) % per_row)
    return np.vstack([np.hstack(tiles[start : start + per_row]) for start in range(0, len(tiles), per_row)])


def write_sheet(path: Path, sheet: np.ndarray) -> None:
    params = [cv2.IMWRITE_JPEG_QUALITY, 85] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, encoded = cv2.imencode(path.suffix, sheet, params)
    if not ok:
        raise SystemExit(f"cannot encode the sheet as {path.suffix}")
    path.write_bytes(encoded.tobytes())


def print_table(results: list[dict]) -> None:
    width = max([len("style"), *(len(r["label"]) for r in results)])
    print(f"{'style':<{width}}  faces kept  fraction  style ratio")
    for r in results:
        fraction = f"{r['faces_kept_fraction']:.2f}" if r["faces_kept_fraction"] is not None else "-"
        ratio = f"{r['style_ratio']:.3f}" if r["style_ratio"] is not None else "-"
        print(f"{r['label']:<{width}}  {r['faces_kept']:>4}/{r['faces_reference']:<5}  {fraction:>8}  {ratio:>11}")


def self_check_failures(results: list[dict]) -> list[str]:
    failures = []
    for r in results:
        if r["faces_kept"] != r["faces_reference"]:
            failures.append(f"{r['style']}: kept {r['faces_kept']} of {r['faces_reference']} faces at strength 0")
        if r["style_ratio"] is not None and not math.isclose(r["style_ratio"], 1.0, abs_tol=1e-6):
            failures.append(f"{r['style']}: style ratio {r['style_ratio']} at strength 0")
    return failures


def main() -> None:
    try:
        run()
    except StylecamError as error:  # an unknown style, a blend of whole networks, an unreadable picture: one line
        raise SystemExit(f"error: {error}") from error


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", nargs="*", default=[str(p) for p in DEFAULT_IMAGES], help="picture files and folders")
    parser.add_argument("--video", action="append", help="a video to take --frames frames of (repeatable; default: vtest.avi; '' for none)")
    parser.add_argument("--frames", type=int, default=3, help="evenly spaced frames of each --video (0 for none)")
    parser.add_argument("--size", type=int, default=720, help="long side of every picture, in pixels, before anything else")
    parser.add_argument("--styles", help="comma-separated style names or files (default: every installed style but NAME_fast; '' for none)")
    parser.add_argument("--blend", action="append", default=[], metavar="A:W,B:W", help="a blend of styles, added to --styles (repeatable)")
    parser.add_argument("--strength", type=float, default=1.0, help="passed to Stylizer.from_style")
    parser.add_argument("--scale", type=float, help="processing scale for every style (default: each style's own)")
    parser.add_argument("--detail", type=float, help="the input's detail added back, for every style (default: each style's own)")
    parser.add_argument("--paintings", type=Path, default=DATA / "styles", help="folder of the styles' paintings")
    parser.add_argument("--vgg", type=Path, default=DATA / "vgg16_imagenet/vgg16_features.pth", help="VGG16 features state_dict")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--sheet", type=Path, help="write the contact sheet here (.jpg at quality 85, or .png)")
    parser.add_argument("--sheet-pictures", help="comma-separated picture names: the sheet's rows (default: every picture)")
    parser.add_argument("--sheet-styles", help="comma-separated style labels, as the table prints them: the sheet's columns (default: all)")
    parser.add_argument("--references-sheet", type=Path, help="write every reference detection, cropped, here (to check each is a face)")
    parser.add_argument("--self-check", action="store_true", help="strength 0; fail unless every face is kept and every ratio is 1")
    args = parser.parse_args()
    if args.video is None:
        args.video = [str(DATA / "video/vtest.avi")]
    if args.self_check:
        args.strength = 0.0
    if args.size < 32:
        parser.error("--size must be at least 32")

    started = time.perf_counter()
    styles = style_list(args)
    pictures = load_pictures(args)
    detector = FaceDetector()
    distance = StyleDistance(args.vgg)
    not_faces = []
    for picture in pictures:
        found = detector(picture.bgr, REFERENCE_PROBABILITY)
        picture.faces = []
        for box, probability in found:
            what = not_a_face(picture.name, box)
            if what is None:
                picture.faces.append((box, probability))
            else:
                not_faces.append(
                    {"picture": picture.name, "box": [round(v, 1) for v in box], "probability": round(probability, 4), "what": what}
                )
        left_out = f" ({len(found) - len(picture.faces)} left out: no face)" if len(found) > len(picture.faces) else ""
        progress(f"{picture.name} ({picture.bgr.shape[1]}x{picture.bgr.shape[0]}): {len(picture.faces)} reference faces{left_out}")
    if args.references_sheet:
        write_sheet(args.references_sheet, references_sheet(pictures, not_faces))

    results, outputs = [], []
    for number, style in enumerate(styles, 1):
        progress(f"[{number}/{len(styles)}] {style}")
        result, stylized = measure_style(style, pictures, detector, distance, args)
        results.append(result)
        outputs.append(stylized)

    if args.json:
        report = {
            "settings": {
                "images": [p.source for p in pictures],
                "size": args.size,
                "strength": args.strength,
                "scale": args.scale,
                "detail": args.detail,
                "device": "cpu",
                "backend": "eager",
                "paintings": str(args.paintings),
                "painting_size": PAINTING_SIZE,
                "vgg": str(args.vgg),
                "style_layers": DEFAULT_STYLE_LAYERS,
                "reference_probability": REFERENCE_PROBABILITY,
                "not_faces": not_faces,
                "kept_probability": KEPT_PROBABILITY,
                "kept_iou": KEPT_IOU,
                "hardware": hardware_description(),
                "torch": torch.__version__,
                "seconds": round(time.perf_counter() - started, 1),
            },
            "pictures": [
                {
                    "picture": p.name,
                    "source": p.source,
                    "size": [p.bgr.shape[1], p.bgr.shape[0]],
                    "faces": [{"box": [round(v, 1) for v in box], "probability": round(prob, 4)} for box, prob in p.faces],
                }
                for p in pictures
            ],
            "styles": results,
        }
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.sheet:
        # The sheet may show fewer rows and columns than were measured: a figure a reader can take in.
        rows = [i for i, p in enumerate(pictures) if not args.sheet_pictures or p.name in args.sheet_pictures.split(",")]
        columns = [i for i, r in enumerate(results) if not args.sheet_styles or r["label"] in args.sheet_styles.split(",")]
        shown = [{**results[c], "pictures": [results[c]["pictures"][i] for i in rows]} for c in columns]
        write_sheet(args.sheet, contact_sheet([pictures[i] for i in rows], shown, [[outputs[c][i] for i in rows] for c in columns]))
    print_table(results)
    if args.self_check:
        failures = self_check_failures(results)
        for failure in failures:
            print(f"self-check failed: {failure}", file=sys.stderr)
        if failures:
            raise SystemExit(1)
        print("self-check passed: at strength 0 every face is kept and every ratio is 1", file=sys.stderr)


if __name__ == "__main__":
    main()
