"""`stylecam webcam`: the live window (and virtual camera, recordings) from a camera or any source."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from stylecam.argtypes import PROG, bounded, positive_int
from stylecam.choices import key_help_text
from stylecam.commands.options import add_encoder_options, add_runtime_options, encoder_settings, has_accelerator, load_stylizer
from stylecam.errors import StylecamError

HELP = "live window from a camera or any OpenCV source"
EPILOG = "keys in the window:\n" + key_help_text()
camera_fps = bounded(float, 0, 1000, above=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    add_encoder_options(parser)
    parser.add_argument("--source", default="0", help="camera index, video file or stream URL (default: 0)")
    parser.add_argument("--width", type=positive_int, help="ask the camera for this frame width")
    parser.add_argument("--height", type=positive_int, help="ask the camera for this frame height")
    parser.add_argument("--fps", type=camera_fps, help="ask the camera for this frame rate")
    parser.add_argument(
        "--fourcc", help="ask the camera for this pixel format, e.g. MJPG (USB cameras reach 720p or 1080p at 30 fps only in MJPG)"
    )
    parser.add_argument(
        "--save-dir", type=Path, default=Path("."), help="where screenshots and recordings go, created if missing (default: .)"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="on a CPU, run the full styles, not their fast variants (NAME_fast, used by default there when installed)",
    )
    parser.add_argument(
        "--virtual-camera",
        nargs="?",
        const="",
        default=None,
        metavar="DEVICE",
        help="also send the stylized frames to a virtual webcam that Zoom, Meet, Teams or OBS can pick "
        "(v4l2loopback on Linux, e.g. /dev/video10; OBS Virtual Camera on Windows and macOS; default: the first free one)",
    )
    parser.add_argument("--virtual-camera-backend", default=None, help=argparse.SUPPRESS)  # pyvirtualcam backend name: tests and experts
    parser.add_argument(
        "--steady",
        action="store_true",
        help="less flicker: blend each frame with the previous output moved by the camera's optical flow (d toggles it)",
    )
    parser.add_argument("--no-window", action="store_true", help="no window (no display needed): with --virtual-camera and/or --record")
    parser.add_argument("--record", action="store_true", help="start recording at once (MP4 in --save-dir; r toggles it in the window)")


def run(args: argparse.Namespace) -> int:
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
    cpu = args.device == "cpu" or (args.device == "auto" and not has_accelerator())
    asked = args.style
    refs, index, fast = live_styles(args, use_fast=cpu and not args.full)
    # A fast variant runs at its own scale (the one it was distilled for); a full style at 0.5 on the CPU.
    style, stylizer = load_stylizer(args, default_scale=0.5 if cpu and not fast else None)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(LiveSource(parse_source(args.source), args.width, args.height, fps=args.fps, fourcc=args.fourcc))
        # Notes only once the camera is open: a refusal is then the one line a failed start prints.
        if fast:
            print(f"{PROG}: running {args.style}, the fast variant of {asked}, on the CPU (--full runs the full style)", file=sys.stderr)
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
        # A scale asked for, or the CPU's 0.5 for full styles, holds for every style key; otherwise
        # each style runs at its own default.
        fixed_scale = args.scale is not None or (cpu and not fast)
        app = WebcamApp(
            source,
            stylizer,
            refs,
            index,
            args.save_dir,
            virtual_camera=camera,
            steady=args.steady,
            fixed_scale=fixed_scale,
            fixed_detail=args.detail is not None,  # a --detail given holds for every style key, as --scale does
        )
        app.encoder = encoder_settings(args)  # for the recordings
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


def live_styles(args: argparse.Namespace, use_fast: bool) -> tuple[list[str], int, bool]:
    """The webcam's style keys and starting style: NAME_fast in place of NAME on the CPU (see stylecam.fastvariants).

    Sets args.style to the style that runs; returns the keys' list, its index and whether a fast variant was picked.
    """
    from stylecam.fastvariants import live_cycle, live_style
    from stylecam.weights import installed_styles

    installed = [path.stem for path in installed_styles()]  # the style folders, searched once
    chosen = live_style(args.style, use_fast, installed)
    refs, index = live_cycle(chosen, use_fast, installed)
    fast = chosen != args.style
    args.style = chosen
    return refs, index, fast
