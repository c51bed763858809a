"""Gram matrix and the scale-free style, content and total-variation losses.

Style and content errors are divided by the energy of their targets, so each term is a
relative error near 1 for an untrained network whatever the loss network's activation scale
(torchvision's VGG16 and the shared stand-in differ by a constant factor per layer). The
loss weights then mean the same thing for every layer and every VGG file.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from stylecam_train.layers import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, parse_layer_weights  # noqa: F401  (importers find them here too)

# Only guards a division by an exact zero (a black photo); any larger constant would break the
# invariance to the activation scale that the relative losses exist for.
_EPS = torch.finfo(torch.float32).tiny


def gram(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C): F Fᵀ / (C·H·W), in float32 whatever the autocast dtype."""
    batch, channels, height, width = features.shape
    with torch.autocast(device_type=features.device.type, enabled=False):
        flat = features.float().reshape(batch, channels, height * width)  # (B, C, HW)
        return torch.bmm(flat, flat.transpose(1, 2)).div(channels * height * width)


def relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample ||value - target||² / ||target||², averaged over the batch; target broadcasts."""
    value, target = value.float(), target.float()
    dims = tuple(range(1, value.dim()))
    error = (value - target).pow(2).sum(dim=dims)  # (B,)
    energy = target.pow(2).sum(dim=tuple(range(1, target.dim())))  # (B,) or (1,)
    return error.div(energy + _EPS).mean()


def style_loss(
    output_features: Mapping[str, torch.Tensor],
    style_grams: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
) -> torch.Tensor:
    """Σ_layers weight · relative Gram error; style_grams are (1, C, C) targets."""
    terms = [weight * relative_error(gram(output_features[name]), style_grams[name]) for name, weight in layer_weights.items()]
    return torch.stack(terms).sum()


def content_loss(
    output_features: Mapping[str, torch.Tensor],
    input_features: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
) -> torch.Tensor:
    """Σ_layers weight · ||F(out) - F(in)||² / ||F(in)||²."""
    terms = [weight * relative_error(output_features[name], input_features[name]) for name, weight in layer_weights.items()]
    return torch.stack(terms).sum()


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> mean absolute difference between neighbouring pixels (L1: keeps edges sharp)."""
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    return dx + dy
