r"""Synapse-level constraints as weight parametrizations (BioNIC's biology, on any layer).

- `DaleSign`: Dale's law with graded inhibition. Every presynaptic unit is excitatory or
  inhibitory, and all its outgoing weights share that sign:
  $w^{\text{eff}}_{ij} = |w_{ij}|\, s_j$ with $s_j = +1$ (excitatory) or $s_j = -g$ (inhibitory,
  $g$ the layer's inhibitory gain). Training changes magnitudes only; signs never flip.
- `SynapticNoise`: $w^{\text{eff}} = w\,(1 + \sigma_m \varepsilon) + \sigma_a \varepsilon'$ with fresh
  standard normal $\varepsilon, \varepsilon'$ at every forward pass in training mode; the identity in
  evaluation mode.

`apply_dale(module, ...)` and `apply_noise(module, ...)` register them with
`torch.nn.utils.parametrize`; register them *before* `biogrn.regulate`, so the regulator's gate
acts on the constrained weight ($w^{\text{eff}} = \mathrm{gate}(\mathrm{noise}(\mathrm{Dale}(w)))$).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

__all__ = ["DaleSign", "FixedMask", "SynapticNoise", "apply_dale", "apply_noise", "dale_signs"]


def dale_signs(n_pre: int, inhibitory_fraction: float, generator: torch.Generator | None = None) -> Tensor:
    """+1 / -1 per presynaptic unit: `round(fraction * n_pre)` inhibitory units, chosen at random."""
    if not 0 <= inhibitory_fraction <= 1:
        raise ValueError(f"inhibitory_fraction: {inhibitory_fraction} is outside [0, 1]")
    signs = torch.ones(n_pre)
    signs[torch.randperm(n_pre, generator=generator)[: round(inhibitory_fraction * n_pre)]] = -1
    return signs


class DaleSign(nn.Module):
    """$w \\mapsto |w| \\odot s$, with $s$ per presynaptic unit (the weight's second axis).

    Args:
        signs: `(n_pre,)` of +1 / -1.
        inhibitory_gain: $g > 0$, the magnitude factor of inhibitory weights (graded inhibition).
    """

    def __init__(self, signs: Tensor, inhibitory_gain: float = 1.0):
        super().__init__()
        if inhibitory_gain <= 0:
            raise ValueError(f"inhibitory_gain: {inhibitory_gain} must be > 0")
        if not torch.all((signs == 1) | (signs == -1)):
            raise ValueError("signs: every entry must be +1 or -1")
        self.register_buffer("signs", signs.float())
        self.inhibitory_gain = float(inhibitory_gain)

    def factor(self, weight: Tensor) -> Tensor:
        scale = torch.where(self.signs > 0, 1.0, -self.inhibitory_gain).to(weight.dtype)
        return scale.view(1, -1, *([1] * (weight.dim() - 2)))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() < 2 or weight.shape[1] != len(self.signs):
            raise ValueError(
                f"DaleSign: weight {tuple(weight.shape)} needs {len(self.signs)} presynaptic units on axis 1"
            )
        return weight.abs() * self.factor(weight)

    @property
    def excitatory(self) -> Tensor:
        return self.signs > 0


class FixedMask(nn.Module):
    """$w \\mapsto w \\odot A$ for a fixed structural mask $A$ (a connectome), with or without a regulator."""

    def __init__(self, mask: Tensor):
        super().__init__()
        self.register_buffer("mask", mask.bool())

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.mask.to(weight.dtype)


class SynapticNoise(nn.Module):
    """Additive and multiplicative Gaussian noise on the weight, in training mode only."""

    def __init__(self, additive: float = 0.0, multiplicative: float = 0.0):
        super().__init__()
        if additive < 0 or multiplicative < 0:
            raise ValueError(f"additive and multiplicative must be >= 0; got {additive}, {multiplicative}")
        self.additive, self.multiplicative = float(additive), float(multiplicative)

    def forward(self, weight: Tensor) -> Tensor:
        if not self.training or (self.additive == 0 and self.multiplicative == 0):
            return weight
        out = weight
        if self.multiplicative:
            out = out * (1 + self.multiplicative * torch.randn_like(weight))
        if self.additive:
            out = out + self.additive * torch.randn_like(weight)
        return out


def apply_dale(
    module: nn.Module,
    inhibitory_fraction: float = 0.2,
    inhibitory_gain: float = 1.0,
    generator: torch.Generator | None = None,
    name: str = "weight",
) -> DaleSign:
    """Put `module.<name>` under Dale's law; returns the parametrization (its `signs`)."""
    weight = getattr(module, name)
    dale = DaleSign(dale_signs(weight.shape[1], inhibitory_fraction, generator).to(weight.device), inhibitory_gain)
    parametrize.register_parametrization(module, name, dale)
    return dale


def apply_noise(
    module: nn.Module, additive: float = 0.0, multiplicative: float = 0.0, name: str = "weight"
) -> SynapticNoise:
    """Add synaptic noise to `module.<name>` during training; returns the parametrization."""
    noise = SynapticNoise(additive, multiplicative)
    parametrize.register_parametrization(module, name, noise)
    return noise
