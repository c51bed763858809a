"""``stylecam``: one entry point with subcommands; turns user errors into one line and exit 2.

Heavy modules (torch, OpenCV, the training recipe) are imported inside the commands, so
``stylecam --help`` answers at once and the runtime never loads Lightning.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from stylecam.errors import StylecamError

PROG = "stylecam"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what shells report for a terminated process


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line like every other stylecam error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def _runtime_options(with_style: bool = True, top_level: bool = False) -> argparse.ArgumentParser:
    """--style, --device, --precision, --scale.

    They are accepted before the command (``stylecam --style wave video ...``) and after it. The
    top-level parser holds the defaults; a command's own copies default to SUPPRESS, so they set
    a value only when given and never overwrite one given before the command.
    """
    from stylecam.backends import BACKENDS
    from stylecam.devices import DEVICES, PRECISIONS
    from stylecam.weights import DEFAULT_STYLE

    def default(value):
        return value if top_level else argparse.SUPPRESS

    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("style and device" if with_style else "device")
    if with_style:
        group.add_argument(
            "--style",
            default=default(DEFAULT_STYLE),
            help=f"style name or path to a .safetensors style file, or a blend of styles of one painter network such as "
            f"starry_night:0.6,wave:0.4 (default: {DEFAULT_STYLE}; see `stylecam styles`)",
        )
    group.add_argument(
        "--device",
        default=default("auto"),
        choices=DEVICES,
        help="where the network runs (default: auto = CUDA, then MPS, then CPU)",
    )
    group.add_argument(
        "--precision",
        default=default("auto"),
        choices=PRECISIONS,
        help="network precision (default: on CUDA fp16 when compiled, fp32 when eager, as measured fastest; fp32 elsewhere)",
    )
    group.add_argument(
        "--backend",
        default=default("auto"),
        choices=BACKENDS,
        help="what runs the network: eager PyTorch, torch.compile (compiled once per frame size, cached between runs) or "
        "ONNX Runtime (CPU; pip install 'stylecam[onnx]') (default: auto = compile on CUDA, onnx on a CPU when installed, else eager)",
    )
    group.add_argument(
        "--scale",
        type=_scale,
        default=default(None),
        help="processing scale: the network runs on the frame resized by this factor and the result is scaled back "
        f"to the frame's size; below 1 gives bigger brush strokes and more speed (default: the style's own, usually 1; at most {MAX_SCALE:g})",
    )
    if with_style:
        look = parent.add_argument_group("look")
        look.add_argument(
            "--strength",
            type=_strength,
            default=default(1.0),
            help="style strength: a blend with the original, from 0 (the original) to 1 (the full style; default)",
        )
        look.add_argument(
            "--keep-colors",
            "--keep-colours",
            dest="keep_colors",
            action="store_true",
            default=default(False),
            help="keep the original's colours: brightness and strokes from the style, colour from the input (in Y'UV)",
        )
    return parent


def _encoder_options() -> argparse.ArgumentParser:
    """--crf, --preset, --encoder-threads: libx264's settings for the files written."""
    from stylecam.sinks import X264_PRESETS, EncoderSettings

    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("encoder (libx264)")
    defaults = EncoderSettings()
    group.add_argument(
        "--crf",
        type=_crf,
        default=defaults.crf,
        help=f"quality, 0-51: lower is better and bigger (default: {defaults.crf}, visually lossless)",
    )
    group.add_argument(
        "--preset",
        choices=X264_PRESETS,
        default=defaults.preset,
        help=f"x264 speed preset: slower presets make smaller files at the same quality (default: {defaults.preset}, keeps up on a small CPU)",
    )
    group.add_argument(
        "--encoder-threads",
        type=_non_negative_int,
        default=defaults.threads,
        help="encoder threads (default: 0, x264 picks about 1.5 per core)",
    )
    return parent


def _encoder_settings(args: argparse.Namespace):
    """The encoder options given, or the defaults (the quick start reaches the webcam without them)."""
    from stylecam.sinks import EncoderSettings

    defaults = EncoderSettings()
    return EncoderSettings(
        crf=getattr(args, "crf", defaults.crf),
        preset=getattr(args, "preset", defaults.preset),
        threads=getattr(args, "encoder_threads", defaults.threads),
    )


