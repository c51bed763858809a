# PYTHON_ARGCOMPLETE_OK  (argcomplete: this program answers completion requests itself)
"""``stylecam``: the dispatcher. It finds the commands in one registry, the ``stylecam.commands``
entry points (pyproject.toml), builds the parser of the one command asked for, and turns user
errors into one line and exit 2.

Only the chosen command's options are built, and command modules import their heavy modules
(torch, OpenCV, PyAV) inside run(), so ``stylecam --help`` and ``stylecam COMMAND --help``
answer at once. The runtime names none of the recipe's commands: the recipe registers them.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version

from stylecam.argtypes import EXIT_USAGE, PROG, Parser
from stylecam.commands.options import add_runtime_options
from stylecam.errors import StylecamError, quiet_native_logs, report_on_stderr

REGISTRY = "stylecam.commands"
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what shells report for a terminated process


@functools.cache  # both passes of parse() ask; the installed metadata is scanned once
def registered_commands() -> dict[str, EntryPoint]:
    """name -> entry point of every installed command, in alphabetical order (as the metadata lists them)."""
    found = {point.name: point for point in entry_points(group=REGISTRY)}
    if not found:  # metadata without the registry: an old build's stylecam.egg-info in the current folder, say
        raise StylecamError(f"no {PROG} commands are registered: reinstall stylecam (pip install -e . in a source tree)")
    return found


def _version() -> str:
    """The installed distribution's version (the one pip shows)."""
    try:
        return version("stylecam")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser(command: str | None = None, describe: bool = True, every: bool = False) -> Parser:
    """The parser with every command listed; only ``command``'s own options are built.

    ``describe``: load every command's module for its line of help (for `stylecam --help`);
    without it only ``command``'s module is imported. ``every``: build every command's options
    (for shell completion, which needs them all).
    """
    parser = Parser(
        prog=PROG,
        description="Real-time neural style transfer for webcams, video files and photos. "
        "Without a command: the live webcam window where a camera and a display exist, otherwise a demo.",
    )
    add_runtime_options(parser, top_level=True)
    parser.add_argument("--debug", action="store_true", default=False, help="show the full traceback on errors")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    subparsers = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    for name, point in registered_commands().items():
        if name != command and not describe and not every:
            subparsers.add_parser(name, add_help=False)  # its name is all the first pass needs
            continue
        try:
            module = point.load()
        except ImportError as error:  # a command whose extra is not installed, or a broken plug-in
            if name != command:
                subparsers.add_parser(name, help=f"(cannot be loaded: {error})", add_help=False)
                continue
            raise StylecamError(f"`{PROG} {name}` cannot be loaded: {error}") from error
        if name != command and not every:  # listed for --help, and enough for the first pass to find the command
            subparsers.add_parser(name, help=module.HELP, add_help=False)
            continue
        epilog = getattr(module, "EPILOG", None)
        sub = subparsers.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", None),
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter if epilog else argparse.HelpFormatter,
        )
        module.add_arguments(sub)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors")
        sub.set_defaults(handler=module.run)
    parser.set_defaults(handler=None)
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """Two passes: the first finds the command (options before it included), the second parses it fully."""
    asks_for_help = any(word in ("-h", "--help") for word in argv)
    first, _ = build_parser(describe=asks_for_help).parse_known_args(argv)
    if first.command is None:
        # Bare `stylecam`: parsed again as the command it stands for, so that the command gets all
        # of its own defaults (the webcam's save folder, capture settings, ...) and the options
        # given before it.
        command = start_command()
        argv = [*argv, command]
    else:
        command = first.command
    args = build_parser(command, describe=False).parse_args(argv)
    args.argv = argv  # the words as given: `train` prints them back as the command that resumes it
    return args


def start_command() -> str:
    """What bare `stylecam` runs: the webcam where a camera and a display are, otherwise the demo (and says why)."""
    from stylecam.webcam import camera_present, display_problem

    if display_problem() is None and camera_present(0):
        return "webcam"
    print("stylecam: no camera or no display here, so running the demo (`stylecam --help` lists the commands)", file=sys.stderr)
    return "demo"


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, systemd, docker stop), unwound like Ctrl-C so that every writer cleans up."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


def complete() -> None:
    """Shell completion (argcomplete): the shell runs stylecam with _ARGCOMPLETE set at each Tab;
    the answer needs every command's options, so all are built, then argcomplete exits."""
    import argcomplete

    argcomplete.autocomplete(build_parser(every=True))


def main(argv: list[str] | None = None) -> int:
    quiet_native_logs()  # the CLI's one-line errors: before anything imports cv2
    report_on_stderr(PROG)
    if "_ARGCOMPLETE" in os.environ:
        complete()
    argv = sys.argv[1:] if argv is None else argv
    args = argparse.Namespace(debug="--debug" in argv)
    previous = _install_sigterm_handler()
    try:
        args = parse(argv)
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
