"""`stylecam distill`: a small, fast copy of a style (stylecam_train.distill), imported only when this command runs.

Standard library only at the top: `stylecam --help` imports every command module to list them.
No Lightning: distillation is a plain training loop, so it works on an install without stylecam[train].
"""

from __future__ import annotations

import argparse

HELP = "a small fast copy of a style, or of a painter network with all its styles, for the CPU (see `stylecam distill --help`)"
DESCRIPTION = "Train a small, fast copy of a style (its teacher) for the live CPU path: NAME_fast."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from stylecam_train.distill_settings import add_arguments as add_distill_arguments

    add_distill_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from stylecam_train.distill import run as distill

    return distill(args)