def bounded(kind: type, low: float | None = None, high: float | None = None, *, above: bool = False):
    """An argparse type: a finite ``kind`` (int or float) of at least ``low`` (above it if ``above``) and at most ``high``."""
    noun = "a whole number" if kind is int else "a number"
    if low is not None and high is not None:
        wanted = f"{noun} {'above' if above else 'from'} {low:g} {'and at most' if above else 'to'} {high:g}"
    elif low is not None:
        wanted = f"{noun} {'above' if above else 'of at least'} {low:g}"
    else:
        wanted = noun

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got '{text}'") from error
        too_low = low is not None and (value <= low if above else value < low)
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


MAX_SCALE = 4.0  # enlarging a frame more than this only multiplies the work; strokes get finer, nothing else
# The command-line types; positive_int also serves the recipe's options.
positive_int = bounded(int, 1)
_non_negative_int = bounded(int, 0)
_crf = bounded(int, 0, 51)  # x264's quality scale
_scale = bounded(float, 0, MAX_SCALE, above=True)
_camera_fps = bounded(float, 0, 1000, above=True)
_strength = bounded(float, 0, 1)


def _steady_strength(text: str) -> float:
    from stylecam.steady import MAX_STRENGTH  # not at import: it brings OpenCV

    return bounded(float, 0, MAX_STRENGTH)(text)


def _debug_option(top_level: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug", action="store_true", default=False if top_level else argparse.SUPPRESS, help="show the full traceback on errors"
    )
    return parent


