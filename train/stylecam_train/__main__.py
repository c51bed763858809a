"""``python -m stylecam_train``: the same as ``stylecam train`` (same options, errors and exit codes)."""

import sys

from stylecam.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
