"""The frozen VGG16 loss network, its layers named by meaning (``relu2_2``).

Weights are injected: ``None`` means torchvision's ImageNet weights (downloaded to the torch
cache on first use, as torchvision users expect), a path means a file holding the state_dict
of ``torchvision.models.vgg16().features``, and ``RANDOM`` a random initialisation (tests;
no download, no file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from stylecam.files import CheckpointError, read_checkpoint
from stylecam_train.errors import TrainingInputError
from stylecam_train.layers import LAYER_INDEX, LAYER_NAMES, check_layers  # noqa: F401  (importers find them here too)

RANDOM = "random"
# The input convention of torchvision's ImageNet weights (and of the shared stand-in file).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """VGG16 up to relu5_3, frozen; forward returns the requested layers' activations.

    Input: RGB in [0, 1], (B, 3, H, W); ImageNet normalisation happens inside so callers
    pass the same tensors the transformer sees.
    """

    def __init__(self, features: nn.Sequential):
        super().__init__()
        layers = list(features.children())[: LAYER_INDEX["relu5_3"] + 1]
        for layer in layers:
            # torchvision's in-place ReLUs would overwrite activations that a loss still needs.
            if isinstance(layer, nn.ReLU):
                layer.inplace = False
        self.layers = nn.ModuleList(layers)
        # Non-persistent: constants of the convention, not weights; kept out of checkpoints.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGFeatures:
        # Always eval: a frozen loss network has no train-time behaviour to switch on.
        return super().train(False)

    def forward(self, images: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        wanted = {LAYER_INDEX[name]: name for name in check_layers(layers)}
        if not wanted:
            return {}
        deepest = max(wanted)
        x = images.sub(self.mean).div(self.std)  # (B, 3, H, W), not in place: the caller keeps its input
        found: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(self.layers[: deepest + 1]):  # stop at the deepest requested layer
            x = layer(x)
            if index in wanted:
                found[wanted[index]] = x  # (B, C, H / 2^k, W / 2^k)
        return found


def _torchvision_features(weights=None) -> nn.Sequential:
    from torchvision.models import vgg16

    return vgg16(weights=weights).features


def load_vgg(weights: str | os.PathLike[str] | nn.Module | None = None) -> VGGFeatures:
    """The loss network from torchvision's ImageNet weights (None), a file, RANDOM, or a features module."""
    if isinstance(weights, VGGFeatures):
        return weights
    if isinstance(weights, nn.Module):
        return VGGFeatures(weights)
    if weights is None:
        from torchvision.models import VGG16_Weights

        try:
            return VGGFeatures(_torchvision_features(VGG16_Weights.IMAGENET1K_V1))
        except (OSError, RuntimeError) as error:  # URLError is an OSError; a cut download, a RuntimeError
            raise TrainingInputError(
                f"torchvision's ImageNet VGG16 weights cannot be downloaded ({error}); offline, give --vgg-weights FILE"
            ) from error
    if str(weights) == RANDOM:
        return VGGFeatures(_torchvision_features(None))
    return VGGFeatures(_features_from_file(Path(weights)))


def _features_from_file(path: Path) -> nn.Sequential:
    if not path.is_file():
        raise TrainingInputError(f"VGG weights file {path} does not exist")
    try:
        state = read_checkpoint(path)  # the one loader of .pth files: tensors only, no code runs
    except CheckpointError as error:
        raise TrainingInputError(f"VGG weights file {path} {error.problem}") from error
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise TrainingInputError(f"VGG weights file {path} does not hold a state_dict of tensors")
    features = _torchvision_features(None)
    expected = features.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    wrong = [key for key in expected if key in state and state[key].shape != expected[key].shape]
    if missing or unexpected or wrong:
        found = ", ".join(
            f"{len(keys)} {what}" for keys, what in ((missing, "missing"), (unexpected, "unexpected"), (wrong, "of another shape")) if keys
        )
        raise TrainingInputError(f"VGG weights file {path} is not a state_dict of torchvision vgg16().features (tensors: {found})")
    features.load_state_dict({key: value.float() for key, value in state.items()}, strict=True)  # the shared file is fp16
    return features
