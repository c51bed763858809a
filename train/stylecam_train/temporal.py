"""Flow-free temporal stability: the network should move with the scene and ignore sensor noise.

A feed-forward style network flickers on video because its output is not equivariant to small
motions (its stride-4 layers and instance norms make a shifted input give a differently
painted output) and because it amplifies the noise of a camera. Both can be trained away on
still photos, without optical flow (the idea of ReCoNet and Ruder et al. — a warped previous
output as target — with the warp made up instead of measured, as in the flow-free single-frame
regularisers of Wang et al. 2020 and Xu et al. 2021):

- motion: a second view of each crop is moved by a small random affine warp; the loss is the
  difference between stylize(warp(x)) and warp(stylize(x)) over the pixels that stay in frame;
- noise: stylize(x + gaussian noise) should equal stylize(x).

Both are mean squared errors in RGB in [0, 1] (not luminance only: colour blotches that change
hue from frame to frame are visible flicker too). Neither side is detached, so both views are
pulled toward each other. The two together cost one more pass of the transformer over the
batch (forward and backward; each term takes half of the batch when both are on), and no VGG
pass.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# The motion between two frames of a hand-held camera or a walking person at the crop's scale:
# a few pixels, a degree or two, a few percent of zoom. The shift is continuous, so sub-pixel
# and non-multiple-of-4 shifts (the ones the stride-4 network paints differently) are drawn.
MAX_SHIFT_PX = 4.0
MAX_DEGREES = 2.0
MAX_ZOOM = 0.03
# Standard deviation of the added noise, in [0, 1] units (5/255): webcam noise in dim rooms and
# the error of a video codec are of this order.
NOISE_STD = 0.02


def motion_theta(
    shift_x: torch.Tensor, shift_y: torch.Tensor, degrees: torch.Tensor, zoom: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """(N,) shifts in pixels, rotations in degrees, zoom factors -> (N, 2, 3) ``affine_grid`` matrices.

    The warp moves image content by (shift_x, shift_y) pixels (right and down), rotates it by
    ``degrees`` about the centre (clockwise as displayed) and magnifies it by ``zoom``. affine_grid works in normalised
    coordinates, which stretch x and y differently on a non-square image, so the motion is made
    in pixels and converted: output pixel p samples the input at M⁻¹(p - c - t) + c.
    """
    angle = torch.deg2rad(degrees.float())
    cos, sin = torch.cos(angle), torch.sin(angle)
    inverse_zoom = 1.0 / zoom.float()
    # Inverse of (rotate by angle, then zoom), in pixel units: rotate by -angle, divide by zoom.
    a, b = cos * inverse_zoom, sin * inverse_zoom
    c, d = -sin * inverse_zoom, cos * inverse_zoom
    # Pixel -> normalised: x_n = x_p / (width / 2) about the centre (align_corners=False).
    half_w, half_h = width / 2, height / 2
    tx, ty = shift_x.float(), shift_y.float()
    theta = torch.stack(
        [
            torch.stack([a, b * half_h / half_w, -(a * tx + b * ty) / half_w], dim=-1),
            torch.stack([c * half_w / half_h, d, -(c * tx + d * ty) / half_h], dim=-1),
        ],
        dim=1,
    )
    return theta  # (N, 2, 3)


def random_motion(
    count: int,
    height: int,
    width: int,
    *,
    max_shift: float = MAX_SHIFT_PX,
    max_degrees: float = MAX_DEGREES,
    max_zoom: float = MAX_ZOOM,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(count, 2, 3): uniform shifts in ±max_shift px, rotations in ±max_degrees, zoom in [1/(1+z), 1+z]."""
    draws = torch.rand(4, count, generator=generator, device=device) * 2 - 1  # in [-1, 1)
    zoom = torch.exp(draws[3] * math.log1p(max_zoom))
    return motion_theta(draws[0] * max_shift, draws[1] * max_shift, draws[2] * max_degrees, zoom, height, width)


def warp(images: torch.Tensor, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C, H, W) moved by theta (B, 2, 3) with bilinear sampling -> (warped, valid).

    valid (B, 1, H, W) is 1 where the pixel was sampled from inside the frame (between the
    outermost pixel centres) and 0 where it came from outside, which is unknown content.
    """
    batch, _, height, width = images.shape
    grid = F.affine_grid(theta.to(images.dtype), [batch, 1, height, width], align_corners=False)  # (B, H, W, 2)
    warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # Outermost pixel centres sit at ±(1 - 1/size); a small tolerance keeps exact integer shifts valid.
    limit = grid.new_tensor([1 - 1 / width, 1 - 1 / height]) + 1e-4
    valid = (grid.abs() <= limit).all(dim=-1).unsqueeze(1).to(images.dtype)
    return warped, valid


def masked_mse(value: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared difference over the valid pixels (all channels), in float32."""
    error = (value.float() - target.float()).pow(2)
    if valid is None:
        return error.mean()
    valid = valid.float()
    return (error * valid).sum() / (valid.sum() * error.shape[1]).clamp_min(1.0)


def add_noise(photos: torch.Tensor, std: float = NOISE_STD) -> torch.Tensor:
    """photos plus gaussian noise, clipped to [0, 1] as a sensor would."""
    return (photos + std * torch.randn_like(photos)).clamp(0, 1)


def stability_losses(
    transformer: torch.nn.Module,
    photos: torch.Tensor,
    stylized: torch.Tensor,
    *,
    style: torch.Tensor | None = None,
    motion: bool = True,
    noise: bool = True,
) -> dict[str, torch.Tensor]:
    """The unweighted 'temporal' (motion) and 'noise' terms for photos and their stylization.

    With both terms on (and at least two photos) the first half of the batch gets the moved
    view and the second half the noisy one, so the two terms together cost one transformer pass
    over the batch, not two. The second views are stylized in one call of the transformer (its
    instance norms are per image, so batching them changes nothing but the speed), each in the
    style its photo had (``style``: a painter network's (B,) indices).
    """
    count = len(photos)
    split = count // 2 if motion and noise and count >= 2 else None
    moving = slice(0, split if split is not None else count)
    noisy = slice(split if split is not None else 0, count)
    views, sizes, view_styles, losses = [], [], [], {}
    if motion:
        theta = random_motion(moving.stop - moving.start, photos.shape[-2], photos.shape[-1], device=photos.device)
        moved, valid = warp(photos[moving], theta)
        views.append(moved)
        sizes.append(len(moved))
        view_styles.append(style[moving] if style is not None else None)
    if noise:
        views.append(add_noise(photos[noisy]))
        sizes.append(len(views[-1]))
        view_styles.append(style[noisy] if style is not None else None)
    if not views:
        return losses
    styles = torch.cat(view_styles) if style is not None else None
    stacked = torch.cat(views)
    outputs = list((transformer(stacked) if styles is None else transformer(stacked, styles)).split(sizes))
    if motion:
        target, _ = warp(stylized[moving].float(), theta)
        losses["temporal"] = masked_mse(outputs.pop(0), target, valid)
    if noise:
        losses["noise"] = masked_mse(outputs.pop(0), stylized[noisy])
    return losses
