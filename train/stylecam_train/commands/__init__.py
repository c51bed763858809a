"""The recipe's commands (train, paint, distill, bench-train), found through the ``stylecam.commands`` entry points."""
