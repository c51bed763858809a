"""`stylecam train`: the recipe's trainer (stylecam_train.cli), imported only when this command runs.

Standard library only at the top: `stylecam --help` imports every command module to list them.
"""

from __future__ import annotations

import argparse

HELP = "train a new style from a painting (see `stylecam train --help`)"
DESCRIPTION = "Train a style network from a painting and a folder of photos."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # stylecam_train.cli brings torch but not Lightning, so `stylecam train --help` works on a
    # plain install too and lists the options before the user installs the extra.
    from stylecam_train.cli import add_arguments as add_train_arguments

    add_train_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from stylecam_train.commands._requires import require_lightning

    require_lightning("train")  # --export-from needs it too: a checkpoint loads into the LightningModule
    from stylecam_train.cli import run as train

    return train(args)
