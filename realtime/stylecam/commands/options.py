"""Options and set-up that several runtime commands share."""

from __future__ import annotations

import argparse

from stylecam.argtypes import bounded, non_negative_int
from stylecam.choices import (
    BACKENDS,
    DEFAULT_CRF,
    DEFAULT_ENCODER_THREADS,
    DEFAULT_PRESET,
    DEFAULT_STYLE,
    DEVICES,
    MAX_DETAIL,
    MAX_SCALE,
    MAX_STEADY_STRENGTH,
    PRECISIONS,
    X264_PRESETS,
)

scale = bounded(float, 0, MAX_SCALE, above=True)
strength = bounded(float, 0, 1)
detail = bounded(float, 0, MAX_DETAIL)
steady_strength = bounded(float, 0, MAX_STEADY_STRENGTH)
crf = bounded(int, 0, 51)  # x264's quality scale
cpu_threads = bounded(int, 1, 1024)  # more threads than any machine has cores only slows the network


def add_runtime_options(parser: argparse.ArgumentParser, with_style: bool = True, top_level: bool = False) -> None:
    """--style, --device, --precision, --backend, --scale (and --strength, --keep-colors, --detail).

    They are accepted before the command (``stylecam --style wave video ...``) and after it. The
    top-level parser holds the defaults; a command's own copies default to SUPPRESS, so they set
    a value only when given and never overwrite one given before the command.
    """

    def default(value):
        return value if top_level else argparse.SUPPRESS

    group = parser.add_argument_group("style and device" if with_style else "device")
    if with_style:
        group.add_argument(
            "--style",
            default=default(DEFAULT_STYLE),
            help=f"style name or path to a .safetensors style file, or a blend of styles of one painter network such as "
            f"starry_night:0.6,wave:0.4 (default: {DEFAULT_STYLE}; see `stylecam styles`)",
        )
    group.add_argument(
        "--device", default=default("auto"), choices=DEVICES, help="where the network runs (default: auto = CUDA, then MPS, then CPU)"
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
        help="what runs the network: eager PyTorch, torch.compile (compiled once per frame size, cached between runs), "
        "ONNX Runtime or OpenVINO (CPU; in the CPU install, README) (default: auto = compile on CUDA; on a CPU "
        "whichever installed one measures fastest here, measured once and remembered)",
    )
    group.add_argument(
        "--threads",
        type=cpu_threads,
        default=default(None),
        metavar="N",
        help="CPU threads for the network (default: one per core this process may use); fewer leaves cores "
        "to other work, and on a CPU shared with other jobs can keep the live picture smoother",
    )
    group.add_argument(
        "--scale",
        type=scale,
        default=default(None),
        help="processing scale: the network runs on the frame resized by this factor and the result is scaled back "
        f"to the frame's size; below 1 gives bigger brush strokes and more speed (default: the style's own, usually 1; at most {MAX_SCALE:g})",
    )
    if with_style:
        look = parser.add_argument_group("look")
        look.add_argument(
            "--strength",
            type=strength,
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
        look.add_argument(
            "--detail",
            type=detail,
            default=default(None),
            help=f"add back the input's detail (eyes, mouths, edges) in the painting's colours, 0 (none) to {MAX_DETAIL:g} "
            "(default: the style's own: some for the small _fast styles, whose network blurs it away; none for the others)",
        )


def add_encoder_options(parser: argparse.ArgumentParser) -> None:
    """--crf, --preset, --encoder-threads: libx264's settings for the files written."""
    group = parser.add_argument_group("encoder (libx264)")
    group.add_argument(
        "--crf",
        type=crf,
        default=DEFAULT_CRF,
        help=f"quality, 0-51: lower is better and bigger (default: {DEFAULT_CRF}, visually lossless)",
    )
    group.add_argument(
        "--preset",
        choices=X264_PRESETS,
        default=DEFAULT_PRESET,
        help=f"x264 speed preset: slower presets make smaller files at the same quality (default: {DEFAULT_PRESET}, keeps up on a small CPU)",
    )
    group.add_argument(
        "--encoder-threads",
        type=non_negative_int,
        default=DEFAULT_ENCODER_THREADS,
        help="encoder threads (default: 0, x264 picks about 1.5 per core)",
    )


def encoder_settings(args: argparse.Namespace):
    from stylecam.sinks import EncoderSettings

    return EncoderSettings(crf=args.crf, preset=args.preset, threads=args.encoder_threads)


def load_stylizer(args: argparse.Namespace, default_scale: float | None = None):
    """The style of --style and a Stylizer for it on the device, precision and back end that args ask for."""
    return stylizer_for(args.style, args, default_scale)


def stylizer_for(style_ref: str, args: argparse.Namespace, default_scale: float | None = None):
    """The style and a Stylizer for it on the device and precision that args ask for."""
    from stylecam.backends import choose_precision
    from stylecam.devices import configure_cpu_threads, pick_device
    from stylecam.frames import Stylizer
    from stylecam.weights import load_style

    style, model = load_style(style_ref)
    device = pick_device(args.device)
    chosen_scale = args.scale if args.scale is not None else (default_scale or style.default_scale)
    if device.type == "cpu":
        # before the back end is built: ONNX Runtime and OpenVINO take the thread count then
        configure_cpu_threads(getattr(args, "threads", None))
    precision = choose_precision(device, args.precision, args.backend)
    stylizer = Stylizer(
        model, device, precision, scale=chosen_scale, style=style, backend=args.backend, detail=getattr(args, "detail", None)
    )
    stylizer.strength = getattr(args, "strength", 1.0)  # sheet has no look options
    stylizer.keep_colors = getattr(args, "keep_colors", False)
    return style, stylizer


def check_video_output(output, inputs, overwrite: bool) -> None:
    from stylecam.sinks import check_video_output_file

    check_video_output_file(output, inputs, overwrite)


def has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()
