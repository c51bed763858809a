"""`stylecam paint`: one photo painted by optimising its pixels (stylecam_train.paint), imported only when this command runs.

Standard library only at the top: `stylecam --help` imports every command module to list them.
No Lightning: paint is a plain optimisation loop, so it works on an install without stylecam[train].
"""

from __future__ import annotations

import argparse

HELP = "paint one photo in the style of any painting, no training (see `stylecam paint --help`)"
DESCRIPTION = "Paint one photo in the style of a painting by optimising its pixels (Gatys et al.); no training."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from stylecam_train.paint_settings import add_arguments as add_paint_arguments

    add_paint_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from stylecam_train.paint import run as paint

    return paint(args)
