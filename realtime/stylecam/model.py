"""The feed-forward transformer network of Johnson et al. 2016.

Layout as in the classic implementations (pytorch/examples fast_neural_style,
jcjohnson/fast-neural-style): 9x9 conv, two stride-2 convs, five residual blocks,
two nearest-upsample convs, 9x9 conv; reflection padding and instance norm throughout.

The painter network (Dumoulin, Shlens and Kudlur 2017, "A Learned Representation for Artistic
Style") is the same network with conditional instance norm: every convolution is shared by all
its styles, and a style is only a scale and a shift per channel of each instance norm, its
*style code*. ``TransformerNet(styles=N)`` holds a table of N codes; a forward pass picks one per
sample (an index) or mixes several (a row of weights: a blend). ``styles=0`` is the classic
one-style network, whose norms are plain ``InstanceNorm2d(affine=True)`` with the same keys, so
every single-style file loads unchanged. A painter network with one code chosen
(``with_code``) is such a one-style network, which is what the runtime runs.

Convention: RGB in [0, 1] in, RGB in roughly [0, 1] out (callers clamp for display).
Any frame size works: the input is reflection-padded to a multiple of 4 and the
output is cropped back, so a 641x479 frame comes out 641x479.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from stylecam.choices import DEFAULT_WIDTH  # the first layer's channels: an option's default, so with the names options offer

ARCHITECTURE = "johnson2016"
DEFAULT_BLOCKS = 5  # residual blocks at quarter resolution (the classic network)
DEFAULT_EDGE_KERNEL = 9  # side of the first and last convolutions, which run at full resolution
MIN_SIDE = 16  # below this the 9x9 reflection pads of the downsampled maps do not fit
_STRIDE = 4  # two stride-2 convs: sizes must be multiples of 4 to come back exactly


class ConvLayer(nn.Module):
    """Reflection pad + conv: no zero border, so frame edges are not darkened."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


# Which style each sample of a batch is painted in: None (the network's only style, or code 0),
# a (B,) tensor of style indices, or a (B, styles) tensor of mixing weights (rows summing to 1).
StyleChoice = torch.Tensor | None
_EPS = 1e-5  # InstanceNorm2d's own, so a one-style network computes exactly what the classic one did


class StyleNorm(nn.Module):
    """Instance norm with a learned scale and shift per channel: one pair (styles=0) or a table of them.

    The parameters keep InstanceNorm2d's names (``weight``, ``bias``), (C,) for one style and
    (styles, C) for a table, so a classic network's state dict loads into ``styles=0`` as it is.
    """

    def __init__(self, channels: int, styles: int = 0):
        super().__init__()
        shape = (styles, channels) if styles else (channels,)
        self.styles = styles
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor, style: StyleChoice = None) -> torch.Tensor:
        if not self.styles:
            return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=_EPS)
        if style is None:  # code 0: what a table of one holds
            return F.instance_norm(x, weight=self.weight[0], bias=self.bias[0], eps=_EPS)
        if style.dim() == 1:  # (B,) indices
            scale, shift = self.weight[style], self.bias[style]  # (B, C)
        else:  # (B, styles) mixing weights: a blend mixes the codes, not the pictures
            weights = style.to(self.weight.dtype)
            scale, shift = weights @ self.weight, weights @ self.bias  # (B, C)
        # Instance norm with a scale and shift per sample and channel is a group norm of the batch
        # folded into channels (one group per sample's channel): one fused kernel, where a plain
        # instance norm followed by the affine took 1.7x as long (forward and backward, on a CPU).
        batch, channels, height, width = x.shape
        folded = F.group_norm(x.reshape(1, batch * channels, height, width), batch * channels, scale.reshape(-1), shift.reshape(-1), _EPS)
        return folded.reshape(batch, channels, height, width)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, styles: int = 0):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.in1 = StyleNorm(channels, styles)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.in2 = StyleNorm(channels, styles)

    def forward(self, x: torch.Tensor, style: StyleChoice = None) -> torch.Tensor:
        y = F.relu(self.in1(self.conv1(x), style))
        return x + self.in2(self.conv2(y), style)


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour upsampling then conv: avoids the checkerboard of transposed convs."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, upsample: int = 2):
        super().__init__()
        self.upsample = upsample
        self.conv = ConvLayer(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=self.upsample, mode="nearest"))


