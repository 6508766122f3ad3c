r"""Drive signals for the gene ODE, and the importance score of Eq. 2.

Drive (the input $u$ of Eq. 1), from the gradients $g_t = \partial L/\partial w^{\text{eff}}_t$
recorded over the $T$ backward passes since the last integration:

- `taylor` (default): $u = |w| \cdot \sqrt{\tfrac1T\sum_t g_t^2}$, a first-order Taylor saliency
  with the root-mean-square gradient (it equals $\overline{|g w|}$ when $|g|$ is steady, and is
  $|w|$ times the root of the empirical Fisher diagonal). A pruned connection has $w = 0$; it is
  driven by its dense gradient at the layer's mean active magnitude,
  $u = \overline{|w|}_{\text{active}} \sqrt{\overline{g^2}}$, so it can earn its way back.
- `grad`: $u = \sqrt{\overline{g^2}}$.
- `magnitude`: $u = |w|$ (zero for pruned connections).

For unit genes (one per output unit or channel) the drive is the mean over the unit's fan-in.
With `normalize_drive`, $u$ is divided by its mean over the layer, so that the Hill constant
$K_u = 1$ means "the layer's average saliency".

Eq. 2: $S_c = \hat{|w_c|} + \alpha \hat p_c + \beta\, \mathrm{Time}$, where $\hat x$ is $x$
normalised per layer (see `normalize_per_layer`).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["DRIVES", "connection_drive", "reduce_to_units", "normalize_per_layer", "importance"]

DRIVES = ("taylor", "grad", "magnitude")


def connection_drive(kind: str, weight: Tensor, grad_sq_sum: Tensor, n_backward: int,
                     active: Tensor) -> Tensor:
    """Per-connection drive, weight-shaped.

    Args:
        kind: one of `DRIVES`.
        weight: the stored weight; pruned entries are zero (the Regulator keeps them so).
        grad_sq_sum: $\\sum_t g_t^2$ over the recorded backward passes, weight-shaped.
        n_backward: number of backward passes recorded ($T$); 0 gives zero gradient terms.
        active: boolean, broadcastable to the weight: True where the connection is unpruned.
    """
    if kind not in DRIVES:
        raise ValueError(f"drive: {kind!r} is unknown; choose one of {DRIVES}")
    magnitude = weight.abs()
    if kind == "magnitude":
        return magnitude
    if n_backward == 0:
        return torch.zeros_like(weight)
    rms = grad_sq_sum.div(n_backward).sqrt_()
    if kind == "grad":
        return rms
    per_gene = weight.numel() // active.numel()
    n_active = active.sum() * per_gene
    # Pruned weights are zero, so the sum of |w| is the sum over active ones. A layer with
    # nothing active falls back to 0 and is driven by nothing but its basal rate.
    reference = magnitude.sum() / n_active.clamp_min(1)
    return rms.mul_(torch.where(active, magnitude, reference))


def reduce_to_units(x: Tensor) -> Tensor:
    """Mean over every axis but the first (the unit / output-channel axis)."""
    return x.reshape(x.shape[0], -1).mean(dim=1) if x.dim() > 1 else x


def normalize_per_layer(x: Tensor, slices: list[slice], how: str) -> Tensor:
    r"""Normalise a flat, non-negative per-gene quantity within each layer's slice.

    - `mean`: $x / \bar x_{\text{layer}}$, the mean over all of the layer's genes, pruned ones
      included (their magnitude is zero), so remaining connections score higher as a layer
      thins;
    - `max`: $x / \max_{\text{layer}} x$, into $[0, 1]$;
    - `none`: unchanged.

    A layer whose reference is 0 (all of it zero) stays 0.
    """
    if how == "none":
        return x
    if how not in ("mean", "max"):
        raise ValueError(f"normalization: {how!r} is unknown; choose 'mean', 'max' or 'none'")
    out = torch.empty_like(x)
    tiny = torch.finfo(x.dtype).tiny
    for s in slices:  # layers are contiguous slices: no gather/scatter over genes
        part = x[s]
        reference = part.mean() if how == "mean" else part.max()
        torch.div(part, reference.clamp_min(tiny), out=out[s])
    return out


def importance(magnitude: Tensor, expression: Tensor, slices: list[slice], alpha: float, beta: float,
               time: float, normalization: str = "mean") -> Tensor:
    r"""Eq. 2 for every gene: $S = \hat{|w|} + \alpha \hat p + \beta\,\mathrm{Time}$.

    Args:
        magnitude: $|w|$ per gene (the fan-in mean of $|w|$ for unit genes), shape `(n_genes,)`.
        expression: protein level $p$ per gene, shape `(n_genes,)`.
        slices: each layer's contiguous slice of the flat gene axis.
        time: training progress in $[0, 1]$.
    """
    w_hat = normalize_per_layer(magnitude, slices, normalization)
    p_hat = normalize_per_layer(expression.clamp_min(0.0), slices, normalization)
    return torch.add(w_hat, p_hat, alpha=alpha).add_(beta * time)