def _frame_size(text: str) -> tuple[int, int]:
    """argparse type for WxH, such as 1920x1080."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1920x1080, got '{text}'") from error
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"width and height must be at least 16, got {text}")
    return width, height


def _name_list(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected names separated by commas, got '{text}'")
    return names


def _seconds_list(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected seconds such as 20 or 20,60, got '{text}'") from error
    if not values or not all(math.isfinite(value) and value >= 0 for value in values):
        raise argparse.ArgumentTypeError(f"expected seconds of 0 or more, got '{text}'")
    return values


def _version() -> str:
    """The installed distribution's version (the one pip shows), without importing anything heavy."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stylecam")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from stylecam.webcam import key_help_text

    runtime = _runtime_options()
    device_options = _runtime_options(with_style=False)
    debug = _debug_option()
    parser = _Parser(
        prog=PROG,
        description="Real-time neural style transfer for webcams, video files and photos. "
        "Without a command: the live webcam window where a camera and a display exist, otherwise a demo.",
        parents=[_runtime_options(top_level=True), _debug_option(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    styles = commands.add_parser("styles", help="list installed styles", parents=[debug])
    styles.add_argument("--json", action="store_true", help="print the list as JSON")
    styles.set_defaults(handler=cmd_styles)

    encoder = _encoder_options()
    video = commands.add_parser("video", help="stylize a video file (sound kept)", parents=[runtime, encoder, debug])
    video.add_argument("input", type=Path, help="video file to read")
    video.add_argument("-o", "--output", type=Path, required=True, help="video file to write (.mp4, .mov or .mkv)")
    video.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    video.add_argument("--batch", type=positive_int, default=None, help="frames per network call (default: 4 on CUDA, 1 elsewhere)")
    video.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    video.add_argument("--quiet", action="store_true", help="no progress bar")
    video.add_argument(
        "--steady",
        action="store_true",
        help="less flicker: blend each frame with the previous one moved by the input's optical flow (not where it moves too fast)",
    )
    video.add_argument(
        "--steady-strength",
        type=_steady_strength,
        default=None,
        metavar="S",
        help="weight of the previous frame for --steady, 0 to 0.95 (default: 0.6; implies --steady)",
    )
    video.add_argument(
        "--flicker", action="store_true", help="also measure the warping error of the result and of the input (see `stylecam flicker`)"
    )
    video.set_defaults(handler=cmd_video)

    flicker = commands.add_parser(
        "flicker", help="measure flicker: the warping error of a stylized video, with the motion of its original", parents=[debug]
    )
    flicker.add_argument("original", type=Path, metavar="IN", help="the original video (its optical flow is used)")
    flicker.add_argument(
        "stylized", type=Path, metavar="OUT", help="the stylized video: same frame count; resized to IN's size if it differs"
    )
    flicker.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    flicker.add_argument("--quiet", action="store_true", help="no progress bar")
    flicker.set_defaults(handler=cmd_flicker)

    image = commands.add_parser("image", help="stylize photos (files or folders)", parents=[runtime, debug])
    image.add_argument("inputs", type=Path, nargs="+", metavar="IN", help="image files or folders of images")
    image.add_argument("-o", "--output-dir", type=Path, required=True, help="folder for the stylized images (created if missing)")
    image.add_argument("--max-size", type=positive_int, default=None, help="cap the long side of each image, in pixels")
    image.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    image.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    image.set_defaults(handler=cmd_image)

    webcam = commands.add_parser(
        "webcam",
        help="live window from a camera or any OpenCV source",
        parents=[runtime, encoder, debug],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="keys in the window:\n" + key_help_text(),
    )
    webcam.add_argument("--source", default="0", help="camera index, video file or stream URL (default: 0)")
    webcam.add_argument("--width", type=positive_int, help="ask the camera for this frame width")
    webcam.add_argument("--height", type=positive_int, help="ask the camera for this frame height")
    webcam.add_argument("--fps", type=_camera_fps, help="ask the camera for this frame rate")
    webcam.add_argument(
        "--fourcc", help="ask the camera for this pixel format, e.g. MJPG (USB cameras reach 720p or 1080p at 30 fps only in MJPG)"
    )
    webcam.add_argument(
        "--save-dir", type=Path, default=Path("."), help="where screenshots and recordings go, created if missing (default: .)"
    )
    webcam.add_argument(
        "--full",
        action="store_true",
        help="on a CPU, run the full styles, not their fast variants (NAME_fast, used by default there when installed)",
    )
    webcam.add_argument(
        "--virtual-camera",
        nargs="?",
        const="",
        default=None,
        metavar="DEVICE",
        help="also send the stylized frames to a virtual webcam that Zoom, Meet, Teams or OBS can pick "
        "(v4l2loopback on Linux, e.g. /dev/video10; OBS Virtual Camera on Windows and macOS; default: the first free one)",
    )
    webcam.add_argument("--virtual-camera-backend", default=None, help=argparse.SUPPRESS)  # pyvirtualcam backend name: tests and experts
    webcam.add_argument(
        "--steady",
        action="store_true",
        help="less flicker: blend each frame with the previous output moved by the camera's optical flow (d toggles it)",
    )
    webcam.add_argument("--no-window", action="store_true", help="no window (no display needed): with --virtual-camera and/or --record")
    webcam.add_argument("--record", action="store_true", help="start recording at once (MP4 in --save-dir; r toggles it in the window)")
    webcam.set_defaults(handler=cmd_webcam)

    bench = commands.add_parser(
        "bench",
        help="measure speed as JSON: the network by back end, a file end to end (next to the classic loop), the webcam loop, training",
        parents=[runtime, debug],
    )
    bench.add_argument("input", type=Path, nargs="?", help="video to read, its first --frames frames (default: a synthetic clip at --size)")
    bench.add_argument(
        "--size",
        type=_frame_size,
        default=None,
        metavar="WxH",
        help="resize the frames to this size (default: the input's; 1920x1080 for the synthetic clip)",
    )
    bench.add_argument("--frames", type=positive_int, default=100, help="frames of the clip (default: 100)")
    bench.add_argument("--batch", type=positive_int, default=None, help="frames per network call (default: 4 on CUDA, 1 elsewhere)")
    bench.add_argument(
        "--backends",
        type=_name_list,
        default=None,
        metavar="NAME[,NAME...]",
        help="back ends timed for the model alone (default: every one that runs here)",
    )
    bench.add_argument(
        "--precisions",
        type=_name_list,
        default=["auto"],
        metavar="NAME[,NAME...]",
        help="precisions timed for the model alone (default: auto, each back end's own)",
    )
    bench.add_argument("--repeats", type=positive_int, default=20, help="timed calls of the model alone, after its first (default: 20)")
    bench.add_argument(
        "--parts",
        type=_name_list,
        default=["model", "file", "webcam"],
        metavar="PART[,PART...]",
        help="what to time: model, file, webcam, train (default: model,file,webcam)",
    )
    bench.add_argument("--train", action="store_true", help="time a training step too (imports the training recipe)")
    bench.add_argument("--train-size", type=positive_int, default=256, help="training crop side (default: 256)")
    bench.add_argument("--train-batch", type=positive_int, default=16, help="training batch (default: 16)")
    bench.add_argument("--train-steps", type=positive_int, default=5, help="timed training steps, after a first (default: 5)")
    bench.add_argument("--vgg-weights", default=None, help="loss-network weights for the training step (default: random, the same work)")
    bench.set_defaults(handler=cmd_bench)

    sheet = commands.add_parser(
        "sheet",
        help="contact sheet: your photos or video frames in rows, one column per style",
        parents=[device_options, debug],
    )
    sheet.add_argument("inputs", type=Path, nargs="+", metavar="IN", help="images, folders of images, or videos (a frame each)")
    sheet.add_argument("-o", "--output", type=Path, required=True, help="the sheet (.png or .jpg)")
    sheet.add_argument("--styles", help="comma-separated style names or files (default: every installed style, or none with --blend)")
    sheet.add_argument(
        "--blend",
        action="append",
        default=[],
        metavar="A:W,B:W",
        help="a column for a blend of styles of one painter network, e.g. starry_night:0.5,wave:0.5 (repeatable)",
    )
    sheet.add_argument(
        "--height",
        type=positive_int,
        default=720,
        help="each input is resized to this many rows before it is stylized, as a video of that size would be (default: 720)",
    )
    sheet.add_argument(
        "--tile-height",
        type=positive_int,
        default=240,
        help="rows of each tile in the sheet; equal to --height for 100%% zoom (default: 240)",
    )
    sheet.add_argument(
        "--at",
        type=_seconds_list,
        default=[None],
        metavar="SECONDS[,SECONDS...]",
        help="times of the frames taken from a video, a row each (default: its middle)",
    )
    sheet.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    sheet.set_defaults(handler=cmd_sheet)

    demo = commands.add_parser("demo", help="stylize a short clip that stylecam makes itself", parents=[runtime, debug])
    demo.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="where the demo video goes; its side-by-side PNG goes beside it (default: stylecam-demo.mp4, or -2, -3... if taken)",
    )
    demo.add_argument("--overwrite", action="store_true", help="replace OUTPUT and its PNG if they exist")
    demo.set_defaults(handler=cmd_demo)

    imported = commands.add_parser(
        "import",
        help="convert a pytorch/examples fast_neural_style model (candy.pth, mosaic.pth...) into a style file",
        parents=[debug],
        description="Convert a checkpoint of the pytorch/examples fast_neural_style recipe into a stylecam style file. "
        "The file is read with torch.load(weights_only=True): tensors only, so it cannot run code.",
    )
    imported.add_argument(
        "model", type=Path, metavar="MODEL.pth", help="the checkpoint (a state_dict, possibly wrapped or from DataParallel)"
    )
    imported.add_argument("--name", help="style name (default: the file's name without .pth)")
    imported.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the style file (default: your styles folder, see `stylecam styles`)",
    )
    imported.add_argument("--overwrite", action="store_true", help="replace an existing style file of that name")
    imported.add_argument(
        "--default-scale", type=_scale, default=1.0, help="processing scale the style suggests to the runtime (default: %(default)s)"
    )
    credit = imported.add_argument_group("style image credit (recorded as unknown where not given)")
    credit.add_argument("--title", help="title of the painting")
    credit.add_argument("--artist")
    credit.add_argument("--year")
    credit.add_argument("--licence")
    credit.add_argument("--credit", help="where the painting's image comes from (default: imported from MODEL.pth)")
    imported.set_defaults(handler=cmd_import)

    # The recipe's options are parsed by the recipe itself (`stylecam train --help`), so the
    # runtime's parser never imports it: the webcam starts without loading Lightning.
    # Listed for --help only: main() hands `stylecam train ...` to the recipe's own parser.
    commands.add_parser("train", help="train a new style from a painting (see `stylecam train --help`)", add_help=False)
    commands.add_parser(
        "paint", help="paint one photo in the style of any painting, no training (see `stylecam paint --help`)", add_help=False
    )
    commands.add_parser("distill", help="a small fast copy of a style for the CPU (see `stylecam distill --help`)", add_help=False)

    parser.set_defaults(handler=None)  # bare `stylecam`: main() runs start_command() in its place
    return parser


# -- shared setup ------------------------------------------------------------------------------
def _load_stylizer(args: argparse.Namespace, default_scale: float | None = None):
    return _stylizer_for(args.style, args, default_scale)  # it sets the CPU threads, before the back end is built


def _stylizer_for(style_ref: str, args: argparse.Namespace, default_scale: float | None = None):
    """The style and a Stylizer for it on the device and precision that args ask for."""
    from stylecam.backends import choose_precision
    from stylecam.devices import configure_cpu_threads, pick_device
    from stylecam.frames import Stylizer
    from stylecam.weights import load_style

    style, model = load_style(style_ref)
    device = pick_device(args.device)
    scale = args.scale if args.scale is not None else (default_scale or style.default_scale)
    if scale <= 0:
        raise StylecamError(f"--scale must be positive, got {scale:g}")
    if device.type == "cpu":
        configure_cpu_threads()  # before the back end is built: ONNX Runtime takes the thread count then
    backend = getattr(args, "backend", "auto")
    precision = choose_precision(device, args.precision, backend)
    stylizer = Stylizer(model, device, precision, scale=scale, style=style, backend=backend)
    stylizer.strength = getattr(args, "strength", 1.0)
    stylizer.keep_colors = getattr(args, "keep_colors", False)
    return style, stylizer


def _check_video_output(output: Path, inputs: list[Path], overwrite: bool) -> None:
    from stylecam.errors import OutputError
    from stylecam.sinks import VIDEO_SUFFIXES, check_output_file

    if output.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(f"output {output} must end in {', '.join(VIDEO_SUFFIXES)}")
    check_output_file(output, inputs, overwrite)


# -- commands ----------------------------------------------------------------------------------
def cmd_styles(args: argparse.Namespace) -> int:
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
        print(f"{number:>2} {marker} {row['name']:<{name_width}} {about}")
    print(f"(* default; looked up in {', '.join(str(folder) for folder in weights_dirs())}: the first file of a name wins)")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from stylecam.importer import ImportCredit, import_model, lookup_note

    credit = ImportCredit(title=args.title, artist=args.artist, year=args.year, licence=args.licence, credit=args.credit)
    path = import_model(args.model, args.name, args.out, args.overwrite, credit, args.default_scale)
    print(f"stylecam: imported {args.model} as style '{path.stem}'", file=sys.stderr)
    note = lookup_note(path)
    if note:
        print(f"stylecam: note: {note}", file=sys.stderr)
    print(path)  # alone on stdout, for scripts
    return 0


def cmd_video(args: argparse.Namespace) -> int:
    from stylecam.loops import convert_video
    from stylecam.steady import DEFAULT_STRENGTH

    _check_video_output(args.output, [args.input], args.overwrite)
    style, stylizer = _load_stylizer(args)
    batch = args.batch or stylizer.default_batch()
    steady = args.steady_strength if args.steady_strength is not None else (DEFAULT_STRENGTH if args.steady else None)
    report = convert_video(
        args.input,
        args.output,
        stylizer,
        style.name,
        batch_size=batch,
        show_progress=not args.quiet,
        overwrite=args.overwrite,
        steady=steady,
        measure_flicker=args.flicker,
        encoder=_encoder_settings(args),
    )
    if report.ended_early:
        print(
            f"{PROG}: warning: {args.input} ended after {report.frames} of the {report.frames_announced} frames its header "
            "announces (a truncated or damaged file?); every frame found was converted",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        speed = f"{report.fps:.1f} fps, {report.device}, style {style.name}"
        print(f"wrote {args.output}: {report.frames} frames in {report.seconds:.1f} s ({speed})", file=sys.stderr)
    if args.flicker and not args.json:
        from stylecam.flicker import format_error

        print(
            f"warping error: {format_error(report.warping_error)} (input, the floor: {format_error(report.warping_error_input)}; "
            "frames as written, before encoding)",
            file=sys.stderr,
        )
    return 0


def cmd_flicker(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylecam.capture import open_video_file
    from stylecam.flicker import measure_files, print_summary

    # A clear error for a bad file before any work; the original's header count sizes the progress bar.
    capture, info, _ = open_video_file(args.original)
    capture.release()
    open_video_file(args.stylized)[0].release()
    with tqdm(total=info.frame_count, unit="frame", desc="flicker", disable=args.quiet, file=sys.stderr, dynamic_ncols=True) as bar:
        report = measure_files(args.original, args.stylized, on_frame=bar.update)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print_summary(report)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from stylecam.backends import BACKENDS
    from stylecam.bench import PARTS, BenchSettings, default_backends, run_bench
    from stylecam.capture import open_video_file
    from stylecam.devices import PRECISIONS

    if args.input is not None:
        open_video_file(args.input)[0].release()  # a clear error for a bad input before any work
    parts = list(dict.fromkeys([*args.parts, *(["train"] if args.train else [])]))
    for names, allowed, option in (
        (parts, PARTS, "--parts"),
        (args.backends or [], BACKENDS, "--backends"),
        (args.precisions, PRECISIONS, "--precisions"),
    ):
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise StylecamError(f"{option}: unknown '{unknown[0]}' (choose from {', '.join(allowed)})")
    style, stylizer = _load_stylizer(args)
    settings = BenchSettings(
        input=str(args.input) if args.input is not None else None,
        size=args.size,
        frames=args.frames,
        batch=args.batch or stylizer.default_batch(),
        backends=args.backends or default_backends(stylizer.device),
        precisions=args.precisions,
        repeats=args.repeats,
        parts=parts,
        train_size=args.train_size,
        train_batch=args.train_batch,
        train_steps=args.train_steps,
        vgg_weights=args.vgg_weights,
    )
    print(json.dumps(run_bench(settings, stylizer, style.name), indent=2))
    return 0


def cmd_image(args: argparse.Namespace) -> int:
    from stylecam.images import collect_images
    from stylecam.loops import stylize_images
    from stylecam.sinks import check_writable_folder

    missing = [str(path) for path in args.inputs if not path.exists()]
    if missing:
        raise StylecamError(f"input {missing[0]} does not exist" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    images = collect_images(args.inputs)
    if not images:
        raise StylecamError(f"no images found in {', '.join(map(str, args.inputs))}")
    check_writable_folder(args.output_dir, create=True)
    style, stylizer = _load_stylizer(args)
    report = stylize_images(images, args.output_dir, stylizer, style.name, args.max_size, args.overwrite)
    if args.json:
        print(json.dumps(vars(report)))
    for path in report.skipped_existing:
        print(f"stylecam: skipped {path}: exists (use --overwrite to replace it)", file=sys.stderr)
    print(f"wrote {len(report.written)} image(s) to {args.output_dir}", file=sys.stderr)
    if report.unreadable:
        raise StylecamError(f"{len(report.unreadable)} file(s) could not be read as images: {', '.join(report.unreadable)}")
    return 0


def cmd_sheet(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylecam.errors import OutputError
    from stylecam.images import collect_images, write_image
    from stylecam.sheet import build_sheet, read_inputs
    from stylecam.sinks import check_output_file
    from stylecam.weights import installed_styles

    if args.output.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise OutputError(f"output {args.output} must end in .png or .jpg")
    check_output_file(args.output, args.inputs, args.overwrite)
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
    by_name = {}
    for ref in refs:  # every style is loaded and checked before any work
        style, stylizer = _stylizer_for(ref, args)
        if style.name in by_name:
            raise StylecamError(f"two of --styles are named '{style.name}'; a sheet needs one column per name")
        by_name[style.name] = stylizer

    def progress(items):
        return tqdm(items, unit="row", desc="sheet", file=sys.stderr, disable=len(items) < 2)

    sheet = build_sheet(inputs, list(by_name), lambda name, frame: by_name[name].stylize(frame), args.tile_height, progress)
    write_image(args.output, sheet)
    print(f"wrote {args.output}: {len(inputs)} row(s) x {len(by_name)} style(s), {sheet.shape[1]}x{sheet.shape[0]}", file=sys.stderr)
    return 0


def cmd_webcam(args: argparse.Namespace) -> int:
    from stylecam.capture import LiveSource, parse_source
    from stylecam.sinks import check_writable_folder
    from stylecam.webcam import DisplayError, WebcamApp, display_problem

    if args.no_window and args.virtual_camera is None and not args.record:
        raise StylecamError("--no-window needs somewhere to send the frames: --virtual-camera and/or --record")
    if not args.no_window:
        problem = display_problem()
        if problem is not None:
            raise DisplayError(f"{problem}; run headless with --no-window --virtual-camera, or stylize a file with `stylecam video`")
    check_writable_folder(args.save_dir, create=True)
    # On the CPU, half resolution by default: four times fewer pixels keeps the window live.
    cpu = args.device == "cpu" or (args.device == "auto" and not _has_accelerator())
    refs, index, fast = _live_styles(args, use_fast=cpu and not getattr(args, "full", False))
    # A fast variant runs at its own scale (the one it was distilled for); a full style at 0.5 on the CPU.
    style, stylizer = _load_stylizer(args, default_scale=0.5 if cpu and not fast else None)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(LiveSource(parse_source(args.source), args.width, args.height, fps=args.fps, fourcc=args.fourcc))
        for note in source.granted:
            print(f"{PROG}: note: {note}", file=sys.stderr)
        camera = None
        if args.virtual_camera is not None:
            from stylecam.virtualcam import VirtualCamera

            fps = args.fps or source.info.fps
            camera = stack.enter_context(
                VirtualCamera(source.info.width, source.info.height, fps, device=args.virtual_camera, backend=args.virtual_camera_backend)
            )
            print(f"{PROG}: virtual camera {camera.device}: pick it in the video call's camera menu", file=sys.stderr)
        app = WebcamApp(source, stylizer, refs, index, args.save_dir, virtual_camera=camera, steady=args.steady)
        app.encoder = _encoder_settings(args)  # for the recordings
        if args.record:
            app.start_recording()
        if args.no_window:
            print(f"{PROG}: {style.name} on {stylizer.device}, no window; Ctrl-C stops", file=sys.stderr)
            state = app.run_headless()
        else:
            print(f"{PROG}: {style.name} on {stylizer.device}; press h in the window for keys, q to quit", file=sys.stderr)
            state = app.run()
    if camera is not None:
        print(f"{PROG}: sent {camera.frames_sent} frames to {camera.device}", file=sys.stderr)
    for path in state.saved:
        print(f"saved {path}", file=sys.stderr)
    return 0


def _live_styles(args: argparse.Namespace, use_fast: bool) -> tuple[list[str], int, bool]:
    """The webcam's style keys and starting style: NAME_fast in place of NAME on the CPU (see stylecam.fastvariants).

    Sets args.style to the style that runs; returns the keys' list, its index and whether a fast variant was picked.
    """
    from stylecam.fastvariants import live_cycle, live_style
    from stylecam.weights import installed_styles

    installed = [path.stem for path in installed_styles()]  # the style folders, searched once
    chosen = live_style(args.style, use_fast, installed)
    if chosen != args.style:
        print(f"{PROG}: running {chosen}, the fast variant of {args.style}, on the CPU (--full runs the full style)", file=sys.stderr)
    refs, index = live_cycle(chosen, use_fast, installed)
    fast = chosen != args.style
    args.style = chosen
    return refs, index, fast


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


DEMO_OUTPUT = Path("stylecam-demo.mp4")


def _free_name(path: Path, *companions: str) -> Path:
    """``path``, or ``stem-2.suffix``, ``stem-3.suffix``... the first free one, with its companion suffixes free too."""
    candidate, number = path, 2
    while any(p.exists() for p in (candidate, *(candidate.with_suffix(suffix) for suffix in companions))):
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate


def cmd_demo(args: argparse.Namespace) -> int:
    import cv2

    from stylecam.demo import make_demo_clip
    from stylecam.images import side_by_side, write_image
    from stylecam.loops import convert_video
    from stylecam.sinks import check_output_file

    if args.output is None:  # the default name never replaces a file: it moves on to a free one
        output = _free_name(DEMO_OUTPUT, ".png")
    else:  # a name the user gave is replaced only with --overwrite, and so is the PNG beside it
        output = args.output
        check_output_file(output.with_suffix(".png"), [], args.overwrite)
    _check_video_output(output, [], args.overwrite)
    style, stylizer = _load_stylizer(args)
    print(f"stylecam: demo with style '{style.name}': {style.credit_line()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="stylecam-demo-") as workdir:
        clip = Path(workdir) / "demo-input.mp4"
        make_demo_clip(clip)
        report = convert_video(clip, output, stylizer, style.name, overwrite=args.overwrite)
        capture_in, capture_out = cv2.VideoCapture(str(clip)), cv2.VideoCapture(str(output))
        for _ in range(report.frames // 2):
            capture_in.grab(), capture_out.grab()
        (_, original), (_, stylized) = capture_in.read(), capture_out.read()
        capture_in.release(), capture_out.release()
    preview = output.with_suffix(".png")
    write_image(preview, side_by_side(original, stylized))
    print(f"stylecam: wrote {output.resolve()} ({report.frames} frames, {report.fps:.1f} fps on {report.device})")
    print(f"stylecam: original and stylized side by side: {preview.resolve()}")
    return 0


def start_command() -> str:
    """What bare `stylecam` runs: the webcam where a camera and a display are, otherwise the demo (and says why)."""
    from stylecam.webcam import camera_present, display_problem

    if display_problem() is None and camera_present(0):
        return "webcam"
    print("stylecam: no camera or no display here, so running the demo (`stylecam --help` lists the commands)", file=sys.stderr)
    return "demo"


# The recipe's commands, parsed by the recipe's own modules (imported only when used):
# name -> (module, description).
RECIPE_COMMANDS = {
    "train": ("stylecam.train.cli", "Train a style network from a painting and a folder of photos."),
    "paint": ("stylecam.train.paint", "Paint one photo in the style of a painting by optimising its pixels (Gatys et al.); no training."),
    "distill": ("stylecam.train.distill", "Train a small, fast copy of a style (its teacher) for the live CPU path: NAME_fast."),
}


def recipe_parser(command: str) -> argparse.ArgumentParser:
    """The parser of `stylecam train` or `stylecam paint`; its module's run() is the handler."""
    import importlib

    module_name, description = RECIPE_COMMANDS[command]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise StylecamError(f"the training recipe cannot be imported ({error})") from error
    parser = _Parser(prog=f"{PROG} {command}", description=description)
    module.add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    parser.set_defaults(handler=module.run)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, systemd, docker stop), unwound like Ctrl-C so that every writer cleans up."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = argparse.Namespace(debug="--debug" in argv)
    previous = _install_sigterm_handler()
    try:
        if argv[:1] and argv[0] in RECIPE_COMMANDS:
            args = recipe_parser(argv[0]).parse_args(argv[1:])
            args.argv = argv  # the words as given: `train` prints them back as the command that resumes it
        else:
            args = build_parser().parse_args(argv)
            if args.handler is None:
                # Parsed again as the command itself, so that it gets all of its own defaults (the
                # webcam's save folder, capture settings, ...) and the options given before it.
                args = build_parser().parse_args([*argv, start_command()])
        return args.handler(args)
    except StylecamError as error:
        if args.debug:
            raise
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print(f"{PROG}: terminated; nothing half-written was left behind", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-written was left behind", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `stylecam styles | head -1`: the reader left, which is not an error. Point stdout at
        # /dev/null so that the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _install_sigterm_handler():
    """SIGTERM -> Terminated in the main thread; returns the previous handler (None where none was set)."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread
    return signal.signal(signal.SIGTERM, _raise_terminated)


if __name__ == "__main__":
    sys.exit(main())
