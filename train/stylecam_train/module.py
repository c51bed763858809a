"""LightningModule of the recipe: TransformerNet trained against a frozen VGG16.

The VGG is not a registered submodule: it is frozen, 15M parameters the style file does not
need, and a checkpoint that carried it would be ten times bigger. It is moved to the module's
device in ``on_fit_start``; the style Gram targets are non-persistent buffers computed there,
so a resumed run recomputes them from the style image instead of trusting stale tensors.

With several paintings the transformer is a painter network (conditional instance norm, one
style code per painting) and every batch mixes styles: sample i of step t is painted in style
(t * batch + i) mod styles, so each style gets an equal share of the steps and every step
trains the shared convolutions on several paintings at once.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from stylecam.model import TransformerNet
from stylecam.weights import is_painter_network_file, load_style
from stylecam_train.config import TrainConfig
from stylecam_train.errors import TrainingInputError
from stylecam_train.images import load_style_image
from stylecam_train.losses import content_loss, gram, style_loss, total_variation
from stylecam_train.schedule import lr_factor
from stylecam_train.temporal import stability_losses
from stylecam_train.vgg import VGGFeatures, load_vgg

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
        if config.network:
            self.transformer = code_fit_network(Path(config.network), Path(config.init_from) if config.init_from else None)
        else:
            self.transformer = TransformerNet(width=config.width, styles=len(config.style_image) if config.painter else 0)
        # Stored in __dict__, not as a submodule: kept out of state_dict, optimiser and checkpoints.
        self.__dict__["_vgg"] = vgg
        self._style_layers = list(config.style_layers)
        self._feature_layers = list(dict.fromkeys([*config.style_layers, *config.content_layers]))
        self._grad_norm_average: torch.Tensor | None = None  # running gradient norm, for clipping
        # The settings of each earlier span of steps of a resumed run, oldest first:
        # {"steps": [first, last], "settings": {what differed from this run's}}; exported with the style.
        self.spans: list[dict[str, Any]] = []
        self._resumed_at = 0

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["stylecam_spans"] = self.spans
        checkpoint["stylecam_span_start"] = self._resumed_at

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A resumed run: what the steps so far used becomes a span of its own where it differs from now."""
        earlier = list(checkpoint.get("stylecam_spans", []))
        before = checkpoint.get("hyper_parameters", {}).get("config", {})
        now = self.config.to_dict()
        steps = int(checkpoint.get("global_step", 0))
        differed = {key: value for key, value in before.items() if now.get(key) != value}
        start = int(checkpoint.get("stylecam_span_start", 0))
        if differed and steps > start:
            earlier.append({"steps": [start + 1, steps], "settings": differed})
        self.spans = earlier
        self._resumed_at = steps if differed else start

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
        grams: dict[str, list[torch.Tensor]] = {name: [] for name in self._style_layers}
        for path in self.config.style_image:  # one painting at a time: they differ in size
            painting = load_style_image(path, self.config.style_size).to(device)
            with torch.no_grad():
                features = vgg(painting, self._style_layers)
            for name in self._style_layers:
                grams[name].append(gram(features[name]))  # (1, C, C)
        for name in self._style_layers:
            # Non-persistent: derived from the style images and the VGG, never from training.
            # (styles, C, C): row s is painting s's target.
            self.register_buffer(_gram_buffer(name), torch.cat(grams[name]), persistent=False)

    def style_grams(self, style: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Each layer's Gram target: (1, C, C) for a one-style run, (B, C, C) picked by the style indices."""
        if style is None:
            return {name: getattr(self, _gram_buffer(name))[:1] for name in self._style_layers}
        return {name: getattr(self, _gram_buffer(name))[style] for name in self._style_layers}

    def batch_styles(self, batch_size: int, step: int) -> torch.Tensor | None:
        """(B,) style indices of a painter run's batch at step (round robin: equal shares); None for one style."""
        styles = self.transformer.styles
        if not styles:
            return None
        return (torch.arange(batch_size, device=self.device) + step * batch_size) % styles

    # ---- training ------------------------------------------------------------------------
    def compute_losses(self, photos: torch.Tensor, style: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """photos (B, 3, H, W) in [0, 1] (and a painter's (B,) style indices) -> the weighted loss terms and their sum."""
        config = self.config
        stylized = self.transformer(photos, style)  # (B, 3, H, W)
        vgg_input, vgg_photos = stylized, photos
        if config.channels_last and photos.device.type == "cuda":
            vgg_input = stylized.contiguous(memory_format=torch.channels_last)
            vgg_photos = photos.contiguous(memory_format=torch.channels_last)
        output_features = self.vgg(vgg_input, self._feature_layers)
        with torch.no_grad():
            input_features = self.vgg(vgg_photos, config.content_layers)
        style_term = config.style_weight * style_loss(output_features, self.style_grams(style), config.style_layers)
        content = config.content_weight * content_loss(output_features, input_features, config.content_layers)
        tv = config.tv_weight * total_variation(stylized.float())
        losses = {"style": style_term, "content": content, "tv": tv}
        if config.temporal_weight > 0 or config.noise_weight > 0:
            stability = stability_losses(
                self.transformer, photos, stylized, style=style, motion=config.temporal_weight > 0, noise=config.noise_weight > 0
            )
            weights = {"temporal": config.temporal_weight, "noise": config.noise_weight}
            losses.update({name: weights[name] * value for name, value in stability.items()})
        return {"loss": sum(losses.values()), **losses}

    def load_initial_weights(self) -> None:
        """Start the transformer from config.init_from (fine-tuning); its width must be the config's.

        A one-style file starting a painter run gives its convolutions to the shared part and its
        code to every style (a working painter of one style, which the styles then leave); a
        painter network file gives its convolutions and, for each painting of this run, the
        code it trained under the same name.
        """
        from stylecam.weights import load_painter_network

        path = Path(self.config.init_from)
        painter = load_painter_network(path) if is_painter_network_file(path) else None
        if painter is not None:
            network, names = painter
        else:
            _, network = load_style(self.config.init_from)
            names = []
        if network.width != self.config.width:
            raise TrainingInputError(f"style {path} has width {network.width}, the run is set to width {self.config.width}")
        target = self.transformer
        if target.styles:
            codes = [network.style_code(names.index(name)) if name in names else network.style_code(0) for name in self.painting_names()]
            state = network.with_codes(codes).state_dict()
        elif network.styles:
            raise TrainingInputError(f"{path} is a painter network: start a one-style run from one of its styles instead")
        else:
            state = network.state_dict()
        try:
            target.load_state_dict(state)
        except RuntimeError as error:  # another layout of the network (a future variant)
            raise TrainingInputError(f"style {path} does not fit the network of this run ({str(error).splitlines()[0]})") from error

    def painting_names(self) -> list[str]:
        """The style name of each painting of the run: its file name without the suffix."""
        return [Path(path).stem for path in self.config.style_image]

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        photos = batch.float().div(255) if batch.dtype == torch.uint8 else batch  # uint8 travels, float trains
        losses = self.compute_losses(photos, self.batch_styles(len(photos), self.global_step))
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
        # Only what learns: a code fit's frozen convolutions have no gradient and need no Adam state.
        trainable = [parameter for parameter in self.transformer.parameters() if parameter.requires_grad]
        optimizer = torch.optim.Adam(trainable, lr=self.config.lr)
        total = self.trainer.estimated_stepping_batches if self._trainer is not None else math.inf
        # max(1, ...): the schedule runs have always had; with no warm-up asked for, step 0 gets the full rate.
        factor = partial(lr_factor, total=total, final_fraction=self.config.lr_final_fraction, warmup=max(1, self.config.lr_warmup_steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    @torch.no_grad()
    def stylize(self, photos: torch.Tensor, style: int | None = None) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> stylized (in a painter's style index ``style``), clamped to [0, 1]; eval mode only for the call."""
        was_training = self.transformer.training
        self.transformer.eval()
        photos = photos.to(self.device, torch.float32)
        choice = None if style is None else torch.full((len(photos),), style, dtype=torch.long, device=self.device)
        try:
            return self.transformer(photos, choice).clamp(0, 1)
        finally:
            self.transformer.train(was_training)


def code_fit_network(path: Path, init_code: Path | None = None) -> TransformerNet:
    """A one-style network on a painter network's frozen convolutions, its code (the only trainable part)
    at ``init_code``'s code (a style file of this network) or else at the mean of the network's codes.

    The mean code starts from the middle of the styles the network knows, neither of them in
    particular; the shared part never changes, so the fitted code runs on the file it names.
    """
    from stylecam.model import mix_codes
    from stylecam.weights import load_painter_network, load_style

    if init_code is not None:
        # load_style puts the code on the network it names (the CLI checked that this is ``path``):
        # the painter network is read once, not a second time here.
        style, single = load_style(init_code)
        if style.code is None:
            raise TrainingInputError(f"{init_code} is a whole network, not a style code of {path.name}")
        return single.freeze_shared().train()
    painter, names = load_painter_network(path)
    code = mix_codes([painter.style_code(index) for index in range(len(names))], [1.0] * len(names))
    return painter.with_code(code).freeze_shared().train()


def _gram_buffer(layer: str) -> str:
    return f"style_gram_{layer}"
