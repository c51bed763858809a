"""Argument types and the error-as-one-line parser that every stylecam command uses, the
runtime's and the recipe's alike. Standard library only: `stylecam --help` imports this."""

from __future__ import annotations

import argparse
import math

PROG = "stylecam"
EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line like every other stylecam error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def number_text(value: float) -> str:
    """A bound as people write it: 4294967295 and 1000000, not 4.29497e+09; 1e-08 and 0.5 as %g writes them."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e16 else f"{value:g}"


def limits_text(low: float, high: float, above: bool = False) -> str:
    """Bounds as help texts and errors say them: "1 to 10000", "above 0 and at most 4"."""
    return f"above {number_text(low)} and at most {number_text(high)}" if above else f"{number_text(low)} to {number_text(high)}"


def bounded(kind: type, low: float | None = None, high: float | None = None, *, above: bool = False):
    """An argparse type: a finite ``kind`` (int or float) of at least ``low`` (above it if ``above``) and at most ``high``."""
    noun = "a whole number" if kind is int else "a number"
    if low is not None and high is not None:
        wanted = f"{noun} {limits_text(low, high, above) if above else 'from ' + limits_text(low, high)}"
    elif low is not None:
        wanted = f"{noun} {'above' if above else 'of at least'} {number_text(low)}"
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

    parse.__name__ = kind.__name__  # argparse names the type in some of its messages
    return parse


positive_int = bounded(int, 1)
non_negative_int = bounded(int, 0)


MAX_FRAME_SIDE = 8192  # 8K is 7680x4320; a frame this size is already 200 MB of uint8 RGB


def frame_size(text: str) -> tuple[int, int]:
    """WxH, such as 1920x1080, each side from 16 to MAX_FRAME_SIDE."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1920x1080, got '{text}'") from error
    if not (16 <= width <= MAX_FRAME_SIDE and 16 <= height <= MAX_FRAME_SIDE):
        raise argparse.ArgumentTypeError(f"width and height must be from 16 to {MAX_FRAME_SIDE}, got {text}")
    return width, height


def name_list(text: str) -> list[str]:
    """NAME[,NAME...], lower-cased."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected names separated by commas, got '{text}'")
    return names


def seconds_list(text: str) -> list[float]:
    """SECONDS[,SECONDS...], each 0 or more."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected seconds such as 20 or 20,60, got '{text}'") from error
    if not values or not all(math.isfinite(value) and value >= 0 for value in values):
        raise argparse.ArgumentTypeError(f"expected seconds of 0 or more, got '{text}'")
    return values


def debug_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors")