class TransformerNet(nn.Module):
    """Image transformation network.

    ``width`` scales every layer (32 is the classic net), ``blocks`` is the number of residual
    blocks and ``edge_kernel`` the side of the first and last convolutions (9 classic). The
    defaults are Johnson et al.'s network; smaller values make the fast variants for the CPU.
    ``styles`` is the number of style codes of a painter network (0: one style, the classic layout).
    """

    def __init__(self, width: int = DEFAULT_WIDTH, blocks: int = DEFAULT_BLOCKS, edge_kernel: int = DEFAULT_EDGE_KERNEL, styles: int = 0):
        super().__init__()
        if width < 4:
            raise ValueError(f"width must be at least 4, got {width}")
        if blocks < 0:
            raise ValueError(f"blocks must be 0 or more, got {blocks}")
        if edge_kernel < 1 or edge_kernel % 2 == 0:
            raise ValueError(f"edge_kernel must be an odd number of at least 1, got {edge_kernel}")
        if styles < 0:
            raise ValueError(f"styles must be 0 (one style) or more, got {styles}")
        self.styles = styles
        self.width = width
        self.blocks = blocks
        self.edge_kernel = edge_kernel
        w1, w2, w3 = width, width * 2, width * 4
        self.conv1 = ConvLayer(3, w1, edge_kernel)
        self.in1 = StyleNorm(w1, styles)
        self.conv2 = ConvLayer(w1, w2, 3, stride=2)
        self.in2 = StyleNorm(w2, styles)
        self.conv3 = ConvLayer(w2, w3, 3, stride=2)
        self.in3 = StyleNorm(w3, styles)
        # A ModuleList, not a Sequential, since each block takes the style too (same state-dict keys).
        self.residuals = nn.ModuleList(ResidualBlock(w3, styles) for _ in range(blocks))
        self.deconv1 = UpsampleConvLayer(w3, w2, 3)
        self.in4 = StyleNorm(w2, styles)
        self.deconv2 = UpsampleConvLayer(w2, w1, 3)
        self.in5 = StyleNorm(w1, styles)
        self.deconv3 = ConvLayer(w1, 3, edge_kernel)

    def forward(self, x: torch.Tensor, style: StyleChoice = None) -> torch.Tensor:
        # x: (B, 3, H, W) RGB in [0, 1]
        height, width = x.shape[-2:]
        return self.body(pad_to_stride(x), style)[..., :height, :width]

    # ---- style codes ---------------------------------------------------------------------
    def code_keys(self) -> list[str]:
        """The state-dict keys of the style code: every norm's weight and bias."""
        return [f"{name}.{param}" for name, module in self.named_modules() if isinstance(module, StyleNorm) for param in ("weight", "bias")]

    def style_code(self, index: int = 0) -> dict[str, torch.Tensor]:
        """One style's code, {key: (C,)}: the whole norm parameters of a one-style network, a row of a painter's table."""
        state = self.state_dict()
        if not self.styles:
            return {key: state[key].detach().clone() for key in self.code_keys()}
        if not 0 <= index < self.styles:
            raise IndexError(f"style index {index} is outside the network's {self.styles} styles")
        return {key: state[key][index].detach().clone() for key in self.code_keys()}

    def shared_state(self) -> dict[str, torch.Tensor]:
        """Everything but the style codes: the convolutions all styles share."""
        codes = set(self.code_keys())
        return {key: value for key, value in self.state_dict().items() if key not in codes}

    def with_code(self, code: dict[str, torch.Tensor]) -> TransformerNet:
        """A one-style network (styles=0) with this network's convolutions and the given code."""
        single = TransformerNet(width=self.width, blocks=self.blocks, edge_kernel=self.edge_kernel)
        single.load_state_dict({**self.shared_state(), **code}, strict=True)
        return single.to(next(self.parameters()).device)

    def freeze_shared(self) -> TransformerNet:
        """Only the style code left trainable (a code fit, a code distillation); returns self."""
        codes = set(self.code_keys())
        for key, parameter in self.named_parameters():
            parameter.requires_grad_(key in codes)
        return self

    def with_codes(self, codes: list[dict[str, torch.Tensor]]) -> TransformerNet:
        """A painter network of len(codes) styles with this network's convolutions and these codes, in this order."""
        painter = TransformerNet(width=self.width, blocks=self.blocks, edge_kernel=self.edge_kernel, styles=len(codes))
        table = {key: torch.stack([code[key] for code in codes]) for key in painter.code_keys()}
        painter.load_state_dict({**self.shared_state(), **table}, strict=True)
        return painter.to(next(self.parameters()).device)

    def body(self, x: torch.Tensor, style: StyleChoice = None) -> torch.Tensor:
        """The layers alone, on sides that are multiples of 4 (no padding, no crop).

        What an exporter should trace: the padding of ``forward`` depends on the frame's size, and
        a graph traced at one size would replay that size's padding at every other.
        """
        y = F.relu(self.in1(self.conv1(x), style))
        y = F.relu(self.in2(self.conv2(y), style))  # (B, 2w, H/2, W/2)
        y = F.relu(self.in3(self.conv3(y), style))  # (B, 4w, H/4, W/4)
        for block in self.residuals:
            y = block(y, style)
        y = F.relu(self.in4(self.deconv1(y), style))  # (B, 2w, H/2, W/2)
        y = F.relu(self.in5(self.deconv2(y), style))  # (B, w, H, W)
        return self.deconv3(y)  # (B, 3, H, W)


def pad_to_stride(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> reflection-padded at the bottom and right to sides that are multiples of 4."""
    height, width = x.shape[-2:]
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"frames must be at least {MIN_SIDE}x{MIN_SIDE} pixels, got {width}x{height}")
    pad_h = (-height) % _STRIDE
    pad_w = (-width) % _STRIDE
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect") if pad_h or pad_w else x


def mix_codes(codes: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, torch.Tensor]:
    """The weighted sum of style codes of one network (weights normalised to sum 1): a blend of styles."""
    total = float(sum(weights))
    if not codes or len(codes) != len(weights) or total <= 0 or any(w < 0 for w in weights):
        raise ValueError("a blend needs one non-negative weight per style code and a positive sum")
    return {key: sum(code[key] * (weight / total) for code, weight in zip(codes, weights, strict=True)) for key in codes[0]}
