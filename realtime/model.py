"""The feed-forward transformer network of Johnson et al. 2016.

Layout as in the classic implementations (pytorch/examples fast_neural_style,
jcjohnson/fast-neural-style): 9x9 conv, two stride-2 convs, five residual blocks,
two nearest-upsample convs, 9x9 conv; reflection padding and instance norm throughout.

Convention: RGB in [0, 1] in, RGB in roughly [0, 1] out (callers clamp for display).
Any frame size works: the input is reflection-padded to a multiple of 4 and the
output is cropped back, so a 641x479 frame comes out 641x479.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ARCHITECTURE = "johnson2016"
DEFAULT_WIDTH = 32  # channels of the first layer; 64 and 128 follow (the classic network)
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


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(y))


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
    """

    def __init__(self, width: int = DEFAULT_WIDTH, blocks: int = DEFAULT_BLOCKS, edge_kernel: int = DEFAULT_EDGE_KERNEL):
        super().__init__()
        if width < 4:
            raise ValueError(f"width must be at least 4, got {width}")
        if blocks < 0:
            raise ValueError(f"blocks must be 0 or more, got {blocks}")
        if edge_kernel < 1 or edge_kernel % 2 == 0:
            raise ValueError(f"edge_kernel must be an odd number of at least 1, got {edge_kernel}")
        self.width = width
        self.blocks = blocks
        self.edge_kernel = edge_kernel
        w1, w2, w3 = width, width * 2, width * 4
        self.conv1 = ConvLayer(3, w1, edge_kernel)
        self.in1 = nn.InstanceNorm2d(w1, affine=True)
        self.conv2 = ConvLayer(w1, w2, 3, stride=2)
        self.in2 = nn.InstanceNorm2d(w2, affine=True)
        self.conv3 = ConvLayer(w2, w3, 3, stride=2)
        self.in3 = nn.InstanceNorm2d(w3, affine=True)
        self.residuals = nn.Sequential(*(ResidualBlock(w3) for _ in range(blocks)))
        self.deconv1 = UpsampleConvLayer(w3, w2, 3)
        self.in4 = nn.InstanceNorm2d(w2, affine=True)
        self.deconv2 = UpsampleConvLayer(w2, w1, 3)
        self.in5 = nn.InstanceNorm2d(w1, affine=True)
        self.deconv3 = ConvLayer(w1, 3, edge_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 3, H, W) RGB in [0, 1]
        height, width = x.shape[-2:]
        return self.body(pad_to_stride(x))[..., :height, :width]

    def body(self, x: torch.Tensor) -> torch.Tensor:
        """The layers alone, on sides that are multiples of 4 (no padding, no crop).

        What an exporter should trace: the padding of ``forward`` depends on the frame's size, and
        a graph traced at one size would replay that size's padding at every other.
        """
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))  # (B, 2w, H/2, W/2)
        y = F.relu(self.in3(self.conv3(y)))  # (B, 4w, H/4, W/4)
        y = self.residuals(y)
        y = F.relu(self.in4(self.deconv1(y)))  # (B, 2w, H/2, W/2)
        y = F.relu(self.in5(self.deconv2(y)))  # (B, w, H, W)
        return self.deconv3(y)  # (B, 3, H, W)


def pad_to_stride(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> reflection-padded at the bottom and right to sides that are multiples of 4."""
    height, width = x.shape[-2:]
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"frames must be at least {MIN_SIDE}x{MIN_SIDE} pixels, got {width}x{height}")
    pad_h = (-height) % _STRIDE
    pad_w = (-width) % _STRIDE
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect") if pad_h or pad_w else x
