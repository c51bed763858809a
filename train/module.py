"""LightningModule of the recipe: TransformerNet trained against a frozen VGG16.

The VGG is not a registered submodule: it is frozen, 15M parameters the style file does not
need, and a checkpoint that carried it would be ten times bigger. It is moved to the module's
device in ``on_fit_start``; the style Gram targets are non-persistent buffers computed there,
so a resumed run recomputes them from the style image instead of trusting stale tensors.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import pytorch_lightning as pl
import torch

from stylecam.model import TransformerNet
from stylecam.train.config import TrainConfig
from stylecam.train.errors import TrainingInputError
from stylecam.train.images import load_style_image
from stylecam.train.losses import content_loss, gram, style_loss, total_variation
from stylecam.train.temporal import stability_losses
from stylecam.train.vgg import VGGFeatures, load_vgg
from stylecam.weights import load_style

__all__ = ["StyleTransferModule", "TrainConfig", "load_style_image"]


class StyleTransferModule(pl.LightningModule):
    def __init__(self, config: TrainConfig | dict[str, Any] | None = None, vgg: VGGFeatures | None = None):
        super().__init__()
        if config is None:
            config = TrainConfig()
        elif isinstance(config, dict):
            config = TrainConfig.from_dict(config)
        self.config = config
        # As a plain dict, so checkpoints load with weights_only and carry every setting.
        self.save_hyperparameters({"config": config.to_dict()})
        self.transformer = TransformerNet(width=config.width)
        # Stored in __dict__, not as a submodule: kept out of state_dict, optimiser and checkpoints.
        self.__dict__["_vgg"] = vgg
        self._style_layers = list(config.style_layers)
        self._feature_layers = list(dict.fromkeys([*config.style_layers, *config.content_layers]))
        self._grad_norm_average: torch.Tensor | None = None  # running gradient norm, for clipping

    @property
    def vgg(self) -> VGGFeatures:
        if self.__dict__["_vgg"] is None:  # loaded on first use: exporting a checkpoint needs no VGG
            self.__dict__["_vgg"] = load_vgg(self.config.vgg_weights)
        return self.__dict__["_vgg"]

    def forward(self, photos: torch.Tensor) -> torch.Tensor:
        return self.transformer(photos)

    # ---- targets -------------------------------------------------------------------------
    def on_fit_start(self) -> None:
        self.prepare_loss_network(self.device)

    def prepare_loss_network(self, device: torch.device) -> None:
        """Move the VGG to device and compute the style Gram targets there."""
        vgg = self.vgg.to(device)
        if self.config.channels_last and device.type == "cuda":
            vgg.to(memory_format=torch.channels_last)
        style = load_style_image(self.config.style_image, self.config.style_size).to(device)
        with torch.no_grad():
            features = vgg(style, self._style_layers)
        for name in self._style_layers:
            # Non-persistent: derived from the style image and the VGG, never from training.
            self.register_buffer(_gram_buffer(name), gram(features[name]), persistent=False)

    def style_grams(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, _gram_buffer(name)) for name in self._style_layers}

    # ---- training ------------------------------------------------------------------------
    def compute_losses(self, photos: torch.Tensor) -> dict[str, torch.Tensor]:
        """photos (B, 3, H, W) in [0, 1] -> the weighted loss terms and their sum."""
        config = self.config
        stylized = self.transformer(photos)  # (B, 3, H, W)
        vgg_input, vgg_photos = stylized, photos
        if config.channels_last and photos.device.type == "cuda":
            vgg_input = stylized.contiguous(memory_format=torch.channels_last)
            vgg_photos = photos.contiguous(memory_format=torch.channels_last)
        output_features = self.vgg(vgg_input, self._feature_layers)
        with torch.no_grad():
            input_features = self.vgg(vgg_photos, config.content_layers)
        style = config.style_weight * style_loss(output_features, self.style_grams(), config.style_layers)
        content = config.content_weight * content_loss(output_features, input_features, config.content_layers)
        tv = config.tv_weight * total_variation(stylized.float())
        losses = {"style": style, "content": content, "tv": tv}
        if config.temporal_weight > 0 or config.noise_weight > 0:
            stability = stability_losses(
                self.transformer, photos, stylized, motion=config.temporal_weight > 0, noise=config.noise_weight > 0
            )
            weights = {"temporal": config.temporal_weight, "noise": config.noise_weight}
            losses.update({name: weights[name] * value for name, value in stability.items()})
        return {"loss": sum(losses.values()), **losses}

    def load_initial_weights(self) -> None:
        """Start the transformer from the style file config.init_from (fine-tuning); its width must be the config's."""
        style, network = load_style(self.config.init_from)
        if network.width != self.config.width:
            raise TrainingInputError(f"style {style.path} has width {network.width}, the run is set to width {self.config.width}")
        try:
            self.transformer.load_state_dict(network.state_dict())
        except RuntimeError as error:  # another layout of the network (a future variant)
            raise TrainingInputError(f"style {style.path} does not fit the network of this run ({str(error).splitlines()[0]})") from error

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        photos = batch.float().div(255) if batch.dtype == torch.uint8 else batch  # uint8 travels, float trains
        losses = self.compute_losses(photos)
        # Tensors, not .item(): Lightning reads them only when it logs, so no host sync per step.
        self.log("loss", losses["loss"], prog_bar=True)
        self.log_dict({f"loss/{key}": value.detach() for key, value in losses.items() if key != "loss"})
        return losses["loss"]

    def configure_gradient_clipping(self, optimizer: torch.optim.Optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """Cap the gradient norm at config.grad_clip times its running average (on the device: no host sync)."""
        factor = self.config.grad_clip
        if not factor:
            return
        grads = [p.grad for p in self.transformer.parameters() if p.grad is not None]
        norm = torch.nn.utils.get_total_norm(grads).float()
        average = self._grad_norm_average
        if average is None:  # the first step (or the first after a resume) sets the scale
            self._grad_norm_average = norm.detach().clone()
            return
        cap = factor * average
        scale = torch.clamp(cap / (norm + 1e-12), max=1.0)
        torch._foreach_mul_(grads, scale.to(grads[0].dtype))
        # Non-finite norms are left to the divergence guard; they must not poison the average.
        clipped = torch.where(torch.isfinite(norm), torch.minimum(norm, cap), average)
        self._grad_norm_average = 0.98 * average + 0.02 * clipped

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = torch.optim.Adam(self.transformer.parameters(), lr=self.config.lr)
        total = self.trainer.estimated_stepping_batches if self._trainer is not None else math.inf
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, partial(lr_factor, config=self.config, total_steps=total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    @torch.no_grad()
    def stylize(self, photos: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> stylized, clamped to [0, 1]; eval mode only for the call."""
        was_training = self.transformer.training
        self.transformer.eval()
        try:
            return self.transformer(photos.to(self.device, torch.float32)).clamp(0, 1)
        finally:
            self.transformer.train(was_training)


def lr_factor(step: int, config: TrainConfig, total_steps: float) -> float:
    """Multiplier of the learning rate at step: linear warm-up, then cosine down to lr_final_fraction.

    A run without a step limit (total_steps infinite) keeps the full rate after the warm-up.
    """
    warmup = max(1, config.lr_warmup_steps)
    if step < warmup:
        return (step + 1) / warmup
    if not math.isfinite(total_steps) or total_steps <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / (total_steps - warmup))
    floor = config.lr_final_fraction
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def _gram_buffer(layer: str) -> str:
    return f"style_gram_{layer}"
