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
        weight: the stored weight (pruned entries are zero).
        grad_sq_sum: $\\sum_t g_t^2$ over the recorded backward passes, weight-shaped.
        n_backward: number of backward passes recorded ($T$); 0 gives zero gradient terms.
        active: boolean, weight-shaped (broadcastable): True where the connection is unpruned.
    """
    if kind == "magnitude":
        return weight.abs()
    rms = (grad_sq_sum / n_backward).sqrt() if n_backward > 0 else torch.zeros_like(weight)
    if kind == "grad":
        return rms
    if kind != "taylor":
        raise ValueError(f"drive: {kind!r} is unknown; choose one of {DRIVES}")
    magnitude = weight.abs()
    active = active.expand_as(weight)
    n_active = active.sum()
    # A layer with nothing active falls back to the mean magnitude of every entry.
    reference = torch.where(n_active > 0, (magnitude * active).sum() / n_active.clamp_min(1), magnitude.mean())
    return rms * torch.where(active, magnitude, reference)


def reduce_to_units(x: Tensor) -> Tensor:
    """Mean over every axis but the first (the unit / output-channel axis)."""
    return x.reshape(x.shape[0], -1).mean(dim=1) if x.dim() > 1 else x


def normalize_per_layer(x: Tensor, layer_of_gene: Tensor, n_layers: int, how: str) -> Tensor:
    r"""Normalise a flat per-gene quantity within each layer.

    - `mean`: $x / \bar x_{\text{layer}}$, the mean over all of the layer's genes, pruned ones
      included (their magnitude is zero), so remaining connections score higher as a layer
      thins;
    - `max`: $x / \max_{\text{layer}} x$, into $[0, 1]$;
    - `none`: unchanged.

    A layer whose reference is 0 is left at 0.
    """
    if how == "none":
        return x
    if how == "mean":
        sums = torch.zeros(n_layers, dtype=x.dtype, device=x.device).index_add_(0, layer_of_gene, x)
        counts = torch.bincount(layer_of_gene, minlength=n_layers).to(x.dtype)
        reference = sums / counts
    elif how == "max":
        reference = torch.zeros(n_layers, dtype=x.dtype, device=x.device).scatter_reduce_(
            0, layer_of_gene, x, reduce="amax", include_self=True)
    else:
        raise ValueError(f"normalization: {how!r} is unknown; choose 'mean', 'max' or 'none'")
    reference = reference[layer_of_gene]
    return torch.where(reference > 0, x / reference.clamp_min(torch.finfo(x.dtype).tiny), torch.zeros_like(x))


def importance(magnitude: Tensor, expression: Tensor, layer_of_gene: Tensor, n_layers: int,
               alpha: float, beta: float, time: float, normalization: str = "mean") -> Tensor:
    r"""Eq. 2 for every gene: $S = \hat{|w|} + \alpha \hat p + \beta\,\mathrm{Time}$.

    Args:
        magnitude: $|w|$ per gene (the fan-in mean of $|w|$ for unit genes), shape `(n_genes,)`.
        expression: protein level $p$ per gene, shape `(n_genes,)`.
        layer_of_gene: layer index of each gene, shape `(n_genes,)`.
        time: training progress in $[0, 1]$.
    """
    w_hat = normalize_per_layer(magnitude, layer_of_gene, n_layers, normalization)
    p_hat = normalize_per_layer(expression.clamp_min(0.0), layer_of_gene, n_layers, normalization)
    return w_hat + alpha * p_hat + beta * time
