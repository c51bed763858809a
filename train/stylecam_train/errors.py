"""Exceptions of the training recipe.

Each is a StylecamError, so that the stylecam CLI reports it as ``stylecam: error: ...`` and
exit code 2 without a traceback, and a ValueError for callers of the library.
"""

from __future__ import annotations

from stylecam.errors import StylecamError


class TrainingInputError(StylecamError, ValueError):
    """A training input (photo folder, style image, VGG weights, setting) is unusable."""


class UnknownLayerError(TrainingInputError):
    """A loss-network layer name that VGG16 does not have; the message lists the valid names."""


class TrainingDivergedError(StylecamError, RuntimeError):
    """The loss became non-finite or exploded; the message names the step and the weights kept."""


class MissingExtraError(StylecamError):
    """A command needs an optional extra (such as stylecam[train]) that this install leaves out."""
