"""What a recipe command checks before it imports the modules that need an optional extra."""

from __future__ import annotations

import importlib.util


def require_lightning(command: str) -> None:
    """Raise a one-line error if PyTorch Lightning is not installed.

    Lightning is the optional extra ``stylecam[train]``: a plain install leaves it out, and
    without this check the user would see a ModuleNotFoundError traceback from deep inside
    the recipe. find_spec looks without importing, so the check costs nothing.
    """
    if importlib.util.find_spec("pytorch_lightning") is None:
        from stylecam_train.errors import MissingExtraError

        raise MissingExtraError(f"stylecam {command} needs PyTorch Lightning, which this install leaves out: pip install 'stylecam[train]'")
