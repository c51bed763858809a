"""The one base class of errors a user can cause and fix (bad input, missing device...).

Library code raises subclasses with a message that names the thing and the problem;
only the CLI turns them into ``stylecam: error: ...`` and exit code 2.

The API's own checks raise subclasses that are also the built-in exception a Python caller
expects: ``SettingError`` and ``InputError`` are ValueErrors, ``InputTypeError`` a TypeError.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings


class StylecamError(Exception):
    """An error in what the user asked for, not a bug: reported in one line, no traceback."""


class OutputError(StylecamError):
    """An output that cannot or must not be written; the message names it and says why."""


class SettingError(StylecamError, ValueError):
    """A setting out of its range or not one of its choices (device, precision, back end, scale, strength, channels...)."""


class InputError(StylecamError, ValueError):
    """An image the network cannot take: no pixels, the wrong number of channels, the wrong dtype or shape."""


class InputTypeError(StylecamError, TypeError):
    """Something that is not an image at all (a list, a path as a str): the message says what is taken."""


class StylecamWarning(UserWarning):
    """Something the user should know that does not stop the work (a back end that fell back, a
    short file): the library warns with it; the CLI prints it as one ``stylecam: warning:`` line."""


# What `quiet_native_logs` sets, each only where the user has not set it.
NATIVE_LOG_SETTINGS = {
    "OPENCV_LOG_LEVEL": "SILENT",
    "OPENCV_FFMPEG_LOGLEVEL": "-8",  # AV_LOG_QUIET
}


def quiet_native_logs() -> None:
    """Silence OpenCV's and its FFmpeg's own warnings (a missing camera, a broken file), which they
    print straight to stderr around stylecam's one-line message; the CLI's choice, not the library's.

    Environment variables, read when cv2 is first imported: call this before that (first thing in
    the CLI's ``main()``). A variable the user has set is kept, so setting one shows those warnings.
    Standard library only, so that ``stylecam --help`` stays quick.
    """
    for name, value in NATIVE_LOG_SETTINGS.items():
        os.environ.setdefault(name, value)


def report_on_stderr(prog: str = "stylecam") -> None:
    """The CLI's choice of how the library's reports look: each StylecamWarning as one
    ``stylecam: warning: ...`` line and the ``stylecam`` loggers' INFO and above as
    ``stylecam: ...``, on stderr. The library itself only warns and logs (it configures nothing);
    other libraries' warnings keep Python's own format. Repeated calls change nothing more.
    """
    library = logging.getLogger("stylecam")
    if not any(getattr(handler, "_stylecam_cli", False) for handler in library.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
        handler._stylecam_cli = True  # type: ignore[attr-defined]
        library.addHandler(handler)
        library.setLevel(logging.INFO)
        library.propagate = False
    # Without a CUDA runtime, torch's C++ extension helper logs a warning on every compile:
    # noise on a CPU-only machine, where it is expected.
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    default = warnings.showwarning
    if getattr(default, "_stylecam_cli", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, StylecamWarning):
            print(f"{prog}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    show._stylecam_cli = True  # type: ignore[attr-defined]
    warnings.showwarning = show
