r"""The seed paper's augmentation for face images: rotation within $\pm 15°$, horizontal flips,
brightness within $\pm 20\%$; batched on the images' device and reproducible under a generator.

For each image independently: $\theta \sim U(-15°, 15°)$ (bilinear resampling; pixels that
rotate in from outside the frame take the nearest edge value), a flip with probability 1/2, and
a brightness factor $b \sim U(0.8, 1.2)$, $x \leftarrow \mathrm{clip}(b\,x, 0, 1)$. Inputs are
`(n, c, h, w)` in [0, 1]; outputs keep the shape and stay in [0, 1].
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ["Augment"]


class Augment:
    """`Augment()(images, generator)`: the paper's random rotation, flip and brightness.

    Args:
        rotation: largest rotation in degrees (0: none).
        flip: probability of a horizontal flip.
        brightness: largest relative brightness change (0.2: factors in [0.8, 1.2]).
    """

    def __init__(self, rotation: float = 15.0, flip: float = 0.5, brightness: float = 0.2):
        if rotation < 0 or not 0 <= flip <= 1 or not 0 <= brightness < 1:
            raise ValueError(
                f"Augment: rotation >= 0, flip in [0, 1], brightness in [0, 1); got rotation "
                f"{rotation}, flip {flip}, brightness {brightness}"
            )
        self.rotation, self.flip, self.brightness = float(rotation), float(flip), float(brightness)

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if images.dim() != 4:
            raise ValueError(f"images: expected (n, c, h, w), got shape {tuple(images.shape)}")
        n, device, dtype = images.shape[0], images.device, images.dtype

        def uniform(low: float, high: float) -> Tensor:
            return low + (high - low) * torch.rand(n, generator=generator, device=device, dtype=dtype)

        out = images
        if self.rotation > 0:
            angle = uniform(-self.rotation, self.rotation) * (math.pi / 180)
            cos, sin, zero = angle.cos(), angle.sin(), torch.zeros_like(angle)
            theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
            grid = F.affine_grid(theta, list(images.shape), align_corners=False)
            out = F.grid_sample(out, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if self.flip > 0:
            flipped = torch.rand(n, generator=generator, device=device) < self.flip
            out = torch.where(flipped.view(n, 1, 1, 1), out.flip(-1), out)
        if self.brightness > 0:
            out = out * uniform(1 - self.brightness, 1 + self.brightness).view(n, 1, 1, 1)
        return out.clamp(0.0, 1.0)
