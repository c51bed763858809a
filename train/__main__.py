"""``python -m train``: the same as ``stylecam train``."""

from __future__ import annotations

import argparse
import sys

from train.cli import add_arguments, run
from train.errors import TrainingInputError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description="Train a stylecam style.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (TrainingInputError, OSError) as error:
        print(f"stylecam: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
